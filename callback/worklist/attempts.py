"""Call attempts: an operator's (or the dialer's) call recorded, the task moved by its disposition."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from callback.audit import Actor, AuditEntry, current_origin, record
from callback.call_slots import next_attempt_time, slot_of, tried_counts
from callback.cases import act_on_findings, snapshot_json
from callback.donotcall import Listing, add, is_listed
from callback.fields import parse_datetime
from callback.findings import find
from callback.models import (
    AAPOR_CODES,
    DEAD_NUMBER_DISPOSITIONS,
    FAILED_CONTACT_DISPOSITIONS,
    INTERVIEW_DISPOSITIONS,
    Answer,
    AuditChannel,
    CallAttempt,
    CallbackTask,
    Disposition,
    DoNotCallReason,
    DoNotCallSource,
    Finding,
    OrderStatus,
    SupervisionCase,
    TaskChannel,
    TaskState,
    WorkOrder,
)
from callback.settings import Settings
from callback.survey import validate_answers
from callback.text import has_control_characters
from callback.worklist.claims import WorklistError, held_task

MAX_NOTE_LENGTH = 2000


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
        slot=attempt_slot(now, settings),
        order_snapshot=snapshot_json(task.order),
    )
    session.add(attempt)
    session.flush()
    outcome = finish_attempt(
        session,
        attempt,
        task,
        checked,
        order_snapshot=task.order.snapshot(),
        now=now,
        settings=settings,
        actor=Actor(user_id=user_id),
    )
    if checked.disposition is Disposition.DO_NOT_CALL:
        list_asked_number(
            session, task.order.customer_phone, checked.note, actor=Actor(user_id=user_id), now=now
        )
    return outcome


def attempt_slot(now: datetime, settings: Settings) -> str | None:
    """Return the CALL_SLOTS slot a call starting now belongs to."""
    return slot_of(now, settings.call_slots, settings.tz, settings.calendar)


def retry_time(
    session: Session, task: CallbackTask, disposition: Disposition, *, now: datetime, settings: Settings
) -> datetime:
    """Return when a failed contact is tried again: after its retry delay, in the next untried calling slot.

    The slots tried are those the task's calls started in (this one included); the least-tried slots come
    next once every slot has been tried. Without CALL_SLOTS the fixed delay alone decides.
    """
    earliest = now + settings.retry_delays[disposition.value]
    if not settings.call_slots:
        return earliest
    tried = tried_counts(session.scalars(select(CallAttempt.slot).where(CallAttempt.task_id == task.id)))
    return next_attempt_time(
        earliest,
        tried,
        settings.call_slots,
        tz=settings.tz,
        calendar=settings.calendar,
        calling_hours=settings.calling_hours,
    )


def list_asked_number(
    session: Session, number: str, note: str | None, *, actor: Actor, now: datetime
) -> None:
    """List the number of a customer who asked on the phone never to be called again (unless listed)."""
    if is_listed(session, number, now) is not None:
        return
    source = (
        DoNotCallSource.API if current_origin()[0] == AuditChannel.API.value else DoNotCallSource.CALL_SCREEN
    )
    add(
        session,
        Listing(number, DoNotCallReason.CUSTOMER_ASKED, None, (note or "")[:500] or None),
        source=source,
        actor=actor,
        now=now,
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
    if disposition not in [d.value for d in Disposition]:  # a list: JSON may send an unhashable value
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
    if note is not None and (
        not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH or has_control_characters(note)
    ):
        errors.append(
            {
                "field": "note",
                "message": _(
                    "must be text of at most %(limit)d characters, without control characters",
                    limit=MAX_NOTE_LENGTH,
                ),
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
        add_answer(session, attempt, code, value, now=now)
    from_state = task.state
    # The order was cancelled while the call was under way: the call counts, the task stays cancelled,
    # and whatever the customer said opens no case against an order that no longer exists.
    cancelled = task.state == TaskState.CANCELLED.value or task.order.status == OrderStatus.CANCELLED.value
    if task.state == TaskState.CANCELLED.value:
        task.attempt_count += 1
        task.updated_at = now
    else:
        retry_at = (
            retry_time(session, task, checked.disposition, now=now, settings=settings)
            if checked.disposition in FAILED_CONTACT_DISPOSITIONS
            else None
        )
        _apply_disposition(
            task, checked.disposition, checked.callback_at, retry_at, now=now, settings=settings
        )
    # An appointment belongs first to whoever booked it (APPOINTMENT_OWNER_MINUTES); other outcomes end it.
    task.appointment_owner_id = (
        actor.user_id if checked.disposition is Disposition.CALLBACK_REQUESTED and not cancelled else None
    )
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
    if checked.disposition in INTERVIEW_DISPOSITIONS and not cancelled:
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


def add_answer(session: Session, attempt: CallAttempt, code: str, value: Any, *, now: datetime) -> None:
    """Store one answer of a call; an `applied_on` one also updates its order's `stated_applied_on`."""
    session.add(Answer(attempt_id=attempt.id, question=code, value=value, answered_at=now))
    if code == "applied_on":
        note_stated_day(session, attempt.id, value)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def stated_day(value: Any) -> date | None:
    """Read an `applied_on` answer: a text starting with a real ISO date (YYYY-MM-DD), else nothing."""
    if not isinstance(value, str) or not ISO_DAY.match(value):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def note_stated_day(session: Session, attempt_id: int, value: Any) -> None:
    """An `applied_on` answer of the attempt was stored: make it its order's `stated_applied_on`, in one
    statement.

    It stands unless a later call about the order has an `applied_on` answer: answers reach the worklist
    checked (callback.survey: a real date, or the IVR's keyed-in day), so that one is a date too. A value
    that is no date changes nothing. note_stated_application reads all of an order's answers instead.
    """
    day = stated_day(value)
    if day is None:
        return
    later, later_task = aliased(CallAttempt), aliased(CallbackTask)
    this = select(CallAttempt).where(CallAttempt.id == attempt_id).subquery()
    order_id = select(CallbackTask.order_id).where(CallbackTask.id == this.c.task_id).scalar_subquery()
    said_later = (
        select(Answer.id)
        .join(later, Answer.attempt_id == later.id)
        .join(later_task, later.task_id == later_task.id)
        .where(
            later_task.order_id == WorkOrder.id,
            Answer.question == "applied_on",
            later.started_at > select(this.c.started_at).scalar_subquery(),
        )
    )
    session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == order_id, ~said_later.exists())
        .values(stated_applied_on=day)
        .execution_options(synchronize_session=False)
    )


