"""The IVR's conversation and the call's status callbacks, as the webhooks drive them.

The conversation is provider-neutral: `start_survey` and `take_answer` return a `Turn` (what to say and ask
next); `twiml_for` renders it for Twilio, callback/telephony/aliyun_dialogue.py for Alibaba Cloud SmartCall.
Each handler gets the call already locked (`lock_call`, callback/telephony/live_call.py), changes only that
call's own record, saves it with a few Core statements (`save_call`), and leaves every task and finding to
the worklist (`finish_automated_attempt`, `hand_automated_attempt_to_operators`), which end the call.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from callback.models import CallAttempt, Disposition, TaskChannel
from callback.settings import Settings
from callback.speech import NotUnderstood, understand
from callback.survey import QUESTIONNAIRE, AnswerValue, Question, answer_from_keypad
from callback.telephony import script, twiml
from callback.telephony.live_call import LiveCall as LiveCall  # the webhooks lock and save calls through ivr
from callback.telephony.live_call import lock_call as lock_call
from callback.telephony.live_call import save_call as save_call
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

# A question is put once and re-asked twice on an invalid or empty answer; then the IVR moves on.
TRIES_PER_QUESTION = 3


class CallMismatch(Exception):
    """A webhook names a different call than the one its attempt already has."""


# Either record of a call under way: the webhooks' `LiveCall`, or the ORM's attempt (receipts, recordings).
CallRecord = CallAttempt | LiveCall


def lock_attempt(session: Session, attempt_id: int) -> CallAttempt | None:
    """Return the automated attempt through the ORM, its row locked until commit (receipts, recordings)."""
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


# The questions the IVR can put (all but free text), in questionnaire order; the questionnaire is fixed.
_IVR_QUESTIONS = tuple(question for question in QUESTIONNAIRE if question.keypad is not None)
_IVR_BY_CODE = {question.code: question for question in _IVR_QUESTIONS}
_IVR_POSITION = {question.code: position for position, question in enumerate(_IVR_QUESTIONS)}


def questions_for_ivr() -> list[Question]:
    """Return the questions the IVR can put (all but free text), in questionnaire order."""
    return list(_IVR_QUESTIONS)


def next_question(after: str | None, answers: Mapping[str, Any]) -> Question | None:
    """Return the next question to put after `after` (None: the first) that applies to the answers so far."""
    start = 0 if after is None else _IVR_POSITION[after] + 1
    for question in _IVR_QUESTIONS[start:]:
        if question.asked_when(answers):
            return question
    return None


def ivr_question(code: str | None) -> Question | None:
    """Return the IVR question with this code, or None."""
    return _IVR_BY_CODE.get(code or "")


def _log(attempt: CallRecord, now: datetime, event: str, **details: Any) -> None:
    """Add an event to the attempt's transcript, once: a repeated webhook adds nothing."""
    entry = {"event": event, **{key: value for key, value in details.items() if value is not None}}
    if any(_same_event(old, entry) for old in attempt.transcript or []):
        return
    attempt.transcript = [*(attempt.transcript or []), {"at": now.isoformat(), **entry}]


_ABSENT = object()


