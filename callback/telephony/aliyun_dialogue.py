"""Alibaba Cloud SmartCall: the dialogue callback (智能外呼回调) and the receipts (回执).

The questionnaire is the IVR's (ivr.start_survey / ivr.take_answer): each callback brings what the customer
said (`normal`, ASR words) or pressed (`dtmf`), or silence (`mute`), for a `call_id`; the reply puts the next
question as TTS, or hangs up. `dynamic_id` goes out with each reply and comes back with the next callback, so
it names the attempt, the question put and its try — a repeated callback is answered the same way again.
VoiceReport receipts end the attempt with the same dispositions as Twilio's status callbacks; a
VoiceRecordReport's recording link is noted as a pending recording, which the fetch job downloads and hashes.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.models import CallAttempt, Disposition
from callback.recordings import note_provider_recording
from callback.recordings.fetchers import SIMULATED_SCHEME
from callback.settings import Settings
from callback.telephony import ivr, script
from callback.telephony.aliyun_provider import dynamic_id, parse_dynamic_id, speakable
from callback.telephony.outcomes import HUMAN, disposition_for_ended_call
from callback.worklist import finish_automated_attempt, stored_answers

log = logging.getLogger(__name__)

PROVIDER = "aliyun"
# The recordings of TELEPHONY=simulated, whatever protocol its customers speak.
SIMULATED_PROVIDER = "simulated"
# A record_file longer than this is refused (a signed OSS link is a few hundred characters).
MAX_RECORD_FILE = 2000
MAX_DURATION_SECONDS = 24 * 3600
CONTENT_TYPES = ("normal", "dtmf", "mute", "timebreak")
# What a receipt's smart_status_code (智能状态码) means for the call, as a Twilio CallStatus and AnsweredBy.
SMART_STATUS: dict[str, tuple[str, str | None]] = {
    "ANSWERED": ("completed", HUMAN),
    "INTELLIGENT_ANSWER": ("completed", "machine_end_other"),  # a voice assistant or voicemail took it
    "USER_BUSY": ("busy", None),
    "CALL_REJECTED": ("busy", None),
    "NO_ANSWER": ("no-answer", None),
    "NO_USER_RESPONDING": ("no-answer", None),
    "POWERED_OFF": ("no-answer", None),
    "NETWORK_BUSY": ("no-answer", None),
    "UNAVAILABLE": ("no-answer", None),
    "CALL_FORWARDING": ("no-answer", None),
    "INCOMING_CALL_BARRED": ("no-answer", None),
    "OPERATOR_BLOCK": ("failed", None),
    "CANCEL": ("canceled", None),
    "INVALID_NUMBER": ("invalid", None),
    "SUSPEND": ("invalid", None),
}
# The older status_code (呼叫状态码), used when a receipt has no smart_status_code.
STATUS_CODE: dict[str, tuple[str, str | None]] = {
    "200000": ("completed", HUMAN),  # listened to the end
    "200001": ("completed", HUMAN),  # hung up early
    "200100": ("completed", HUMAN),  # call ended
    "200002": ("busy", None),
    "200003": ("no-answer", None),
    "200005": ("no-answer", None),
    "200007": ("no-answer", None),
    "200010": ("no-answer", None),
    "200004": ("invalid", None),
    "200011": ("invalid", None),
}
INVALID = "invalid"


class BadCallback(ValueError):
    """The callback cannot be read; the message says why (answered 400, nothing changes)."""


def callback_token(config: Mapping[str, Any]) -> str:
    """Return the token the /aliyun/ callback URLs carry: ALIYUN_CALLBACK_TOKEN, or the demo's."""
    if config.get("ALIYUN_CALLBACK_TOKEN"):
        return str(config["ALIYUN_CALLBACK_TOKEN"])
    # The simulated customer (SIMULATION_PROTOCOL=aliyun): web server and dialer agree without configuration.
    return hmac.new(str(config["SECRET_KEY"]).encode(), b"simulated-aliyun", hashlib.sha256).hexdigest()


