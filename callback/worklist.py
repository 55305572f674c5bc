"""The worklist owns every callback task's state: creation, cancellation, leases."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.cases import act_on_findings, snapshot_json
from callback.findings import find
from callback.intake.validation import parse_datetime
from callback.models import (
    AAPOR_CODES,
    DEAD_NUMBER_DISPOSITIONS,
    INTERVIEW_DISPOSITIONS,
    Answer,
    CallAttempt,
    CallbackTask,
    Disposition,
    Finding,
    SupervisionCase,
    TaskChannel,
    TaskState,
)
from callback.rules import TaskPlan
from callback.settings import Settings
from callback.survey import validate_answers

CLAIM_RETRIES = 5
MAX_NOTE_LENGTH = 2000


def create_tasks(
    session: Session, plans: Sequence[tuple[int, TaskPlan]], *, now: datetime, actor: Actor
) -> list[tuple[int, int, str]]:
    """Create the planned tasks for (order id, plan) pairs; return (order id, task id, kind) for each."""
    if not plans:
        return []
    rows = [
        {
            "order_id": order_id,
            "kind": plan.kind,
            "state": TaskState.OPEN.value,
            "channel": plan.channel,
            "not_before": plan.not_before,
            "due_by": plan.due_by,
            "attempt_count": 0,
            "failed_attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for order_id, plan in plans
    ]
    task_ids = session.scalars(
        insert(CallbackTask).returning(CallbackTask.id, sort_by_parameter_order=True), rows
    ).all()
    created = [
        (order_id, task_id, plan.kind) for (order_id, plan), task_id in zip(plans, task_ids, strict=True)
    ]
    record(
        session,
        actor,
        now,
        (
            AuditEntry("task.created", "callback_task", task_id, {"kind": kind, "order_id": order_id})
            for order_id, task_id, kind in created
        ),
    )
    return created


def cancel_tasks_of_orders(session: Session, order_ids: Iterable[int], *, now: datetime, actor: Actor) -> int:
    """Cancel the open and claimed tasks of orders the marketing system cancelled; return how many."""
    order_ids = list(order_ids)
    if not order_ids:
        return 0
    task_ids = session.scalars(
        select(CallbackTask.id).where(
            CallbackTask.order_id.in_(order_ids),
            CallbackTask.state.in_([TaskState.OPEN.value, TaskState.CLAIMED.value]),
        )
    ).all()
    return _move(session, task_ids, TaskState.CANCELLED, now=now, actor=actor, reason="order cancelled")


def release_expired_leases(session: Session, *, now: datetime, actor: Actor) -> int:
    """Return tasks whose operator's lease ran out to the queue; return how many."""
    task_ids = session.scalars(
        select(CallbackTask.id).where(
            CallbackTask.state == TaskState.CLAIMED.value, CallbackTask.lease_expires_at < now
        )
    ).all()
    return _move(session, task_ids, TaskState.OPEN, now=now, actor=actor, reason="lease expired")


def _move(
    session: Session,
    task_ids: Sequence[int],
    to: TaskState,
    *,
    now: datetime,
    actor: Actor,
    reason: str,
    from_states: Sequence[TaskState] = (TaskState.OPEN, TaskState.CLAIMED),
) -> int:
    """Move tasks still in `from_states` to `to`, clearing any lease, and audit each move."""
    if not task_ids:
        return 0
    moved = session.scalars(
        update(CallbackTask)
        .where(CallbackTask.id.in_(task_ids), CallbackTask.state.in_([s.value for s in from_states]))
        .values(state=to.value, lease_owner_id=None, lease_expires_at=None, updated_at=now)
        .returning(CallbackTask.id)
    ).all()
    record(
        session,
        actor,
        now,
        (
            AuditEntry("task.state", "callback_task", task_id, {"to": to.value, "reason": reason})
            for task_id in moved
        ),
    )
    return len(moved)


