"""The IVR's conversation and the call's status callbacks, as the webhooks drive them.

Each handler gets the attempt already locked (`lock_attempt`), changes only that call's own record, and
leaves every task and finding to the worklist (`finish_automated_attempt`, `keep_dialing`).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from callback.models import CallAttempt, CallbackTask, TaskChannel, TaskState
from callback.settings import Settings
from callback.survey import QUESTIONNAIRE, Question, answer_from_keypad
from callback.telephony import twiml
from callback.telephony.outcomes import (
    FAX,
    FINAL_STATUSES,
    HUMAN,
    STATUS_RANK,
    disposition_for_ended_call,
    is_later_status,
    is_machine,
)
from callback.telephony.signing import gather_path, public_url
from callback.worklist import finish_automated_attempt, keep_dialing, store_answer, stored_answers

# A question is put once and re-asked twice on an invalid or empty answer; then the IVR moves on.
TRIES_PER_QUESTION = 3


class CallMismatch(Exception):
    """A webhook names a different call than the one its attempt already has."""


def lock_attempt(session: Session, attempt_id: int) -> CallAttempt | None:
    """Return the automated attempt, its row locked until commit so one call's webhooks run one at a time."""
    # A no-op UPDATE takes the row lock on every database (SQLite has no SELECT … FOR UPDATE).
    locked = session.execute(
        update(CallAttempt)
        .where(CallAttempt.id == attempt_id, CallAttempt.channel == TaskChannel.AUTO.value)
        .values(call_status=CallAttempt.call_status)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(CallAttempt, attempt_id, populate_existing=True)


def questions_for_ivr() -> list[Question]:
    """Return the questions the IVR can put (all but free text), in questionnaire order."""
    return [question for question in QUESTIONNAIRE if question.keypad is not None]


def next_question(after: str | None, answers: Mapping[str, Any]) -> Question | None:
    """Return the next question to put after `after` (None: the first) that applies to the answers so far."""
    questions = questions_for_ivr()
    codes = [question.code for question in questions]
    start = 0 if after is None else codes.index(after) + 1
    for question in questions[start:]:
        if question.asked_when(answers):
            return question
    return None


def ivr_question(code: str | None) -> Question | None:
    """Return the IVR question with this code, or None."""
    return next((question for question in questions_for_ivr() if question.code == code), None)


def _log(attempt: CallAttempt, now: datetime, event: str, **details: Any) -> None:
    """Add an event to the attempt's transcript, once: a repeated webhook adds nothing."""
    entry = {"event": event, **{key: value for key, value in details.items() if value is not None}}
    if any({k: v for k, v in old.items() if k != "at"} == entry for old in attempt.transcript or []):
        return
    attempt.transcript = [*(attempt.transcript or []), {"at": now.isoformat(), **entry}]


def _adopt_call(attempt: CallAttempt, params: Mapping[str, str]) -> None:
    """Remember the provider's call sid (it may arrive here first when the create response was lost)."""
    sid = params.get("CallSid") or None
    if sid is None:
        return
    if attempt.provider_call_sid is None:
        attempt.provider_call_sid = sid
    elif attempt.provider_call_sid != sid:
        raise CallMismatch(f"attempt {attempt.id} belongs to call {attempt.provider_call_sid}, not {sid}")


def _note_status(attempt: CallAttempt, status: str, now: datetime) -> None:
    if is_later_status(attempt.call_status, status):
        attempt.call_status = status
        _log(attempt, now, "status", text=status)


def _ask(
    attempt: CallAttempt,
    question: Question,
    try_number: int,
    *,
    now: datetime,
    config: Mapping[str, Any],
    preamble: str | None = None,
) -> str:
    prompt = question.ivr_prompt_zh or question.zh
    if preamble:
        _log(attempt, now, "said", question=question.code, try_number=try_number, text=preamble)
    _log(attempt, now, "said", question=question.code, try_number=try_number, text=prompt)
    return _question_twiml(attempt, question, try_number, config=config, preamble=preamble)


def _question_twiml(
    attempt: CallAttempt,
    question: Question,
    try_number: int,
    *,
    config: Mapping[str, Any],
    preamble: str | None = None,
) -> str:
    prompt = question.ivr_prompt_zh or question.zh
    action = public_url(config, gather_path(attempt.id, question.code, try_number))
    assert question.keypad is not None  # noqa: S101  (questions_for_ivr has only keypad questions)
    return twiml.ask(prompt, question.keypad, action, preamble=preamble)


def last_asked(attempt: CallAttempt) -> tuple[str, int] | None:
    """Return (question code, try number) of the question the IVR put last on this call, if any."""
    for entry in reversed(attempt.transcript or []):
        if entry.get("event") == "said" and entry.get("question"):
            return str(entry["question"]), int(entry.get("try_number") or 1)
    return None


def _task_cancelled(session: Session, attempt: CallAttempt) -> bool:
    """Tell whether the call's task was cancelled (its order was) while the call was under way."""
    task = session.get(CallbackTask, attempt.task_id, populate_existing=True)
    return task is not None and task.state == TaskState.CANCELLED.value


def _hang_up_cancelled(attempt: CallAttempt, now: datetime) -> str:
    """End a call whose order was cancelled: hang up at once; nothing the customer presses is stored."""
    _log(attempt, now, "cancelled")
    return twiml.hang_up()


def _close(session: Session, attempt: CallAttempt, *, now: datetime, settings: Settings) -> str:
    """Say goodbye and record the call's outcome now: the survey is over whatever the status callbacks do."""
    attempt.ivr_finished_at = now
    _log(attempt, now, "said", text=twiml.CLOSING)
    answers = stored_answers(session, attempt.id)
    disposition = disposition_for_ended_call("completed", attempt.answered_by or HUMAN, answers, True)
    finish_automated_attempt(session, attempt, disposition, now=now, settings=settings)
    return twiml.goodbye()


def on_voice(
    session: Session,
    attempt: CallAttempt,
    params: Mapping[str, str],
    *,
    now: datetime,
    settings: Settings,
    config: Mapping[str, Any],
) -> str:
    """Answer the call's first TwiML request: greet and put the first question, or hang up on a machine."""
    _adopt_call(attempt, params)
    _note_status(attempt, "in-progress", now)
    answered_by = params.get("AnsweredBy") or None
    if answered_by and attempt.answered_by is None:
        attempt.answered_by = answered_by
    if attempt.disposition is not None:
        return twiml.hang_up()
    if is_machine(attempt.answered_by) or attempt.answered_by == FAX:
        _log(attempt, now, "machine", text=attempt.answered_by)
        disposition = disposition_for_ended_call("completed", attempt.answered_by, {}, False)
        finish_automated_attempt(session, attempt, disposition, now=now, settings=settings)
        return twiml.hang_up()
    if attempt.ivr_finished_at is not None:
        return twiml.goodbye()
    if _task_cancelled(session, attempt):
        return _hang_up_cancelled(attempt, now)
    keep_dialing(session, attempt, now=now, settings=settings)
    first = next_question(None, stored_answers(session, attempt.id))
    if first is None:  # pragma: no cover  (the questionnaire always has keypad questions)
        return _close(session, attempt, now=now, settings=settings)
    return _ask(attempt, first, 1, now=now, config=config, preamble=twiml.GREETING)


def on_gather(
    session: Session,
    attempt: CallAttempt,
    question: Question,
    try_number: int,
    params: Mapping[str, str],
    *,
    now: datetime,
    settings: Settings,
    config: Mapping[str, Any],
) -> str:
    """Take the keypad answer to one question; re-ask it, or put the next one, or close the survey.

    Only the question the IVR put last (and that try of it) is answered: a gather for any other one (a
    replayed or forged request) changes nothing and puts the last question again.
    """
    _adopt_call(attempt, params)
    if attempt.disposition is not None or attempt.ivr_finished_at is not None:
        return twiml.goodbye()
    if _task_cancelled(session, attempt):
        return _hang_up_cancelled(attempt, now)
    asked = last_asked(attempt)
    if asked != (question.code, try_number):
        current = ivr_question(asked[0]) if asked else None
        if asked is None or current is None:
            return twiml.hang_up()  # no question was put on this call: nothing to answer
        return _question_twiml(attempt, current, asked[1], config=config)
    digits = (params.get("Digits") or "").strip()
    today = now.astimezone(settings.tz).date()
    value = answer_from_keypad(question, digits, today) if digits else None
    _log(
        attempt,
        now,
        "pressed",
        question=question.code,
        try_number=try_number,
        digits=digits,
        valid=value is not None,
    )
    keep_dialing(session, attempt, now=now, settings=settings)
    if value is None and try_number < TRIES_PER_QUESTION:
        preamble = twiml.INVALID_ENTRY if digits else twiml.NO_ENTRY
        return _ask(attempt, question, try_number + 1, now=now, config=config, preamble=preamble)
    if value is not None:
        store_answer(session, attempt, question.code, value, now=now)
    following = next_question(question.code, stored_answers(session, attempt.id))
    if following is None:
        return _close(session, attempt, now=now, settings=settings)
    return _ask(attempt, following, 1, now=now, config=config)


def on_status(
    session: Session,
    attempt: CallAttempt,
    params: Mapping[str, str],
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Record a status callback; a final status ends the attempt unless it already has an outcome."""
    status = params["CallStatus"]
    _adopt_call(attempt, params)
    answered_by = params.get("AnsweredBy") or None
    if answered_by and attempt.answered_by is None:
        attempt.answered_by = answered_by
    _note_status(attempt, status, now)
    if attempt.disposition is not None:
        return  # final: duplicates and stragglers change nothing
    if status not in FINAL_STATUSES:
        keep_dialing(session, attempt, now=now, settings=settings)
        return
    answers = stored_answers(session, attempt.id)
    disposition = disposition_for_ended_call(
        status, attempt.answered_by, answers, attempt.ivr_finished_at is not None
    )
    note = None
    if status in ("failed", "canceled"):
        error = params.get("ErrorCode")
        note = f"Twilio call status {status}" + (f" (error {error})" if error else "")
    finish_automated_attempt(session, attempt, disposition, note=note, now=now, settings=settings)


def is_known_status(value: str | None) -> bool:
    """Tell whether a CallStatus value is one Twilio sends."""
    return value in STATUS_RANK
