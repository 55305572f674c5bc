"""The JSON representations of contract 4."""

from typing import Any

from callback.formatting import mask_phone
from callback.models import ORDER_FIELDS, CallbackTask, WorkOrder
from callback.web.api.common import local_iso

_ORDER_TIME_FIELDS = frozenset(name for name in ORDER_FIELDS if name.endswith("_at"))


def order_json(order: WorkOrder, *, full_phone: bool = True) -> dict[str, Any]:
    """Represent an order with the fields of contract 4.1."""
    body: dict[str, Any] = {"id": order.id}
    for name in ORDER_FIELDS:
        value = getattr(order, name)
        body[name] = local_iso(value) if name in _ORDER_TIME_FIELDS else value
    if not full_phone:
        body["customer_phone"] = mask_phone(order.customer_phone)
    body["updated_at"] = local_iso(order.source_updated_at)
    body["received_at"] = local_iso(order.created_at)
    body["changed_at"] = local_iso(order.updated_at)
    return body


def timeline_json(order: WorkOrder) -> list[dict[str, Any]]:
    """Represent the stages the order went through, in order."""
    return [{"stage": stage, "at": local_iso(moment)} for stage, moment in order.timeline()]


def task_json(task: CallbackTask, *, full_phone: bool = False, with_order: bool = True) -> dict[str, Any]:
    """Represent a task; the phone number is masked unless the caller holds the claim."""
    body: dict[str, Any] = {
        "id": task.id,
        "kind": task.kind,
        "state": task.state,
        "channel": task.channel,
        "not_before": local_iso(task.not_before),
        "due_by": local_iso(task.due_by),
        "attempt_count": task.attempt_count,
        "lease_expires_at": local_iso(task.lease_expires_at),
        "created_at": local_iso(task.created_at),
    }
    if with_order:
        body["order"] = order_json(task.order, full_phone=full_phone)
    return body
