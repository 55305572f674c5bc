"""Automated calls (contract 7): the dialer's attempts, from the claim to the final disposition."""

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.cases import snapshot_json
from callback.models import (
    INTERVIEW_DISPOSITIONS,
    Answer,
    CallAttempt,
    CallbackTask,
    Disposition,
    OrderStatus,
    TaskChannel,
    TaskState,
)
from callback.settings import Settings
from callback.worklist.attempts import (
    AttemptOutcome,
    add_answer,
    attempt_slot,
    check_attempt_input,
    finish_attempt,
)
from callback.worklist.claims import WorklistError, claim_next
from callback.worklist.lifecycle import move_tasks

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
        slot=attempt_slot(now, settings),
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


def hand_automated_attempt_to_operators(
    session: Session,
    attempt: CallAttempt,
    *,
    note: str,
    now: datetime,
    settings: Settings,
    actor: Actor = DIALER_ACTOR,
) -> AttemptOutcome | None:
    """End an automated call whose answers could not be understood, and give its task to the operators.

    The attempt keeps what was understood (a partial interview: its findings count); the task opens at once
    in the operators' queue instead of being done, so a person asks again. None if it already ended.
    """
    outcome = finish_automated_attempt(
        session, attempt, Disposition.PARTIAL, note=note, now=now, settings=settings, actor=actor
    )
    if outcome is None:
        return None
    task = outcome.task
    if task.state != TaskState.DONE.value or task.order.status == OrderStatus.CANCELLED.value:
        return outcome
    task.state = TaskState.OPEN.value
    task.not_before = now
    task.channel = TaskChannel.OPERATOR.value
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                "task.state",
                "callback_task",
                task.id,
                {"from": TaskState.DONE.value, "to": task.state, "reason": "answer not understood"},
            ),
            AuditEntry("task.handed_over", "callback_task", task.id, {"to": TaskChannel.OPERATOR.value}),
        ],
    )
    return outcome


def store_answer(session: Session, attempt: CallAttempt, code: str, value: Any, *, now: datetime) -> None:
    """Store one keypad answer as it is pressed, keyed by (attempt, question): the first one stays."""
    exists = session.scalar(select(Answer.id).where(Answer.attempt_id == attempt.id, Answer.question == code))
    if exists is None:
        add_answer(session, attempt, code, value, now=now)
        session.flush()


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


def calls_to_end(session: Session, *, now: datetime, settings: Settings) -> list[tuple[int, str]]:
    """Return (attempt id, provider call sid) of automated calls still under way whose task was cancelled.

    The dialer asks the provider to end each; the call's final status callback then gives the attempt its
    outcome (which opens no case). A call older than DIAL_TIMEOUT_MINUTES has ended by its time limit.
    """
    return [
        (attempt_id, sid)
        for attempt_id, sid in session.execute(
            select(CallAttempt.id, CallAttempt.provider_call_sid)
            .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
            .where(
                CallbackTask.state == TaskState.CANCELLED.value,
                CallAttempt.channel == TaskChannel.AUTO.value,
                CallAttempt.disposition.is_(None),
                CallAttempt.provider_call_sid.is_not(None),
                CallAttempt.started_at >= now - settings.dial_timeout,
            )
            .order_by(CallAttempt.id)
        ).all()
        if sid is not None
    ]


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
            move_tasks(
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
    return recovered + _close_calls_of_cancelled_tasks(session, now=now, settings=settings, actor=actor)


def _close_calls_of_cancelled_tasks(
    session: Session, *, now: datetime, settings: Settings, actor: Actor
) -> int:
    """Give an outcome to automated calls of cancelled tasks whose last status callback never came."""
    attempt_ids = session.scalars(
        select(CallAttempt.id)
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .where(
            CallbackTask.state == TaskState.CANCELLED.value,
            CallAttempt.channel == TaskChannel.AUTO.value,
            CallAttempt.disposition.is_(None),
            CallAttempt.started_at < now - settings.dial_timeout,
        )
    ).all()
    for attempt_id in attempt_ids:
        attempt = session.get(CallAttempt, attempt_id, with_for_update=True, populate_existing=True)
        if attempt is None or attempt.disposition is not None:
            continue
        answered = stored_answers(session, attempt.id)
        finish_automated_attempt(
            session,
            attempt,
            Disposition.PARTIAL if answered else Disposition.NO_ANSWER,
            note="The order was cancelled during the automated call; its outcome never arrived.",
            now=now,
            settings=settings,
            actor=actor,
        )
    return len(attempt_ids)