def token_matches(config: Mapping[str, Any], given: str) -> bool:
    """Tell whether a callback URL's token is this deployment's (constant-time)."""
    return hmac.compare_digest(callback_token(config).encode(), given.encode())


def callback_path(config: Mapping[str, Any], kind: str) -> str:
    """Return the path of a callback to configure in the console: dialogue, voice-report, record-report."""
    return f"/aliyun/{callback_token(config)}/{kind}"


# --- the dialogue --------------------------------------------------------------------------------


def read_dialogue(values: Mapping[str, str]) -> tuple[str, str, dict[str, Any]]:
    """Return (call_id, content_type, content) of a dialogue callback, or raise BadCallback."""
    call_id = (values.get("call_id") or "").strip()
    content_type = (values.get("content_type") or "").strip()
    if not call_id or len(call_id) > 64:
        raise BadCallback("call_id is required (at most 64 characters).")
    if content_type not in CONTENT_TYPES:
        raise BadCallback(f"content_type must be one of {', '.join(CONTENT_TYPES)}.")
    raw = values.get("content") or "{}"
    try:
        content = json.loads(raw)
    except ValueError:
        raise BadCallback("content must be a JSON object.") from None
    if not isinstance(content, dict):
        raise BadCallback("content must be a JSON object.")
    return call_id, content_type, content


def attempt_of_dialogue(
    session: Session, call_id: str, content: Mapping[str, Any]
) -> tuple[int, str | None, int]:
    """Return (attempt id, question put, try) of a dialogue callback: by dynamic_id, else call_id."""
    parsed = parse_dynamic_id(str(content.get("dynamic_id") or ""))
    if parsed is not None:
        return parsed
    attempt_id = session.scalar(select(CallAttempt.id).where(CallAttempt.provider_call_sid == call_id))
    if attempt_id is None:
        raise LookupError(call_id)
    return attempt_id, None, 1


def reply(call_id: str, attempt_id: int, turn: ivr.Turn) -> dict[str, Any]:
    """Render an IVR turn as the SmartCall callback's answer: play the next question, or hang up. Pure."""
    if turn.question is None:
        data: dict[str, Any] = {"call_id": call_id, "action": "hangup", "dynamic_id": dynamic_id(attempt_id)}
        if turn.closing:
            data |= {"action_code": "$prompt$", "action_code_param": {"prompt": speakable(turn.closing)}}
        return {"result": "success", "msg": "成功", "code": 200, "data": data}
    text = "".join(part for part in (turn.notice, turn.preamble, turn.prompt) if part)
    return {
        "result": "success",
        "msg": "成功",
        "code": 200,
        "data": {
            "call_id": call_id,
            "action": "play",
            "action_code": "$prompt$",
            "action_code_param": {"prompt": speakable(text)},
            "action_break": True,
            "action_code_break": True,
            "dynamic_id": dynamic_id(attempt_id, turn.question.code, turn.try_number),
        },
    }


def on_dialogue(
    session: Session,
    attempt: ivr.LiveCall,
    call_id: str,
    content_type: str,
    content: Mapping[str, Any],
    question_code: str | None,
    try_number: int,
    *,
    now: datetime,
    settings: Settings,
) -> dict[str, Any]:
    """Take one turn of the SmartCall dialogue and return the reply: the next prompt, or hang up."""
    answer = _dialogue_turn(
        session,
        attempt,
        call_id,
        content_type,
        content,
        question_code,
        try_number,
        now=now,
        settings=settings,
    )
    ivr.save_call(session, attempt, now=now, settings=settings)
    return answer