def note_stated_application(session: Session, task_id: int) -> None:
    """Set the task's order's `stated_applied_on` from all its answers: rows stored past the worklist.

    The date of the latest `applied_on` answer that gives one: that of the latest call (by its start), the
    last stored within a call; answers that are no date are passed over. The order has a few calls.
    """
    order_id = select(CallbackTask.order_id).where(CallbackTask.id == task_id).scalar_subquery()
    values = session.scalars(
        select(Answer.value)
        .join(CallAttempt, Answer.attempt_id == CallAttempt.id)
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .where(CallbackTask.order_id == order_id, Answer.question == "applied_on")
        .order_by(CallAttempt.started_at.desc(), Answer.id.desc())
    )
    stated = next((day for day in map(stated_day, values) if day is not None), None)
    session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == order_id)
        .values(stated_applied_on=stated)
        .execution_options(synchronize_session=False)
    )


def _apply_disposition(
    task: CallbackTask,
    disposition: Disposition,
    callback_at: datetime | None,
    retry_at: datetime | None,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Move the task as the contract's disposition table says; a failed contact reopens at `retry_at`."""
    task.attempt_count += 1
    task.lease_owner_id = None
    task.lease_expires_at = None
    task.updated_at = now
    if disposition is Disposition.DO_NOT_CALL:
        task.state = TaskState.DO_NOT_CALL.value
        return
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
            task.not_before = retry_at or now + settings.retry_delays[disposition.value]
    if task.state == TaskState.OPEN.value and task.order.status == OrderStatus.CANCELLED.value:
        # The order was cancelled while the call was under way: nobody is called about it again.
        task.state = TaskState.CANCELLED.value
    task.waiting = task.state == TaskState.OPEN.value and task.not_before > now
    task.last_disposition = disposition.value
