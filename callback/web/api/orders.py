"""Work orders in (contract 4.1): upsert one, upsert a batch, read one."""

from typing import Any

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from callback.audit import Actor, AuditEntry, record
from callback.clock import utcnow
from callback.extensions import db
from callback.intake.service import ItemResult, rejected, upsert_orders
from callback.intake.validation import ValidOrder, validate_order
from callback.models import Role, SupervisionCase, WorkOrder
from callback.settings import current_settings
from callback.web.api.blueprint import bp
from callback.web.api.common import json_body, roles_required
from callback.web.api.representations import callers_representation, order_detail_json
from callback.web.errors import ApiError
from callback.web.visibility import restrict_cases, restrict_orders

WRITERS = (Role.INTEGRATION, Role.ADMIN)
# Discipline inspectors read only the orders that have a case referred to them (callback.web.visibility).
READERS = (Role.INTEGRATION, Role.ADMIN, Role.SUPERVISOR, Role.DISCIPLINE)


@bp.put("/work-orders/<order_no>")
@roles_required(*WRITERS)
def put_work_order(order_no: str) -> dict[str, Any]:
    """Create or update one order."""
    item = json_body()
    if not isinstance(item, dict):
        raise ApiError(400, "malformed_json", _("The body must be one JSON object: the order."))
    if "order_no" in item and item["order_no"] != order_no:
        message = _("must equal the order number in the address (%(order_no)s)", order_no=order_no)
        raise ApiError(422, "order_no_mismatch", message, [{"field": "order_no", "message": message}])
    return {"results": _upsert([{**item, "order_no": order_no}])}


@bp.post("/work-orders")
@roles_required(*WRITERS)
def post_work_orders() -> dict[str, Any]:
    """Create or update a batch of orders, each on its own."""
    items = json_body()
    if not isinstance(items, list):
        raise ApiError(400, "malformed_json", _("The body must be a JSON array of orders."))
    limit = current_settings().api_max_batch
    if len(items) > limit:
        raise ApiError(413, "too_large", _("Send at most %(limit)d orders per request.", limit=limit))
    return {"results": _upsert(items)}


def _upsert(items: list[Any]) -> list[dict[str, Any]]:
    """Validate every item, write the valid ones and answer one result per item, in order."""
    settings = current_settings()
    now = utcnow()
    checked = [validate_order(item, settings.tz, now) for item in items]
    valid = [item for item in checked if isinstance(item, ValidOrder)]
    actor = Actor(user_id=g.api_user.id, source="api")
    try:
        written = upsert_orders(db.session, valid, now=now, settings=settings, actor=actor)
        db.session.commit()
    except IntegrityError:
        # Another request created one of these orders meanwhile: now they exist, so update them.
        db.session.rollback()
        current_app.logger.info("concurrent order creation; retrying the batch once")
        written = upsert_orders(db.session, valid, now=now, settings=settings, actor=actor)
        db.session.commit()
    outcomes = iter(written)
    results: list[ItemResult] = []
    for raw, check in zip(items, checked, strict=True):
        if isinstance(check, ValidOrder):
            results.append(next(outcomes))
        else:
            results.append(rejected(raw.get("order_no") if isinstance(raw, dict) else None, check))
    return [result.as_dict() for result in results]


@bp.get("/work-orders/<order_no>")
@roles_required(*READERS)
def get_work_order(order_no: str) -> dict[str, Any]:
    """Show one order with its stage timeline, its tasks and, to those who may see them, its cases."""
    role = g.api_user.role
    order = db.session.scalar(restrict_orders(select(WorkOrder), role).where(WorkOrder.order_no == order_no))
    if order is None:
        raise ApiError(404, "not_found", _("No work order %(order_no)s.", order_no=order_no))
    shown = callers_representation()
    if shown.full_phone:  # the answer carries the full number: a read of personal data, audited
        record(
            db.session,
            Actor(user_id=g.api_user.id),
            utcnow(),
            [AuditEntry("order.phone_read", "work_order", order.id, {"order_no": order.order_no})],
        )
        db.session.commit()
    cases = []
    if shown.cases:
        cases = list(
            db.session.scalars(
                restrict_cases(select(SupervisionCase), role)
                .where(SupervisionCase.order_id == order.id)
                .order_by(SupervisionCase.id)
            )
        )
    return order_detail_json(order, cases, shown)