def _dialogue_turn(
    session: Session,
    attempt: ivr.LiveCall,
    call_id: str,
    content_type: str,
    content: Mapping[str, Any],
    question_code: str | None,
    try_number: int,
    *,
    now: datetime,
    settings: Settings,
) -> dict[str, Any]:
    ivr.adopt_call(attempt, call_id)
    ivr.note_status(attempt, "in-progress", now)
    if attempt.answered_by is None:
        attempt.answered_by = HUMAN  # the platform calls back only once someone answered
    if attempt.disposition is None and attempt.ivr_finished_at is None and attempt.order_cancelled(session):
        # The order was cancelled during the call: end it at the provider's next turn.
        attempt.ivr_finished_at = now
        ivr.log_event(attempt, now, "said", text=script.ORDER_CANCELLED)
        return reply(call_id, attempt.id, ivr.Turn(closing=script.ORDER_CANCELLED))
    question = ivr.ivr_question(question_code) if question_code else None
    if question is None:
        # The first callback answers the opening's question (SmartCall played greeting and question 1).
        opening = ivr.start_survey(session, attempt, now=now)
        if opening.question is None:
            return reply(call_id, attempt.id, opening)
        question, try_number = opening.question, opening.try_number
    if content_type == "timebreak" and not content.get("words"):
        return {
            "result": "success",
            "msg": "成功",
            "code": 200,
            "data": {"call_id": call_id, "action": "continue"},
        }
    heard = ivr.Heard()
    if content_type in ("normal", "timebreak"):
        heard = ivr.Heard(speech=str(content.get("words") or "")[:500])
    elif content_type == "dtmf":
        keys = content.get("dtmf") or content.get("digits") or content.get("words") or ""
        heard = ivr.Heard(digits=str(keys)[:20])
    turn = ivr.take_answer(session, attempt, question, try_number, heard, now=now, settings=settings)
    return reply(call_id, attempt.id, turn)


# --- the receipts ------------------------------------------------------------------------------------


def read_receipts(body: Any) -> list[dict[str, Any]]:
    """Return the receipts of an HTTP push (a JSON array of objects, or one object), or raise BadCallback."""
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(item, dict) for item in items):
        raise BadCallback("The body must be a JSON array of receipt objects.")
    for item in items:
        if not isinstance(item.get("call_id"), str) or not item["call_id"] or len(item["call_id"]) > 64:
            raise BadCallback("Every receipt needs its call_id (at most 64 characters).")
    return items


def attempt_of_receipt(session: Session, receipt: Mapping[str, Any]) -> int | None:
    """Return the attempt a receipt is about: its out_id (our attempt id), else its call_id."""
    out_id = str(receipt.get("out_id") or "")
    if out_id.isdigit() and len(out_id) <= 15:
        return int(out_id)
    return session.scalar(select(CallAttempt.id).where(CallAttempt.provider_call_sid == receipt["call_id"]))


def receipt_outcome(receipt: Mapping[str, Any]) -> tuple[str, str | None]:
    """Return what a VoiceReport says: (a Twilio CallStatus or 'invalid', AnsweredBy). Pure."""
    smart = str(receipt.get("smart_status_code") or "").upper()
    if smart in SMART_STATUS:
        return SMART_STATUS[smart]
    status = str(receipt.get("status_code") or "")
    if status in STATUS_CODE:
        return STATUS_CODE[status]
    try:
        talked = float(receipt.get("duration") or 0) > 0
    except (TypeError, ValueError):
        talked = False
    return ("completed", HUMAN) if talked else ("failed", None)


def receipt_from_detail(call_id: str, attempt_id: int, detail: Mapping[str, Any]) -> dict[str, Any]:
    """Return QueryCallDetailByCallId's record of a call as the VoiceReport it stands in for. Pure."""
    return {
        "call_id": call_id,
        "out_id": str(attempt_id),
        "status_code": str(detail.get("state") or ""),
        "status_msg": str(detail.get("stateDesc") or ""),
        "duration": detail.get("duration") or 0,
        "start_time": detail.get("startDate") or "",
        "end_time": detail.get("endDate") or "",
    }


