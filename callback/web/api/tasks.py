"""Callback tasks (contract 4.2): list, claim, release, record attempts."""

from datetime import datetime
from typing import Any

from flask import Response, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from callback.audit import Actor, AuditEntry, record
from callback.clock import utcnow
from callback.extensions import db
from callback.models import CallAttempt, CallbackTask, Role, TaskKind, TaskState, WorkOrder
from callback.settings import current_settings
from callback.web.api.blueprint import bp
from callback.web.api.common import choice_arg, json_body, paginated, roles_required
from callback.web.api.representations import attempt_json, callers_representation, finding_json, task_json
from callback.web.errors import ApiError
from callback.worklist import claim as take_claim
from callback.worklist import record_attempt, release

TASK_READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


@bp.get("/tasks")
@roles_required(*TASK_READERS)
def list_tasks() -> dict[str, Any]:
    """List tasks, most urgent first, filtered by state, kind and order number."""
    # The slots tried come from the attempts: one more query per page, reading only their slot.
    query = (
        select(CallbackTask)
        .options(selectinload(CallbackTask.attempts).load_only(CallAttempt.slot))
        .order_by(CallbackTask.due_by, CallbackTask.id)
    )
    state = choice_arg("state", [s.value for s in TaskState])
    kind = choice_arg("kind", [k.value for k in TaskKind])
    if state:
        query = query.where(CallbackTask.state == state)
    if kind:
        query = query.where(CallbackTask.kind == kind)
    order_no = request.args.get("order_no") or None
    if order_no:
        query = query.join(WorkOrder).where(WorkOrder.order_no == order_no)
    return paginated(query, task_json)


def _now() -> datetime:
    return utcnow()


@bp.post("/tasks/claim")
@roles_required(*TASK_READERS)
def claim() -> Response | dict[str, Any]:
    """Lease the most urgent workable task to the caller: 200 with it, 204 when none is workable.

    A caller who holds a live claim gets that task again (200, `already_held: true`): one claim at a time.
    """
    kind = None
    if request.get_data(cache=True).strip():
        body = json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "malformed_json", _("The body must be a JSON object."))
        kind = body.get("kind")
        if kind is not None and kind not in [k.value for k in TaskKind]:
            message = _("must be one of %(choices)s", choices=", ".join(k.value for k in TaskKind))
            raise ApiError(422, "invalid", message, [{"field": "kind", "message": message}])
    now = _now()
    taken = take_claim(db.session, g.api_user.id, now=now, settings=current_settings(), kind=kind)
    if taken.task is not None:  # the answer carries the full number: a read of personal data, audited
        record(
            db.session,
            Actor(user_id=g.api_user.id),
            now,
            [
                AuditEntry(
                    "task.phone_read", "callback_task", taken.task.id, {"order_id": taken.task.order_id}
                )
            ],
        )
    db.session.commit()
    if taken.task is None:
        return Response(status=204)
    return {**task_json(taken.task, full_phone=True), "already_held": taken.already_held}


@bp.post("/tasks/<int:task_id>/release")
@roles_required(*TASK_READERS)
def release_task(task_id: int) -> dict[str, Any]:
    """Hand a claimed task back to the queue."""
    task = release(db.session, task_id, g.api_user.id, now=_now())
    db.session.commit()
    return task_json(task)


@bp.post("/tasks/<int:task_id>/attempts")
@roles_required(*TASK_READERS)
def record_task_attempt(task_id: int) -> tuple[dict[str, Any], int]:
    """Record one call by the claim's holder, with its answers; answer the findings and new cases."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", _("The body must be a JSON object."))
    outcome = record_attempt(
        db.session,
        task_id,
        g.api_user.id,
        disposition=body.get("disposition"),
        answers=body.get("answers"),
        callback_at=body.get("callback_at"),
        note=body.get("note"),
        now=_now(),
        settings=current_settings(),
    )
    db.session.commit()
    return {
        "attempt": attempt_json(outcome.attempt, callers_representation()),
        "task": task_json(outcome.task),
        "findings": [finding_json(finding) for finding in outcome.findings],
        "cases_opened": [{"id": case.id, "category": case.category} for case in outcome.cases_opened],
    }, 201
