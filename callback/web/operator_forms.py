"""The call form: turn the operator's form fields into a call's outcome, and errors back into field messages.

The form is generated from `survey.QUESTIONNAIRE`; each answer travels as `answers-<code>`. Values are only
converted to the types the questionnaire stores (booleans, whole numbers); checking them is left to
`worklist.record_attempt`, which validates exactly as for the API, so both faces agree.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from callback.models import INTERVIEW_DISPOSITIONS, Disposition
from callback.survey import QUESTIONNAIRE, Question
from callback.worklist import MAX_NOTE_LENGTH

ANSWER_PREFIX = "answers-"
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,9}")

# Keys that pick a disposition without the mouse: Alt+digit, or a letter when not typing.
DISPOSITION_KEYS: dict[str, tuple[str, str]] = {
    Disposition.COMPLETED: ("1", "c"),
    Disposition.PARTIAL: ("2", "p"),
    Disposition.REFUSED: ("3", "x"),
    Disposition.CALLBACK_REQUESTED: ("4", "a"),
    Disposition.NO_ANSWER: ("5", "u"),
    Disposition.BUSY: ("6", "b"),
    Disposition.VOICEMAIL: ("7", "v"),
    Disposition.WRONG_NUMBER: ("8", "w"),
    Disposition.INVALID_NUMBER: ("9", "i"),
}

# What each outcome does to the task, shown under the buttons (contract 4.2's table in plain words).
DISPOSITION_EFFECTS: dict[str, LazyString] = {
    Disposition.COMPLETED: _l("Survey done; the task is finished."),
    Disposition.PARTIAL: _l("Some answers given; the task is finished."),
    Disposition.REFUSED: _l("The customer declined; the task is finished."),
    Disposition.CALLBACK_REQUESTED: _l("Call again at the time agreed; not a failed attempt."),
    Disposition.NO_ANSWER: _l("Tried again later; a failed attempt."),
    Disposition.BUSY: _l("Tried again later; a failed attempt."),
    Disposition.VOICEMAIL: _l("Tried again later; a failed attempt."),
    Disposition.WRONG_NUMBER: _l("The task becomes unreachable."),
    Disposition.INVALID_NUMBER: _l("The task becomes unreachable."),
}


@dataclass
class CallForm:
    """The operator's input as typed (to show it again) and as the worklist takes it."""

    raw: dict[str, str] = field(default_factory=dict)
    disposition: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    callback_at: str | None = None
    note: str | None = None


def field_name(question: Question) -> str:
    """Return the form field name of a question's answer."""
    return ANSWER_PREFIX + question.code


def _typed(question: Question, text: str) -> Any:
    """Return a typed answer from its form text; text that does not convert is left for validation."""
    text = text.strip()
    if not text:
        return None
    if question.type == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if question.type == "integer" and WHOLE_NUMBER.fullmatch(text):
        return int(text)
    return text


def read_call_form(form: Mapping[str, str]) -> CallForm:
    """Read the call form's fields; answers go with completed and partial calls only."""
    raw = {key: value for key, value in form.items() if key != "csrf_token"}
    disposition = (form.get("disposition") or "").strip() or None
    answers: dict[str, Any] = {}
    # A call that ended otherwise drops whatever was ticked before the customer hung up or declined.
    if disposition in {d.value for d in INTERVIEW_DISPOSITIONS}:
        for question in QUESTIONNAIRE:
            value = _typed(question, form.get(field_name(question), ""))
            if value is not None:
                answers[question.code] = value
    callback_at = None
    if disposition == Disposition.CALLBACK_REQUESTED:
        callback_at = (form.get("callback_at") or "").strip() or None
    note = form.get("note")
    return CallForm(
        raw=raw,
        disposition=disposition,
        answers=answers,
        callback_at=callback_at,
        note=note if note and note.strip() else None,
    )


def field_errors(details: list[dict[str, str]]) -> dict[str, str]:
    """Map the worklist's error details to the form's field names, in words for the operator."""
    errors: dict[str, str] = {}
    for detail in details:
        name = detail.get("field", "")
        if name.startswith("answers."):
            key = ANSWER_PREFIX + name.removeprefix("answers.")
            message = detail.get("message", "")
        elif name == "disposition":
            key, message = "disposition", _("Choose how the call ended.")
        elif name == "callback_at":
            key, message = "callback_at", _("Pick a future date and time for the appointment.")
        elif name == "note":
            key = "note"
            message = _("The note may be at most %(limit)d characters.", limit=MAX_NOTE_LENGTH)
        else:
            key, message = "form", detail.get("message", "")
        errors[key] = f"{errors[key]} {message}" if key in errors else message
    return errors
