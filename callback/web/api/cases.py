"""Supervision cases (contract 4.3): list, read, open by hand, move, penalise, refer."""

from datetime import date
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import select

from callback import cases
from callback.audit import Actor
from callback.case_filter import CaseFilter
from callback.clock import utcnow
from callback.extensions import db
from callback.models import CaseCategory, CaseState, Role, SupervisionCase, WorkOrder
from callback.settings import current_settings
from callback.web.api.blueprint import bp
from callback.web.api.common import choice_arg, json_body, paginated, roles_required
from callback.web.api.representations import callers_representation, case_json, penalty_json
from callback.web.errors import ApiError
from callback.web.visibility import restrict_cases

CASE_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)
CASE_WORKERS = (Role.SUPERVISOR, Role.ADMIN)


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
    return restrict_cases(query, g.api_user.role)


@bp.get("/cases")
@roles_required(*CASE_READERS)
def list_cases() -> dict[str, Any]:
    """List cases, newest first, filtered by state, category, service centre and opening date."""
    query = _visible_cases().order_by(SupervisionCase.opened_at.desc(), SupervisionCase.id.desc())
    start, end = _date_arg("from"), _date_arg("to")
    if start and end and start > end:
        message = _("must not be after 'to'")
        raise ApiError(400, "bad_parameter", f"from: {message}", [{"field": "from", "message": message}])
    case_filter = CaseFilter(
        state=choice_arg("state", [s.value for s in CaseState]),
        category=choice_arg("category", [c.value for c in CaseCategory]),
        service_center=request.args.get("service_center") or None,
        overdue=request.args.get("overdue") in ("true", "1"),
        opened_from=start,
        opened_to=end,
    )
    query = case_filter.where(query, now=utcnow(), tz=current_settings().tz)
    shown = callers_representation()
    return paginated(query, lambda case: case_json(case, shown=shown))


@bp.get("/cases/<int:case_id>")
@roles_required(*CASE_READERS)
def get_case(case_id: int) -> dict[str, Any]:
    """Show one case with its evidence and history."""
    case = db.session.scalar(_visible_cases().where(SupervisionCase.id == case_id))
    if case is None:
        raise ApiError(404, "not_found", _("No case %(id)d.", id=case_id))
    return case_json(case, full=True, shown=callers_representation())


def _object_body() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", _("The body must be a JSON object."))
    return body


def _actor() -> Actor:
    return Actor(user_id=g.api_user.id, source="api")


@bp.post("/cases")
@roles_required(*CASE_WORKERS)
def open_case() -> tuple[dict[str, Any], int]:
    """Open a case by hand (site inspection, complaint)."""
    body = _object_body()
    case = cases.open_case_by_hand(
        db.session,
        order_no=body.get("order_no"),
        category=body.get("category"),
        description=body.get("description"),
        now=utcnow(),
        settings=current_settings(),
        actor=_actor(),
    )
    db.session.commit()
    return case_json(case, full=True, shown=callers_representation()), 201


@bp.post("/cases/<int:case_id>/transitions")
@roles_required(*CASE_WORKERS)
def move_case(case_id: int) -> dict[str, Any]:
    """Move a case along its workflow; issuing the letter numbers it."""
    body = _object_body()
    case = cases.transition(
        db.session,
        case_id,
        to=body.get("to"),
        note=body.get("note"),
        requirements=body.get("requirements"),
        deadline=body.get("deadline"),
        now=utcnow(),
        settings=current_settings(),
        actor=_actor(),
    )
    db.session.commit()
    return case_json(case, full=True, shown=callers_representation())


@bp.post("/cases/<int:case_id>/penalties")
@roles_required(*CASE_WORKERS)
def add_penalty(case_id: int) -> tuple[dict[str, Any], int]:
    """Record a penalty (考核) once the letter is issued."""
    body = _object_body()
    penalty = cases.add_penalty(
        db.session,
        case_id,
        person=body.get("person"),
        amount_yuan=body.get("amount_yuan"),
        reason=body.get("reason"),
        now=utcnow(),
        actor=_actor(),
    )
    db.session.commit()
    return penalty_json(penalty), 201


@bp.post("/cases/<int:case_id>/referral")
@roles_required(*CASE_WORKERS)
def refer_case(case_id: int) -> dict[str, Any]:
    """Refer a case to discipline inspection (纪检)."""
    body = _object_body() if request.get_data(cache=True).strip() else {}
    case = cases.refer_to_discipline(db.session, case_id, note=body.get("note"), now=utcnow(), actor=_actor())
    db.session.commit()
    return case_json(case, full=True, shown=callers_representation())