def on_voice_report(
    session: Session, attempt: CallAttempt, receipt: Mapping[str, Any], *, now: datetime, settings: Settings
) -> None:
    """Record a VoiceReport (呼叫记录): the call ended; its outcome ends the attempt unless it has one."""
    ivr.adopt_call(attempt, str(receipt["call_id"]))
    status, answered_by = receipt_outcome(receipt)
    codes = " ".join(str(receipt.get(key) or "") for key in ("status_code", "smart_status_code")).strip()
    ivr.log_event(attempt, now, "status", text=f"{status} ({codes})" if codes else status)
    if answered_by and attempt.answered_by is None:
        attempt.answered_by = answered_by
    if status != INVALID:
        ivr.note_status(attempt, status, now)
    if attempt.disposition is not None:
        return  # final: duplicates and stragglers change nothing
    note = f"Alibaba Cloud receipt {codes}: {receipt.get('status_msg') or ''}".strip(": ")[:500]
    if status == INVALID:
        finish_automated_attempt(
            session, attempt, Disposition.INVALID_NUMBER, note=note, now=now, settings=settings
        )
        return
    disposition = disposition_for_ended_call(
        status, attempt.answered_by, stored_answers(session, attempt.id), attempt.ivr_finished_at is not None
    )
    finish_automated_attempt(session, attempt, disposition, note=note, now=now, settings=settings)


def recording_provider(config: Mapping[str, Any]) -> str | None:
    """Return who holds the recordings that record reports announce, or None if no SmartCall is placed here.

    TELEPHONY=aliyun: Alibaba Cloud (`aliyun`: a pre-signed OSS link, fetched with a plain GET).
    TELEPHONY=simulated: the simulation (`simulated`: its SmartCall customer's record_file is a `simulated:`
    source, made on demand like the simulated Twilio recordings). TELEPHONY=twilio places no SmartCalls.
    """
    telephony = config.get("TELEPHONY")
    if telephony == "aliyun":
        return PROVIDER
    if telephony == "simulated":
        return SIMULATED_PROVIDER
    return None


def usable_record_file(provider: str, link: str, allowed_hosts: Sequence[str] = (".aliyuncs.com",)) -> bool:
    """Tell whether a record_file is a source the provider's fetcher reads: a simulated: source, or an
    http(s) link to one of `allowed_hosts` (exact names, or suffixes starting with a dot)."""
    parts = urlsplit(link)
    if provider == SIMULATED_PROVIDER:
        return parts.scheme == SIMULATED_SCHEME and bool(parts.path)
    host = (parts.hostname or "").lower()
    allowed = any(
        host.endswith(entry.lower()) if entry.startswith(".") else host == entry.lower()
        for entry in allowed_hosts
    )
    return parts.scheme in ("http", "https") and bool(host) and allowed


def on_record_report(
    session: Session,
    attempt: CallAttempt,
    receipt: Mapping[str, Any],
    *,
    provider: str,
    now: datetime,
    actor: Actor,
    allowed_hosts: Sequence[str] = (".aliyuncs.com",),
) -> bool:
    """Take a VoiceRecordReport (录音记录): note the call's recording for the fetch job, once.

    The link is kept in the attempt's transcript, and a pending recording (provider, call_id) is noted:
    the dialer and `tick` download it, hash it and keep it like a Twilio recording. A repeated report
    changes nothing. Return False, changing nothing, when the record_file is not a link we can fetch.
    """
    call_id = str(receipt["call_id"])
    ivr.adopt_call(attempt, call_id)
    link = str(receipt.get("record_file") or "")
    if not link or len(link) > MAX_RECORD_FILE or not usable_record_file(provider, link, allowed_hosts):
        log.warning("a VoiceRecordReport of attempt %s has no usable record_file; skipped", attempt.id)
        return False
    try:
        duration = float(receipt.get("duration") or 0) or None
    except (TypeError, ValueError):
        duration = None
    if duration is not None and not 0 < duration <= MAX_DURATION_SECONDS:
        duration = None
    ivr.log_event(
        attempt,
        now,
        "recording",
        provider=provider,
        recording_id=call_id,
        source_url=link,
        record_begin_time=str(receipt.get("record_begin_time") or "") or None,
        duration_seconds=duration,
    )
    note_provider_recording(
        session,
        attempt,
        provider=provider,
        recording_id=call_id,
        source_url=link,
        duration_seconds=duration,
        channels=None,  # not in the report: read from the file once fetched
        now=now,
        actor=actor,
    )
    return True


def provider_recordings(attempt: CallAttempt) -> list[dict[str, Any]]:
    """Return the recordings the provider announced for an attempt (from its transcript)."""
    return [event for event in attempt.transcript or [] if event.get("event") == "recording"]
