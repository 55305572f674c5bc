"""The JSON representations of contract 4, chosen by the caller's role.

Every handler renders through these functions with the caller's `Representation`, so what a role sees is
decided here once (docs/privacy.md, "Who sees what"): the marketing system's integration token reads orders
and their tasks, never the customer's answers, the operators' notes, the cases or the staff penalised.
"""

from dataclasses import dataclass
from typing import Any

from flask import g

from callback.call_slots import slots_tried
from callback.cases import allowed_moves, is_overdue
from callback.clock import utcnow
from callback.formatting import mask_phone
from callback.labels import label
from callback.models import (
    ORDER_FIELDS,
    CallAttempt,
    CallbackTask,
    Finding,
    Penalty,
    Role,
    SupervisionCase,
    WorkOrder,
)
from callback.settings import current_settings
from callback.web.api.common import local_iso

_ORDER_TIME_FIELDS = frozenset(name for name in ORDER_FIELDS if name.endswith("_at"))


@dataclass(frozen=True)
class Representation:
    """What one role may see of orders, tasks, attempts, cases and reports in the API's answers."""

    full_phone: bool  # an order's customer_phone unmasked (the claim's holder always gets it)
    answers: bool  # the customer's answers, and the findings they produced
    notes: bool  # operators' free-text notes on attempts
    cases: bool  # supervision cases (an order's, and case reads)
    penalties: bool  # penalties (考核) with the names of the staff penalised
    report_details: bool  # the summary workbook's orders, cases and penalties sheets


EVERYTHING = Representation(
    full_phone=True, answers=True, notes=True, cases=True, penalties=True, report_details=True
)
# One row per role; a role missing here sees the least (NOTHING_PERSONAL).
NOTHING_PERSONAL = Representation(
    full_phone=False, answers=False, notes=False, cases=False, penalties=False, report_details=False
)
REPRESENTATIONS: dict[str, Representation] = {
    # The marketing system sent the orders (phone included) and reads them back with their callbacks'
    # progress; it has no part in supervision or discipline.
    Role.INTEGRATION: Representation(
        full_phone=True, answers=False, notes=False, cases=False, penalties=False, report_details=False
    ),
    # Operators work the queue; the number is theirs while they hold the claim.
    Role.OPERATOR: Representation(
        full_phone=False, answers=True, notes=True, cases=False, penalties=False, report_details=False
    ),
    Role.SUPERVISOR: Representation(
        full_phone=False, answers=True, notes=True, cases=True, penalties=True, report_details=True
    ),
    # Discipline inspectors read referred cases only (callback.web.visibility narrows the rows).
    Role.DISCIPLINE: Representation(
        full_phone=False, answers=True, notes=True, cases=True, penalties=True, report_details=False
    ),
    Role.ADMIN: EVERYTHING,
}


def representation_for(role: str) -> Representation:
    """Return what a role may see."""
    return REPRESENTATIONS.get(role, NOTHING_PERSONAL)


def callers_representation() -> Representation:
    """Return what the API caller (the token's user, set by roles_required) may see."""
    return representation_for(g.api_user.role)


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
        "state_label": label("task_state", task.state),
        "channel": task.channel,
        "not_before": local_iso(task.not_before),
        "due_by": local_iso(task.due_by),
        "attempt_count": task.attempt_count,
        "lease_expires_at": local_iso(task.lease_expires_at),
        "created_at": local_iso(task.created_at),
        "slots_tried": slots_tried_json(task),
    }
    if with_order:
        body["order"] = order_json(task.order, full_phone=full_phone)
    return body


def slots_tried_json(task: CallbackTask) -> list[dict[str, Any]]:
    """Represent the calling slots the task's calls started in, with how many calls each."""
    return [
        {"slot": name, "label": label("call_slot", name), "attempts": count}
        for name, count in slots_tried(
            (attempt.slot for attempt in task.attempts), current_settings().call_slots
        )
    ]


def finding_json(finding: Finding) -> dict[str, Any]:
    """Represent one finding."""
    return {
        "id": finding.id,
        "category": finding.category,
        "reason": finding.reason,
        "detail": finding.detail,
        "case_id": finding.case_id,
    }


def attempt_json(attempt: CallAttempt, shown: Representation) -> dict[str, Any]:
    """Represent one call attempt; its answers, findings and note only where the role may see them."""
    body: dict[str, Any] = {
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
    if not shown.notes:
        del body["note"]
    if not shown.answers:
        del body["answers"], body["findings"]
    return body


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


def case_json(
    case: SupervisionCase, *, shown: Representation, full: bool = False
) -> dict[str, Any]:
    """Represent a case; `full` adds the evidence and history. Callers check `shown.cases` first."""
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
        "penalties": [penalty_json(penalty) for penalty in case.penalties] if shown.penalties else [],
        "history": [],
    }
    if full:
        body["evidence"] = [
            {
                "id": item.id,
                "attempt_id": item.attempt_id,
                "finding_id": item.finding_id,
                "answers": item.answers if shown.answers else {},
                "order_snapshot": _snapshot(item.order_snapshot, shown),
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


def _snapshot(snapshot: dict[str, Any], shown: Representation) -> dict[str, Any]:
    """Return an order snapshot with the phone masked unless the role sees full numbers."""
    if shown.full_phone or not snapshot.get("customer_phone"):
        return snapshot
    return {**snapshot, "customer_phone": mask_phone(snapshot["customer_phone"])}


def order_detail_json(
    order: WorkOrder, cases: list[SupervisionCase], shown: Representation
) -> dict[str, Any]:
    """Represent one order with its timeline, its tasks with their attempts and (where shown) its cases."""
    body = order_json(order, full_phone=shown.full_phone)
    body["timeline"] = timeline_json(order)
    body["tasks"] = [
        {
            **task_json(task, with_order=False),
            "attempts": [attempt_json(attempt, shown) for attempt in task.attempts],
        }
        for task in order.tasks
    ]
    if shown.cases:
        body["cases"] = [case_json(case, shown=shown) for case in cases]
    return body
