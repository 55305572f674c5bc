"""Twilio webhooks (TwiML for the IVR, call status callbacks) and the IVR transcript page (contract 7).

Every webhook checks X-Twilio-Signature against PUBLIC_BASE_URL + path + query and answers 403 otherwise;
CSRF does not apply (Twilio cannot send a token), the signature stands in for it.
"""

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, ParamSpec

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.models import CallAttempt, CallbackTask, Role, TaskChannel
from callback.recordings import note_provider_recording
from callback.recordings.fetchers import TWILIO_RECORDING_SID, simulated_source_url, twilio_media_url
from callback.settings import current_settings
from callback.survey import QUESTIONS_BY_CODE
from callback.telephony import ivr
from callback.telephony.signing import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, is_signed
from callback.web.auth import roles_required
from callback.web.paging import whole_number

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
P = ParamSpec("P")
TRANSCRIPT_VIEWERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def _plain(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _twiml(document: str) -> Response:
    return Response(document, mimetype="text/xml")


def signed(view: Callable[P, Response]) -> Callable[P, Response]:
    """Answer 403 unless the request carries Twilio's signature for PUBLIC_BASE_URL + path + query."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        if not is_signed(
            current_app.config,
            request.path,
            request.query_string.decode("latin-1"),
            request.form,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(SIGNATURE_SETTINGS_HEADER),
        ):
            return _plain("Invalid or missing X-Twilio-Signature.", 403)
        return view(*args, **kwargs)

    return wrapped


def _locked_attempt(attempt_id: int) -> CallAttempt | None:
    return ivr.lock_attempt(db.session, attempt_id)


def _run_ivr_step(attempt_id: int, step: Callable[[ivr.LiveCall], str]) -> Response:
    """Lock the call, run one IVR step on it and answer its TwiML; 404 or 409 if it does not fit."""
    attempt = ivr.lock_call(db.session, attempt_id)
    if attempt is None:
        return _plain(f"No automated call attempt {attempt_id}.", 404)
    try:
        document = step(attempt)
    except ivr.CallMismatch as mismatch:
        db.session.rollback()
        return _plain(str(mismatch), 409)
    db.session.commit()
    return _twiml(document)


@bp.post("/voice/<int:attempt_id>")
@signed
def voice(attempt_id: int) -> Response:
    """Return the IVR's first TwiML when the customer (or a machine) answers."""
    return _run_ivr_step(
        attempt_id,
        lambda attempt: ivr.on_voice(
            db.session,
            attempt,
            request.form,
            now=utcnow(),
            settings=current_settings(),
            config=current_app.config,
        ),
    )


@bp.post("/gather/<int:attempt_id>")
@signed
def gather(attempt_id: int) -> Response:
    """Take the keypad answer to the question named in the query (q=code, try=1..3)."""
    question = ivr.ivr_question(request.args.get("q"))
    try_number = whole_number(request.args.get("try"), ivr.TRIES_PER_QUESTION)
    if question is None or try_number is None or try_number < 1:
        known = ", ".join(code for code in QUESTIONS_BY_CODE if ivr.ivr_question(code) is not None)
        return _plain(f"The query needs q (one of {known}) and try (1 to {ivr.TRIES_PER_QUESTION}).", 400)
    return _run_ivr_step(
        attempt_id,
        lambda attempt: ivr.on_gather(
            db.session,
            attempt,
            question,
            try_number,
            request.form,
            now=utcnow(),
            settings=current_settings(),
            config=current_app.config,
        ),
    )


@bp.post("/status/<int:attempt_id>")
@signed
def status(attempt_id: int) -> Response:
    """Record a call status callback (initiated, ringing, answered, completed, busy, no-answer, …)."""
    call_status = request.form.get("CallStatus")
    if not ivr.is_known_status(call_status):
        return _plain(f"Unknown CallStatus {call_status!r}.", 400)
    attempt = ivr.lock_call(db.session, attempt_id)
    if attempt is None:
        return _plain(f"No automated call attempt {attempt_id}.", 404)
    try:
        ivr.on_status(db.session, attempt, request.form, now=utcnow(), settings=current_settings())
    except ivr.CallMismatch as mismatch:
        db.session.rollback()
        return _plain(str(mismatch), 409)
    db.session.commit()
    return Response(status=204)


def _whole_number(value: str | None, low: int, high: int) -> int | bool | None:
    """Read an optional whole number within bounds: the number, None when absent, False when invalid."""
    if value in (None, ""):
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        return False
    return int(value)


@bp.post("/recording/<int:attempt_id>")
@signed
def recording(attempt_id: int) -> Response:
    """Note that the call's recording is ready (RecordingStatus=completed); `tick` and the dialer fetch it."""
    if current_app.config["TELEPHONY"] == "aliyun":
        # An Alibaba Cloud deployment places no Twilio calls: its recordings come as VoiceRecordReports.
        return _plain("This deployment places no Twilio calls (TELEPHONY=aliyun).", 404)
    form = request.form
    recording_status = form.get("RecordingStatus")
    if recording_status not in ("in-progress", "completed", "absent", "failed"):
        return _plain(f"Unknown RecordingStatus {recording_status!r}.", 400)
    recording_sid = form.get("RecordingSid") or ""
    duration = _whole_number(form.get("RecordingDuration"), 0, 24 * 3600)
    channels = _whole_number(form.get("RecordingChannels"), 1, 2)
    if not TWILIO_RECORDING_SID.match(recording_sid) or duration is False or channels is False:
        return _plain(
            "The callback needs RecordingSid (RE + 32 hex digits), and RecordingDuration (seconds) and "
            "RecordingChannels (1 or 2) as whole numbers when given.",
            400,
        )
    if recording_status != "completed":
        return Response(status=204)  # nothing to fetch (yet)
    attempt = _locked_attempt(attempt_id)
    if attempt is None:
        return _plain(f"No automated call attempt {attempt_id}.", 404)
    call_sid = form.get("CallSid") or None
    if call_sid and attempt.provider_call_sid and call_sid != attempt.provider_call_sid:
        db.session.rollback()
        message = f"attempt {attempt_id} belongs to call {attempt.provider_call_sid}, not {call_sid}"
        return _plain(message, 409)
    config = current_app.config
    if config["TELEPHONY"] == "twilio":
        provider = "twilio"
        source_url = twilio_media_url(config["TWILIO_API_BASE"], config["TWILIO_ACCOUNT_SID"], recording_sid)
    else:  # the simulated customer speaking Twilio (SIMULATION_PROTOCOL=twilio or both)
        provider = "simulated"
        source_url = simulated_source_url(recording_sid, int(duration or 5))
    note_provider_recording(
        db.session,
        attempt,
        provider=provider,
        recording_id=recording_sid,
        source_url=source_url,
        duration_seconds=float(duration) if duration is not None else None,
        channels=channels if channels is not None else None,
        now=utcnow(),
        actor=Actor(source="webhook"),
    )
    db.session.commit()
    return Response(status=204)


@bp.get("/attempts/<int:attempt_id>/transcript")
@roles_required(*TRANSCRIPT_VIEWERS)
def transcript(attempt_id: int) -> str:
    """Show what the IVR said and what the customer pressed during one automated call."""
    attempt = db.session.scalar(
        select(CallAttempt).where(CallAttempt.id == attempt_id, CallAttempt.channel == TaskChannel.AUTO.value)
    )
    if attempt is None:
        abort(404)
    task = db.session.get(CallbackTask, attempt.task_id)
    english = get_locale() is not None and get_locale().language == "en"  # type: ignore[union-attr]
    return render_template(
        "telephony/transcript.html",
        attempt=attempt,
        task=task,
        events=[_event_row(event, english) for event in attempt.transcript or []],
        answers=[
            (_question_text(answer.question, english), _answer_text(answer.question, answer.value, english))
            for answer in attempt.answers
        ],
    )


def _question_text(code: str | None, english: bool) -> str:
    question = QUESTIONS_BY_CODE.get(code or "")
    if question is None:
        return code or ""
    return question.en if english else question.zh


def _answer_text(code: str, value: Any, english: bool) -> str:
    question = QUESTIONS_BY_CODE.get(code)
    choice = question.choice_for(value) if question is not None else None
    if choice is not None:
        return f"{choice.en if english else choice.zh} ({value})"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def _event_row(event: dict[str, Any], english: bool) -> dict[str, Any]:
    """Turn a transcript entry into what the page shows: when, who, about which question, what."""
    try:
        at = datetime.fromisoformat(str(event.get("at")))
    except ValueError:
        at = None
    understood = event.get("understood")
    code = event.get("question")
    return {
        "at": at,
        "event": event.get("event"),
        "question": _question_text(code, english) if code else "",
        "try_number": event.get("try_number"),
        # What the customer said (answers by voice), as the provider's recogniser heard it.
        "text": event.get("text") or "",
        "digits": event.get("digits"),
        "valid": event.get("valid"),
        "understood": _answer_text(code, understood, english) if code and understood is not None else None,
        "provider": event.get("provider"),
    }