def _same_event(old: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Tell whether a transcript entry is `entry` but for its time ("at")."""
    return (
        old.get("event") == entry["event"]
        and len(old) == len(entry) + ("at" in old)
        and all(old.get(key, _ABSENT) == value for key, value in entry.items())
    )


def adopt_call(attempt: CallRecord, sid: str | None) -> None:
    """Remember the provider's call id (it may arrive here first when the create response was lost)."""
    if not sid:
        return
    if attempt.provider_call_sid is None:
        attempt.provider_call_sid = sid
    elif attempt.provider_call_sid != sid:
        raise CallMismatch(f"attempt {attempt.id} belongs to call {attempt.provider_call_sid}, not {sid}")


def _adopt_call(attempt: CallRecord, params: Mapping[str, str]) -> None:
    adopt_call(attempt, params.get("CallSid") or None)


def _note_status(attempt: CallRecord, status: str, now: datetime) -> None:
    if is_later_status(attempt.call_status, status):
        attempt.call_status = status
        _log(attempt, now, "status", text=status)


# Shared with the other providers' dialogues (aliyun_dialogue.py).
log_event = _log
note_status = _note_status


@dataclass(frozen=True)
class Turn:
    """The IVR's next move, whatever the provider: say `preamble`, then put `question` (try `try_number`);
    or, with no question, say `closing` (if any) and hang up. Rendered as TwiML or a SmartCall reply.
    """

    question: Question | None = None
    try_number: int = 1
    preamble: str | None = None
    closing: str | None = None
    notice: str | None = None  # said before everything else on the first turn (the recording notice)

    @property
    def prompt(self) -> str | None:
        """Return what is said to put the question."""
        if self.question is None:
            return None
        return self.question.ivr_prompt_zh or self.question.zh


@dataclass(frozen=True)
class Heard:
    """What came back for one question: keys pressed, or the words the provider's recogniser heard."""

    digits: str = ""
    speech: str = ""


def _ask(
    attempt: LiveCall,
    question: Question,
    try_number: int,
    *,
    now: datetime,
    preamble: str | None = None,
    notice: str | None = None,
) -> Turn:
    turn = Turn(question, try_number, preamble, notice=notice)
    if notice:
        _log(attempt, now, "said", text=notice)
    if preamble:
        _log(attempt, now, "said", question=question.code, try_number=try_number, text=preamble)
    _log(attempt, now, "said", question=question.code, try_number=try_number, text=turn.prompt)
    return turn


def last_asked(attempt: CallRecord) -> tuple[str, int] | None:
    """Return (question code, try number) of the question the IVR put last on this call, if any."""
    for entry in reversed(attempt.transcript or []):
        if entry.get("event") == "said" and entry.get("question"):
            return str(entry["question"]), int(entry.get("try_number") or 1)
    return None


def _hang_up_cancelled(attempt: LiveCall, now: datetime) -> Turn:
    """End a call whose order was cancelled: hang up at once; nothing the customer says is stored."""
    _log(attempt, now, "cancelled")
    return Turn()


def _close(session: Session, attempt: LiveCall, *, now: datetime) -> Turn:
    """Say goodbye and end the call's attempt as the turn is saved: the survey is over whatever the status
    callbacks do."""
    attempt.ivr_finished_at = now
    _log(attempt, now, "said", text=script.CLOSING)
    answers = attempt.answers(session)
    attempt.end(disposition_for_ended_call("completed", attempt.answered_by or HUMAN, answers, True))
    return Turn(closing=script.CLOSING)


def _hand_over(attempt: LiveCall, question: Question, *, now: datetime) -> Turn:
    """End a call whose answer could not be understood, and give the callback to an operator."""
    attempt.ivr_finished_at = now
    _log(attempt, now, "said", question=question.code, text=script.HANDED_OVER)
    attempt.end(
        Disposition.PARTIAL,
        hand_over=f"The answer to {question.code} was not understood by voice; handed to an operator.",
    )
    return Turn(closing=script.HANDED_OVER)


def start_survey(session: Session, attempt: LiveCall, *, now: datetime) -> Turn:
    """Greet the customer who answered and put the first question; or hang up on a machine."""
    if attempt.disposition is not None:
        return Turn()
    if is_machine(attempt.answered_by) or attempt.answered_by == FAX:
        _log(attempt, now, "machine", text=attempt.answered_by)
        attempt.end(disposition_for_ended_call("completed", attempt.answered_by, {}, False))
        return Turn()
    if attempt.ivr_finished_at is not None:
        return Turn(closing=script.CLOSING)
    if attempt.task_cancelled(session):
        return _hang_up_cancelled(attempt, now)
    attempt.keep_dialing(now)
    first = next_question(None, attempt.answers(session))
    if first is None:  # pragma: no cover  (the questionnaire always has keypad questions)
        return _close(session, attempt, now=now)
    return _ask(attempt, first, 1, now=now, preamble=script.GREETING, notice=script.RECORDING_NOTICE)


def take_answer(
    session: Session,
    attempt: LiveCall,
    question: Question,
    try_number: int,
    heard: Heard,
    *,
    now: datetime,
    settings: Settings,
) -> Turn:
    """Take the answer to one question, by keys or by voice; re-ask it, put the next one, or close.

    Only the question the IVR put last (and that try of it) is answered. Keys are read as the keypad says;
    words through callback/speech.py. An answer not understood is asked
    again; words still not understood at the last try hand the callback to an operator (never guessed),
    while a missing or invalid key lets the IVR move on, as it always has.
    """
    if attempt.disposition is not None or attempt.ivr_finished_at is not None:
        return Turn(closing=script.CLOSING)
    if attempt.task_cancelled(session):
        return _hang_up_cancelled(attempt, now)
    asked = last_asked(attempt)
    if asked != (question.code, try_number):
        # Only the question put last (that try of it) is answered: a replayed or forged answer to any other
        # changes nothing, and the last question is put again.
        current = ivr_question(asked[0]) if asked else None
        if current is None or asked is None:
            return Turn()  # no question was put on this call: nothing to answer
        return Turn(current, asked[1])
    digits = heard.digits.strip()
    words = heard.speech.strip()
    today = now.astimezone(settings.tz).date()
    value: AnswerValue | None = None
    if digits:
        value = answer_from_keypad(question, digits, today)
        _log(
            attempt,
            now,
            "pressed",
            question=question.code,
            try_number=try_number,
            digits=digits,
            valid=value is not None,
        )
    elif words:
        understood = understand(question, words, today)
        value = None if isinstance(understood, NotUnderstood) else understood
        _log(
            attempt,
            now,
            "heard",
            question=question.code,
            try_number=try_number,
            text=words[:500],
            understood=value,
            reason=understood.reason if isinstance(understood, NotUnderstood) else None,
            valid=value is not None,
        )
    attempt.keep_dialing(now)
    if value is None and try_number < TRIES_PER_QUESTION:
        preamble = script.NOT_UNDERSTOOD if words else script.INVALID_ENTRY if digits else script.NO_ENTRY
        return _ask(attempt, question, try_number + 1, now=now, preamble=preamble)
    if value is None and words:
        return _hand_over(attempt, question, now=now)
    if value is not None:
        attempt.store_answer(session, question.code, value, now=now)
    following = next_question(question.code, attempt.answers(session))
    if following is None:
        return _close(session, attempt, now=now)
    return _ask(attempt, following, 1, now=now)


def twiml_for(turn: Turn, attempt_id: int, config: Mapping[str, Any]) -> str:
    """Render an IVR turn as TwiML: a <Gather> posting to the question's gather URL, or goodbye."""
    if turn.question is None:
        return twiml.goodbye(turn.closing) if turn.closing else twiml.hang_up()
    assert turn.question.keypad is not None and turn.prompt is not None  # noqa: S101  (IVR questions)
    action = public_url(config, gather_path(attempt_id, turn.question.code, turn.try_number))
    return twiml.ask(
        turn.prompt,
        turn.question.keypad,
        action,
        preamble=turn.preamble,
        notice=turn.notice,
        hints=turn.question.speech_hints,
    )


def on_voice(
    session: Session,
    attempt: LiveCall,
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
    turn = start_survey(session, attempt, now=now)
    save_call(session, attempt, now=now, settings=settings)
    return twiml_for(turn, attempt.id, config)


def on_gather(
    session: Session,
    attempt: LiveCall,
    question: Question,
    try_number: int,
    params: Mapping[str, str],
    *,
    now: datetime,
    settings: Settings,
    config: Mapping[str, Any],
) -> str:
    """Take the keypad or spoken answer to one question (Digits or SpeechResult) and answer with TwiML."""
    _adopt_call(attempt, params)
    heard = Heard(digits=params.get("Digits") or "", speech=params.get("SpeechResult") or "")
    turn = take_answer(session, attempt, question, try_number, heard, now=now, settings=settings)
    save_call(session, attempt, now=now, settings=settings)
    return twiml_for(turn, attempt.id, config)


def on_status(
    session: Session,
    attempt: LiveCall,
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
        pass  # final: duplicates and stragglers change nothing
    elif status not in FINAL_STATUSES:
        attempt.keep_dialing(now)
    else:
        disposition = disposition_for_ended_call(
            status, attempt.answered_by, attempt.answers(session), attempt.ivr_finished_at is not None
        )
        note = None
        if status in ("failed", "canceled"):
            error = params.get("ErrorCode")
            note = f"Twilio call status {status}" + (f" (error {error})" if error else "")
        attempt.end(disposition, note=note)
    save_call(session, attempt, now=now, settings=settings)


def is_known_status(value: str | None) -> bool:
    """Tell whether a CallStatus value is one Twilio sends."""
    return value in STATUS_RANK
