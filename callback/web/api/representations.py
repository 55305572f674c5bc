"""The JSON representations of contract 4."""

from typing import Any

from callback.cases import allowed_moves, is_overdue
from callback.clock import utcnow
from callback.formatting import mask_phone
from callback.models import (
    ORDER_FIELDS,
    CallAttempt,
    CallbackTask,
    Finding,
    Penalty,
    SupervisionCase,
    WorkOrder,
)
from callback.web.api.common import local_iso
from callback.web.labels import label

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


def masked_snapshot(snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """Return an order snapshot with its phone number masked: evidence is read for dates, not to call."""
    snapshot = dict(snapshot or {})
    if snapshot.get("customer_phone"):
        snapshot["customer_phone"] = mask_phone(snapshot["customer_phone"])
    return snapshot


def timeline_json(order: WorkOrder) -> list[dict[str, Any]]:
    """Represent the stages the order went through, in order."""
    return [{"stage": stage, "at": local_iso(moment)} for stage, moment in order.timeline()]


def task_json(task: CallbackTask, *, full_phone: bool = False, with_order: bool = True) -> dict[str, Any]:
    """Represent a task; the phone number is masked unless the caller holds the claim."""
    body: dict[str, Any] = {
        "id": task.id,
        "kind": task.kind,
        "state": task.state,
        "state_label": label("task_state", task.state),
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


def finding_json(finding: Finding) -> dict[str, Any]:
    """Represent one finding."""
    return {
        "id": finding.id,
        "category": finding.category,
        "reason": finding.reason,
        "detail": finding.detail,
        "case_id": finding.case_id,
    }


def attempt_json(attempt: CallAttempt) -> dict[str, Any]:
    """Represent one call attempt with its answers and findings."""
    return {
        "id": attempt.id,
        "task_id": attempt.task_id,
        "channel": attempt.channel,
        "disposition": attempt.disposition,
        "aapor_code": attempt.aapor_code,
        "started_at": local_iso(attempt.started_at),
        "ended_at": local_iso(attempt.ended_at),
        "callback_at": local_iso(attempt.callback_at),
        "note": attempt.note,
        "answers": attempt.answer_map(),
        "findings": [finding_json(finding) for finding in attempt.findings],
    }


def penalty_json(penalty: Penalty) -> dict[str, Any]:
    """Represent one penalty (考核)."""
    return {
        "id": penalty.id,
        "person": penalty.person,
        "amount_yuan": float(penalty.amount_yuan),
        "reason": penalty.reason,
        "recorded_at": local_iso(penalty.recorded_at),
        "recorded_by_id": penalty.recorded_by_id,
    }


def case_json(case: SupervisionCase, *, full: bool = False) -> dict[str, Any]:
    """Represent a case; `full` adds the evidence and history."""
    body: dict[str, Any] = {
        "id": case.id,
        "order_no": case.order.order_no,
        "category": case.category,
        "state": case.state,
        "opened_at": local_iso(case.opened_at),
        "due_at": local_iso(case.due_at),
        "overdue": is_overdue(case, utcnow()),
        "allowed_moves": allowed_moves(case),
        "referred_to_discipline": case.referred_to_discipline,
        "referred_at": local_iso(case.referred_at),
        "description": case.description,
        "service_center": case.order.service_center,
        "account_manager": case.order.account_manager,
        "assignee_id": case.assignee_id,
        "letter_no": case.letter_no,
        "letter_issued_at": local_iso(case.letter_issued_at),
        "letter_requirements": case.letter_requirements,
        "letter_deadline": case.letter_deadline.isoformat() if case.letter_deadline else None,
        "closed_at": local_iso(case.closed_at),
        "evidence": [],
        "penalties": [penalty_json(penalty) for penalty in case.penalties],
        "history": [],
    }
    if full:
        body["evidence"] = [
            {
                "id": item.id,
                "attempt_id": item.attempt_id,
                "finding_id": item.finding_id,
                "answers": item.answers,
                "order_snapshot": masked_snapshot(item.order_snapshot),
                "detail": item.detail,
                "added_at": local_iso(item.added_at),
            }
            for item in case.evidence
        ]
        body["history"] = [
            {
                "at": local_iso(event.at),
                "actor_id": event.actor_id,
                "action": event.action,
                "from": event.from_state,
                "to": event.to_state,
                "note": event.note,
            }
            for event in case.history
        ]
    return body
