"""Callback tasks (contract 4.2): the list; claiming and attempts come with the worklist."""

from typing import Any

from flask import request
from sqlalchemy import select

from callback.models import CallbackTask, Role, TaskKind, TaskState, WorkOrder
from callback.web.api import bp
from callback.web.api.common import choice_arg, paginated, roles_required
from callback.web.api.representations import task_json

TASK_READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


@bp.get("/tasks")
@roles_required(*TASK_READERS)
def list_tasks() -> dict[str, Any]:
    """List tasks, most urgent first, filtered by state, kind and order number."""
    query = select(CallbackTask).order_by(CallbackTask.due_by, CallbackTask.id)
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
