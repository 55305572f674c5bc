"""The case list's search, sort and grouping by order (issue 12), read by callback.web.cases.index.

Apart from the case desk's routes (callback.web.case_desk) so that neither blueprint imports the other.
"""

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from callback.extensions import db
from callback.models import CaseEvent, SupervisionCase, User, WorkOrder
from callback.text import without_control_characters

SEARCH_MAX = 100


# The sortable columns: the only names `sort` may take (anything else keeps the default order).
def _assignee_name() -> Any:
    return select(User.username).where(User.id == SupervisionCase.assignee_id).scalar_subquery()


SORTS: dict[str, Any] = {
    "id": lambda: SupervisionCase.id,
    "order_no": lambda: WorkOrder.order_no,
    "customer": lambda: WorkOrder.customer_name,
    "category": lambda: SupervisionCase.category,
    "state": lambda: SupervisionCase.state,
    # The case's copy of its order's centre and manager: the page is picked from the cases alone.
    "service_center": lambda: SupervisionCase.service_center,
    "account_manager": lambda: SupervisionCase.account_manager,
    "assignee": _assignee_name,
    "opened_at": lambda: SupervisionCase.opened_at,
    "due_at": lambda: SupervisionCase.due_at,
    "letter_no": lambda: SupervisionCase.letter_no,
}


def sort_args() -> tuple[str | None, str]:
    """Read `sort` and `dir` from the request; an unknown column is ignored."""
    sort = request.args.get("sort")
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    return (sort if sort in SORTS else None), direction


def order_clauses(sort: str | None, direction: str) -> list[Any] | None:
    """Return the ORDER BY of a chosen column (id breaks ties), or None for the default order."""
    if sort is None:
        return None
    column = SORTS[sort]()
    ordered = column.desc() if direction == "desc" else column.asc()
    return [ordered.nulls_last() if sort in ("assignee", "letter_no", "account_manager") else ordered,
            SupervisionCase.id.desc() if direction == "desc" else SupervisionCase.id]  # fmt: skip


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_text() -> str:
    """Read the search box: printable characters only, trimmed, at most SEARCH_MAX characters."""
    typed = without_control_characters(request.args.get("q") or "")  # NUL breaks PostgreSQL
    return typed.strip()[:SEARCH_MAX]


def search_clause(text: str) -> ColumnElement[bool]:
    """Match the order number, the customer's name, the case's description or any of its notes."""
    pattern = _like(text)
    columns: list[InstrumentedAttribute[Any]] = [
        WorkOrder.order_no,
        WorkOrder.customer_name,
        SupervisionCase.description,
    ]
    noted = exists().where(
        CaseEvent.case_id == SupervisionCase.id,
        CaseEvent.action == "note",
        CaseEvent.note.ilike(pattern, escape="\\"),
    )
    return or_(*(column.ilike(pattern, escape="\\") for column in columns), noted)


@dataclass(frozen=True)
class Group:
    """Cases of one order next to each other on the list."""

    order: WorkOrder
    cases: list[SupervisionCase]


def group_by_order(rows: list[SupervisionCase]) -> list[Group]:
    """Group the page's cases by order, each group where its first case falls in the chosen order."""
    groups: dict[int, Group] = {}
    for row in rows:
        if row.order_id not in groups:
            groups[row.order_id] = Group(row.order, [])
        groups[row.order_id].cases.append(row)
    return list(groups.values())


def case_counts_of_orders(visible: Select[Any], order_ids: list[int]) -> dict[int, int]:
    """Count each order's cases among `visible` (all of them, not only the page's)."""
    if not order_ids:
        return {}
    query = (
        visible.where(SupervisionCase.order_id.in_(order_ids))
        .with_only_columns(SupervisionCase.order_id, func.count())
        .group_by(SupervisionCase.order_id)
    )
    return dict(db.session.execute(query).all())