class WorklistError(Exception):
    """A task cannot move as asked; `status` is the HTTP status that says why (404, 409, 422)."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def workable_condition(
    now: datetime, channel: TaskChannel, kind: str | None = None
) -> list[ColumnElement[bool]]:
    """Return the conditions that make a task workable now on a channel (calling hours checked apart)."""
    conditions: list[ColumnElement[bool]] = [
        CallbackTask.state == TaskState.OPEN.value,
        CallbackTask.not_before <= now,
        CallbackTask.channel == channel.value,
    ]
    if kind is not None:
        conditions.append(CallbackTask.kind == kind)
    return conditions


def claim_next(
    session: Session,
    user_id: int,
    *,
    now: datetime,
    settings: Settings,
    channel: TaskChannel = TaskChannel.OPERATOR,
    kind: str | None = None,
) -> CallbackTask | None:
    """Lease the most urgent workable task (earliest due_by, then oldest) to the user, or None.

    One UPDATE picks and takes the task. SQLite runs it alone, so no two claims can meet;
    PostgreSQL locks the picked row with FOR UPDATE SKIP LOCKED, so concurrent claims skip it.
    """
    if not settings.calling_hours.contains(now, settings.tz):
        return None
    lease_expires_at = now + timedelta(minutes=settings.lease_minutes)
    for _ in range(CLAIM_RETRIES):
        candidate = (
            select(CallbackTask.id)
            .where(*workable_condition(now, channel, kind))
            .order_by(CallbackTask.due_by, CallbackTask.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed_id = session.scalar(
            update(CallbackTask)
            .where(CallbackTask.id == candidate, CallbackTask.state == TaskState.OPEN.value)
            .values(
                state=TaskState.CLAIMED.value,
                lease_owner_id=user_id,
                lease_expires_at=lease_expires_at,
                updated_at=now,
            )
            .returning(CallbackTask.id)
            .execution_options(synchronize_session=False)
        )
        if claimed_id is not None:
            record(
                session,
                Actor(user_id=user_id),
                now,
                [
                    AuditEntry(
                        "task.claimed", "callback_task", claimed_id, {"until": lease_expires_at.isoformat()}
                    )
                ],
            )
            return session.get(CallbackTask, claimed_id, populate_existing=True)
        # Nothing left, or (PostgreSQL) another claim took the row between pick and update: look again.
        if (
            session.scalar(select(CallbackTask.id).where(*workable_condition(now, channel, kind)).limit(1))
            is None
        ):
            return None
    return None


def held_task(session: Session, task_id: int, user_id: int, *, now: datetime) -> CallbackTask:
    """Return the task if the user holds a live claim on it; raise 404 or 409 otherwise."""
    task = session.get(CallbackTask, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise WorklistError(404, "not_found", f"No task {task_id}.")
    if task.state != TaskState.CLAIMED.value or task.lease_owner_id != user_id:
        raise WorklistError(409, "not_claimed", "You do not hold a claim on this task.")
    if task.lease_expires_at is None or task.lease_expires_at <= now:
        raise WorklistError(409, "lease_expired", "Your claim on this task has expired; claim it again.")
    return task


def current_claim(session: Session, user_id: int, *, now: datetime) -> CallbackTask | None:
    """Return the task the user holds a live claim on, if any (the earliest leased)."""
    return session.scalar(
        select(CallbackTask)
        .where(
            CallbackTask.state == TaskState.CLAIMED.value,
            CallbackTask.lease_owner_id == user_id,
            CallbackTask.lease_expires_at > now,
        )
        .order_by(CallbackTask.lease_expires_at)
        .limit(1)
    )


def release(session: Session, task_id: int, user_id: int, *, now: datetime) -> CallbackTask:
    """Hand a claimed task back to the queue."""
    task = held_task(session, task_id, user_id, now=now)
    task.state = TaskState.OPEN.value
    task.lease_owner_id = None
    task.lease_expires_at = None
    task.updated_at = now
    record(session, Actor(user_id=user_id), now, [AuditEntry("task.released", "callback_task", task.id)])
    return task


@dataclass
class AttemptOutcome:
    attempt: CallAttempt
    task: CallbackTask
    findings: list[Finding]
    cases_opened: list[SupervisionCase]


def record_attempt(
    session: Session,
    task_id: int,
    user_id: int,
    *,
    disposition: Any,
    answers: Any,
    callback_at: Any,
    note: Any,
    now: datetime,
    settings: Settings,
) -> AttemptOutcome:
    """Record one call by the claim's holder: attempt, answers, the task's next state, findings, cases."""
    task = held_task(session, task_id, user_id, now=now)
    checked = check_attempt_input(disposition, answers, callback_at, note, now=now, settings=settings)
    attempt = CallAttempt(
        task_id=task.id,
        channel=TaskChannel.OPERATOR.value,
        operator_id=user_id,
        started_at=now,
        order_snapshot=snapshot_json(task.order),
    )
    session.add(attempt)
    session.flush()
    return finish_attempt(
        session,
        attempt,
        task,
        checked,
        order_snapshot=task.order.snapshot(),
        now=now,
        settings=settings,
        actor=Actor(user_id=user_id),
    )


@dataclass(frozen=True)
class CheckedAttempt:
    disposition: Disposition
    answers: dict[str, Any]
    callback_at: datetime | None
    note: str | None


def check_attempt_input(
    disposition: Any, answers: Any, callback_at: Any, note: Any, *, now: datetime, settings: Settings
) -> CheckedAttempt:
    """Validate a call's outcome as an operator or the API sends it; raise 422 naming each field."""
    errors: list[dict[str, str]] = []
    if disposition not in {d.value for d in Disposition}:
        errors.append(
            {"field": "disposition", "message": "must be one of " + ", ".join(d.value for d in Disposition)}
        )
        raise WorklistError(422, "invalid", "The call's outcome is invalid.", errors)
    chosen = Disposition(disposition)
    clean_answers: dict[str, Any] = {}
    if chosen in INTERVIEW_DISPOSITIONS:
        checked = validate_answers(answers or {}, chosen.value, now.astimezone(settings.tz).date())
        if isinstance(checked, list):
            errors.extend(error.as_dict() for error in checked)
        else:
            clean_answers = checked
    elif answers:
        errors.append({"field": "answers", "message": "answers go only with completed or partial"})
    moment = None
    if chosen is Disposition.CALLBACK_REQUESTED:
        try:
            moment = parse_datetime(callback_at, settings.tz)
        except ValueError:
            moment = None
        if moment is None or moment <= now:
            errors.append(
                {"field": "callback_at", "message": "must be a future date and time for an appointment"}
            )
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH):
        errors.append({"field": "note", "message": f"must be text of at most {MAX_NOTE_LENGTH} characters"})
    if errors:
        raise WorklistError(422, "invalid", "The call's outcome is invalid.", errors)
    return CheckedAttempt(chosen, clean_answers, moment, (note or "").strip() or None)


