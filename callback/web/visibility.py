"""Which orders and cases a role may open: one rule for the pages and the API (docs/privacy.md).

Discipline inspectors (纪检) work integrity cases referred to them: they see those cases, and the orders
that have one, and nothing else. Every other role that may read orders or cases sees all of them.
"""

from typing import Any

from sqlalchemy import ColumnElement, exists, select

from callback.models import Role, SupervisionCase, WorkOrder


def has_referred_case() -> ColumnElement[bool]:
    """Return the condition that a WorkOrder row has a case referred to discipline inspection."""
    return exists(
        select(SupervisionCase.id).where(
            SupervisionCase.order_id == WorkOrder.id, SupervisionCase.referred_to_discipline.is_(True)
        )
    )


def restrict_orders(query: Any, role: str) -> Any:
    """Narrow a query over work orders to those the role may open."""
    if role == Role.DISCIPLINE:
        return query.where(has_referred_case())
    return query


def restrict_cases(query: Any, role: str) -> Any:
    """Narrow a query over supervision cases to those the role may open."""
    if role == Role.DISCIPLINE:
        return query.where(SupervisionCase.referred_to_discipline.is_(True))
    return query
