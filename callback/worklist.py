"""The worklist owns every callback task's state: creation, cancellation, leases."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.cases import act_on_findings, snapshot_json
from callback.errors import ServiceError
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
    OrderStatus,
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
    # One multi-row INSERT; ids are matched back by (order, kind), unique by constraint, because SQLite
    # cannot return a batched insert's rows in parameter order.
    returned = session.execute(
        insert(CallbackTask.__table__).returning(CallbackTask.id, CallbackTask.order_id, CallbackTask.kind),
        rows,
    )
    task_ids = {(order_id, kind): task_id for task_id, order_id, kind in returned}
    created = [(order_id, task_ids[order_id, plan.kind], plan.kind) for order_id, plan in plans]
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


class WorklistError(ServiceError):
    """A task cannot move as asked."""


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
    user_id: int | None,
    *,
    now: datetime,
    settings: Settings,
    channel: TaskChannel = TaskChannel.OPERATOR,
    kind: str | None = None,
) -> CallbackTask | None:
    """Lease the most urgent workable task (earliest due_by, then oldest) to the user, or None.

    The dialer claims with user_id None: its tasks are held by no person.

    One UPDATE picks and takes the task. SQLite runs it alone, so no two claims can meet;
    PostgreSQL locks the picked row with FOR UPDATE SKIP LOCKED, so concurrent claims skip it.
    """
    if not settings.calling_hours.contains(now, settings.tz):
        return None
    lease_expires_at = now + timedelta(minutes=settings.lease_minutes)
    for _attempt in range(CLAIM_RETRIES):
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
        raise WorklistError(404, "not_found", _("No task %(id)d.", id=task_id))
    if task.state != TaskState.CLAIMED.value or task.lease_owner_id != user_id:
        raise WorklistError(409, "not_claimed", _("You do not hold a claim on this task."))
    if task.lease_expires_at is None or task.lease_expires_at <= now:
        raise WorklistError(409, "lease_expired", _("Your claim on this task has expired; claim it again."))
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
            {
                "field": "disposition",
                "message": _("must be one of %(choices)s", choices=", ".join(Disposition)),
            }
        )
        raise WorklistError(422, "invalid", _("The call's outcome is invalid."), errors)
    chosen = Disposition(disposition)
    clean_answers: dict[str, Any] = {}
    if chosen in INTERVIEW_DISPOSITIONS:
        checked = validate_answers(answers or {}, chosen.value, now.astimezone(settings.tz).date())
        if isinstance(checked, list):
            errors.extend(error.as_dict() for error in checked)
        else:
            clean_answers = checked
    elif answers:
        errors.append({"field": "answers", "message": _("answers go only with completed or partial")})
    moment = None
    if chosen is Disposition.CALLBACK_REQUESTED:
        try:
            moment = parse_datetime(callback_at, settings.tz)
        except ValueError:
            moment = None
        if moment is None or moment <= now:
            errors.append(
                {"field": "callback_at", "message": _("must be a future date and time for an appointment")}
            )
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH):
        errors.append(
            {
                "field": "note",
                "message": _("must be text of at most %(limit)d characters", limit=MAX_NOTE_LENGTH),
            }
        )
    if errors:
        raise WorklistError(422, "invalid", _("The call's outcome is invalid."), errors)
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
    store_answers: bool = True,
) -> AttemptOutcome:
    """Give an attempt its final disposition and answers, move its task, and act on the findings.

    `store_answers=False` when the answers are already stored (the IVR stores each as it is pressed).
    """
    attempt.disposition = checked.disposition.value
    attempt.aapor_code = AAPOR_CODES[checked.disposition]
    attempt.ended_at = now
    attempt.callback_at = checked.callback_at
    attempt.note = checked.note
    for code, value in checked.answers.items() if store_answers else ():
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
    if task.state == TaskState.OPEN.value and task.order.status == OrderStatus.CANCELLED.value:
        # The order was cancelled while the call was under way: nobody is called about it again.
        task.state = TaskState.CANCELLED.value


# Automated calls (contract 7): the dialer claims tasks of the `auto` channel, records the attempt before it
# places the call, and the telephony webhooks finish the attempt through the same rules as an operator's.

DIALER_ACTOR = Actor(source="dialer")


def start_automated_attempt(
    session: Session, *, now: datetime, settings: Settings, actor: Actor = DIALER_ACTOR
) -> CallAttempt | None:
    """Claim the most urgent workable automated task, mark it dialing and record its attempt; None if none.

    The attempt exists before the call is placed, so a dialer that dies mid-call leaves a trace that `tick`
    recovers, and the task's `dialing` state keeps every other dialer from calling the customer again.
    """
    task = claim_next(session, None, now=now, settings=settings, channel=TaskChannel.AUTO)
    if task is None:
        return None
    task.state = TaskState.DIALING.value
    task.lease_expires_at = now + settings.dial_timeout
    task.updated_at = now
    attempt = CallAttempt(
        task_id=task.id,
        channel=TaskChannel.AUTO.value,
        operator_id=None,
        started_at=now,
        order_snapshot=snapshot_json(task.order),
        transcript=[],
    )
    session.add(attempt)
    session.flush()
    record(
        session,
        actor,
        now,
        [
            AuditEntry("task.state", "callback_task", task.id, {"from": "claimed", "to": task.state}),
            AuditEntry("attempt.started", "call_attempt", attempt.id, {"task_id": task.id}),
        ],
    )
    return attempt


def keep_dialing(session: Session, attempt: CallAttempt, *, now: datetime, settings: Settings) -> None:
    """Extend the dialing task's timeout: the call is still alive (a webhook just came)."""
    session.execute(
        update(CallbackTask)
        .where(CallbackTask.id == attempt.task_id, CallbackTask.state == TaskState.DIALING.value)
        .values(lease_expires_at=now + settings.dial_timeout, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def finish_automated_attempt(
    session: Session,
    attempt: CallAttempt,
    disposition: Disposition,
    *,
    note: str | None = None,
    now: datetime,
    settings: Settings,
    actor: Actor = DIALER_ACTOR,
) -> AttemptOutcome | None:
    """Give an automated attempt its final disposition once; None if it already has one.

    The answers are those the IVR stored. The task moves exactly as after an operator's call, and a task
    whose automated attempts failed AUTO_MAX_ATTEMPTS times goes to the operators' queue.
    The caller locks the attempt's row (SELECT … FOR UPDATE) so duplicate callbacks serialise here.
    """
    if attempt.disposition is not None:
        return None
    task = session.get(CallbackTask, attempt.task_id, with_for_update=True, populate_existing=True)
    assert task is not None  # noqa: S101  (foreign key)
    answers = stored_answers(session, attempt.id) if disposition in INTERVIEW_DISPOSITIONS else None
    try:
        checked = check_attempt_input(disposition.value, answers, None, note, now=now, settings=settings)
    except WorklistError:
        # Keypad answers are checked as they come, so this is a completed call missing a required answer.
        checked = check_attempt_input(
            Disposition.PARTIAL.value, answers, None, note, now=now, settings=settings
        )
    outcome = finish_attempt(
        session,
        attempt,
        task,
        checked,
        order_snapshot=task.order.snapshot(),
        now=now,
        settings=settings,
        actor=actor,
        store_answers=False,
    )
    _hand_over_to_operators(session, task, now=now, settings=settings, actor=actor)
    return outcome


def stored_answers(session: Session, attempt_id: int) -> dict[str, Any]:
    """Return the answers stored for an attempt so far, as {question code: value}."""
    return {
        answer.question: answer.value
        for answer in session.scalars(select(Answer).where(Answer.attempt_id == attempt_id))
    }


def _hand_over_to_operators(
    session: Session, task: CallbackTask, *, now: datetime, settings: Settings, actor: Actor
) -> None:
    """Give a task the dialer failed to reach AUTO_MAX_ATTEMPTS times to the operators' queue."""
    if (
        task.channel == TaskChannel.AUTO.value
        and task.state == TaskState.OPEN.value
        and task.failed_attempts >= settings.auto_max_attempts
    ):
        task.channel = TaskChannel.OPERATOR.value
        record(
            session,
            actor,
            now,
            [
                AuditEntry(
                    "task.handed_over",
                    "callback_task",
                    task.id,
                    {"to": TaskChannel.OPERATOR.value, "failed_attempts": task.failed_attempts},
                )
            ],
        )


def void_automated_attempt(
    session: Session, attempt: CallAttempt, *, reason: str, now: datetime, actor: Actor = DIALER_ACTOR
) -> None:
    """Undo an attempt whose call the provider certainly never placed, and reopen its task.

    Nobody was called (the provider refused the request: bad credentials, rate limit), so the customer's
    attempts are not spent; the audit trail keeps the reason.
    """
    task_id = attempt.task_id
    session.delete(attempt)
    session.flush()
    session.execute(
        update(CallbackTask)
        .where(CallbackTask.id == task_id, CallbackTask.state == TaskState.DIALING.value)
        .values(state=TaskState.OPEN.value, lease_owner_id=None, lease_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    record(
        session,
        actor,
        now,
        [
            AuditEntry("attempt.voided", "call_attempt", attempt.id, {"task_id": task_id, "reason": reason}),
            AuditEntry(
                "task.state", "callback_task", task_id, {"to": TaskState.OPEN.value, "reason": reason}
            ),
        ],
    )


def recover_stuck_dialing(session: Session, *, now: datetime, settings: Settings, actor: Actor) -> int:
    """Finish the calls of tasks left `dialing` past DIAL_TIMEOUT_MINUTES; return how many tasks.

    The dialer died or the call's last status callback never came. An attempt with answers becomes
    `partial`; one without is a failed contact (`no_answer`), so the usual retries and hand-over apply.
    """
    task_ids = session.scalars(
        select(CallbackTask.id).where(
            CallbackTask.state == TaskState.DIALING.value, CallbackTask.lease_expires_at < now
        )
    ).all()
    recovered = 0
    for task_id in task_ids:
        task = session.get(CallbackTask, task_id, with_for_update=True, populate_existing=True)
        if task is None or task.state != TaskState.DIALING.value or (task.lease_expires_at or now) >= now:
            continue  # a webhook finished or revived it meanwhile
        attempt_id = session.scalar(
            select(CallAttempt.id)
            .where(CallAttempt.task_id == task_id, CallAttempt.disposition.is_(None))
            .order_by(CallAttempt.id.desc())
            .limit(1)
        )
        attempt = (
            session.get(CallAttempt, attempt_id, with_for_update=True, populate_existing=True)
            if attempt_id is not None
            else None
        )
        if attempt is None:
            _move(
                session,
                [task_id],
                TaskState.OPEN,
                now=now,
                actor=actor,
                reason="dialing timed out",
                from_states=(TaskState.DIALING,),
            )
        else:
            answered = stored_answers(session, attempt.id)
            disposition = Disposition.PARTIAL if answered else Disposition.NO_ANSWER
            finish_automated_attempt(
                session,
                attempt,
                disposition,
                note="The automated call's outcome never arrived; recovered after the dialing timeout.",
                now=now,
                settings=settings,
                actor=actor,
            )
        recovered += 1
    return recovered