def finish_attempt(
    session: Session,
    attempt: CallAttempt,
    task: CallbackTask,
    checked: CheckedAttempt,
    *,
    order_snapshot: dict[str, Any],
    now: datetime,
    settings: Settings,
    actor: Actor,
) -> AttemptOutcome:
    """Give an attempt its final disposition and answers, move its task, and act on the findings."""
    attempt.disposition = checked.disposition.value
    attempt.aapor_code = AAPOR_CODES[checked.disposition]
    attempt.ended_at = now
    attempt.callback_at = checked.callback_at
    attempt.note = checked.note
    for code, value in checked.answers.items():
        session.add(Answer(attempt_id=attempt.id, question=code, value=value, answered_at=now))
    from_state = task.state
    _apply_disposition(task, checked.disposition, checked.callback_at, now=now, settings=settings)
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                "attempt.recorded",
                "call_attempt",
                attempt.id,
                {"task_id": task.id, "disposition": attempt.disposition},
            ),
            AuditEntry("task.state", "callback_task", task.id, {"from": from_state, "to": task.state}),
        ],
    )
    findings: list[Finding] = []
    cases_opened: list[SupervisionCase] = []
    if checked.disposition in INTERVIEW_DISPOSITIONS:
        verdicts = find(checked.answers, order_snapshot, task.kind, settings)
        findings, cases_opened = act_on_findings(
            session,
            task.order,
            attempt,
            verdicts,
            answers=checked.answers,
            now=now,
            actor=actor,
            settings=settings,
        )
    session.flush()
    return AttemptOutcome(attempt, task, findings, cases_opened)


def _apply_disposition(
    task: CallbackTask,
    disposition: Disposition,
    callback_at: datetime | None,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Move the task as the contract's disposition table says."""
    task.attempt_count += 1
    task.lease_owner_id = None
    task.lease_expires_at = None
    task.updated_at = now
    if disposition in INTERVIEW_DISPOSITIONS or disposition is Disposition.REFUSED:
        task.state = TaskState.DONE.value
    elif disposition is Disposition.CALLBACK_REQUESTED:
        task.state = TaskState.OPEN.value
        task.not_before = callback_at or now
    elif disposition in DEAD_NUMBER_DISPOSITIONS:
        task.state = TaskState.UNREACHABLE.value
    else:  # a failed contact: try again later, up to MAX_ATTEMPTS
        task.failed_attempts += 1
        if task.failed_attempts >= settings.max_attempts:
            task.state = TaskState.UNREACHABLE.value
        else:
            task.state = TaskState.OPEN.value
            task.not_before = now + settings.retry_delays[disposition.value]
