"""Supervision cases (contract 4.3): list and read; the workflow comes with the case module."""

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import select

from callback.extensions import db
from callback.models import CaseCategory, CaseState, Role, SupervisionCase, WorkOrder
from callback.settings import current_settings
from callback.web.api import bp
from callback.web.api.common import choice_arg, paginated, roles_required
from callback.web.api.representations import case_json
from callback.web.errors import ApiError

CASE_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        message = _("must be a date such as 2026-03-01")
        raise ApiError(
            400, "bad_parameter", f"{name}: {message}", [{"field": name, "message": message}]
        ) from None


def _visible_cases() -> Any:
    """Cases the caller may see: discipline inspectors see referred cases only."""
    query = select(SupervisionCase).join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
    if g.api_user.role == Role.DISCIPLINE:
        query = query.where(SupervisionCase.referred_to_discipline.is_(True))
    return query


@bp.get("/cases")
@roles_required(*CASE_READERS)
def list_cases() -> dict[str, Any]:
    """List cases, newest first, filtered by state, category, service centre and opening date."""
    query = _visible_cases().order_by(SupervisionCase.opened_at.desc(), SupervisionCase.id.desc())
    state = choice_arg("state", [s.value for s in CaseState])
    category = choice_arg("category", [c.value for c in CaseCategory])
    if state:
        query = query.where(SupervisionCase.state == state)
    if category:
        query = query.where(SupervisionCase.category == category)
    center = request.args.get("service_center") or None
    if center:
        query = query.where(WorkOrder.service_center == center)
    tz = current_settings().tz
    start, end = _date_arg("from"), _date_arg("to")
    if start:
        query = query.where(SupervisionCase.opened_at >= datetime.combine(start, time(), tzinfo=tz))
    if end:
        query = query.where(
            SupervisionCase.opened_at < datetime.combine(end + timedelta(days=1), time(), tzinfo=tz)
        )
    return paginated(query, case_json)


@bp.get("/cases/<int:case_id>")
@roles_required(*CASE_READERS)
def get_case(case_id: int) -> dict[str, Any]:
    """Show one case with its evidence and history."""
    case = db.session.scalar(_visible_cases().where(SupervisionCase.id == case_id))
    if case is None:
        raise ApiError(404, "not_found", _("No case %(id)d.", id=case_id))
    return case_json(case, full=True)
