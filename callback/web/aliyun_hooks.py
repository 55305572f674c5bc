"""Alibaba Cloud Voice Service callbacks (TELEPHONY=aliyun): the SmartCall dialogue and the receipts.

Every URL carries this deployment's unguessable ALIYUN_CALLBACK_TOKEN (compared in constant time): a request
without it is 403 and changes nothing, like an unsigned Twilio webhook. Alibaba's HTTP callbacks carry no
signature of their own to check (docs/telephony.md). CSRF does not apply; the token stands in for it.
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.settings import current_settings
from callback.telephony import aliyun_dialogue, ivr

log = logging.getLogger(__name__)
bp = Blueprint("aliyun", __name__, url_prefix="/aliyun")
P = ParamSpec("P")
# What Alibaba's HTTP push expects from a receiver that took the receipts.
RECEIVED = {"code": 0, "msg": "成功"}


def _refusal(message: str, status: int) -> Response:
    response = jsonify({"code": status, "msg": message})
    response.status_code = status
    return response


def tokened(view: Callable[P, Response]) -> Callable[P, Response]:
    """Answer 403, changing nothing, unless the URL's token is this deployment's ALIYUN_CALLBACK_TOKEN."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        token = str(kwargs.pop("token", ""))
        if not aliyun_dialogue.token_matches(current_app.config, token):
            return _refusal("Unknown callback token.", 403)
        return view(*args, **kwargs)

    return wrapped


@bp.post("/<token>/dialogue")
@tokened
def dialogue() -> Response:
    """Take one turn of a SmartCall (智能外呼回调): what was said or pressed; answer the next move."""
    try:
        call_id, content_type, content = aliyun_dialogue.read_dialogue(request.values)
    except aliyun_dialogue.BadCallback as bad:
        return _refusal(str(bad), 400)
    try:
        attempt_id, question, try_number = aliyun_dialogue.attempt_of_dialogue(db.session, call_id, content)
    except LookupError:
        return _refusal("No automated call attempt has this call_id.", 404)
    if question is not None and ivr.ivr_question(question) is None:
        return _refusal("The dynamic_id names no question of the questionnaire.", 400)
    attempt = ivr.lock_call(db.session, attempt_id)
    if attempt is None:
        return _refusal(f"No automated call attempt {attempt_id}.", 404)
    try:
        answer = aliyun_dialogue.on_dialogue(
            db.session,
            attempt,
            call_id,
            content_type,
            content,
            question,
            try_number,
            now=utcnow(),
            settings=current_settings(),
        )
    except ivr.CallMismatch as mismatch:
        db.session.rollback()
        return _refusal(str(mismatch), 409)
    db.session.commit()
    return jsonify(answer)


def _receipts(handle: Callable[[Any, dict[str, Any]], object]) -> Response:
    """Hand each receipt of an HTTP push to `handle`, its attempt locked; unknown ones are skipped."""
    body = request.get_json(force=True, silent=True)  # whatever Content-Type the push declares
    try:
        receipts = aliyun_dialogue.read_receipts(body)
    except aliyun_dialogue.BadCallback as bad:
        return _refusal(str(bad), 400)
    for receipt in receipts:
        attempt_id = aliyun_dialogue.attempt_of_receipt(db.session, receipt)
        attempt = ivr.lock_attempt(db.session, attempt_id) if attempt_id is not None else None
        if attempt is None:
            log.warning("an Alibaba Cloud receipt names no automated call attempt; skipped")
            continue
        try:
            handle(attempt, receipt)
        except ivr.CallMismatch as mismatch:
            db.session.rollback()
            return _refusal(str(mismatch), 409)
    db.session.commit()
    return jsonify(RECEIVED)


@bp.post("/<token>/voice-report")
@tokened
def voice_report() -> Response:
    """Take VoiceReport receipts (呼叫记录): each ended call's outcome."""
    return _receipts(
        lambda attempt, receipt: aliyun_dialogue.on_voice_report(
            db.session, attempt, receipt, now=utcnow(), settings=current_settings()
        )
    )


@bp.post("/<token>/record-report")
@tokened
def record_report() -> Response:
    """Take VoiceRecordReport receipts (录音记录): each call's recording, noted for the fetch job."""
    provider = aliyun_dialogue.recording_provider(current_app.config)
    if provider is None:
        return _refusal("This deployment places no SmartCalls (TELEPHONY=twilio).", 404)
    return _receipts(
        lambda attempt, receipt: aliyun_dialogue.on_record_report(
            db.session,
            attempt,
            receipt,
            provider=provider,
            now=utcnow(),
            actor=Actor(source="webhook"),
            allowed_hosts=current_app.config.get("ALIYUN_RECORDING_HOSTS") or (),
        )
    )
