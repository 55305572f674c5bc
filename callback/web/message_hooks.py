"""Delivery receipts of message follow-ups: Twilio's signed status callback under /twilio/ and Alibaba
Cloud's SmsReport HTTP push under /aliyun/<token>/. A receipt may come twice or out of order: a message in
a final state (delivered, failed) never moves again."""

import logging
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.messaging import apply_status
from callback.messaging.providers import twilio_state
from callback.models import SmsFollowup
from callback.web.aliyun_hooks import RECEIVED, _refusal, tokened
from callback.web.telephony_hooks import _plain, signed

log = logging.getLogger(__name__)
twilio_bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio")
aliyun_bp = Blueprint("aliyun_sms", __name__, url_prefix="/aliyun")
WEBHOOK = Actor(source="webhook")
TWILIO_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "undelivered",
        "failed",
        "canceled",
    }
)


@twilio_bp.post("/sms-status/<int:followup_id>")
@signed
def twilio_status(followup_id: int) -> Response:
    """Record a Twilio message status callback (queued, sent, delivered, undelivered, failed, …)."""
    status = request.form.get("MessageStatus") or request.form.get("SmsStatus")
    if status not in TWILIO_STATUSES:
        return _plain(f"Unknown MessageStatus {status!r}.", 400)
    followup = db.session.get(SmsFollowup, followup_id, with_for_update=True)
    if followup is None:
        return _plain(f"No message follow-up {followup_id}.", 404)
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    if followup.provider_message_id and sid and sid != followup.provider_message_id:
        return _plain("The MessageSid is not this follow-up's message.", 409)
    error = request.form.get("ErrorCode")
    apply_status(
        db.session,
        followup,
        twilio_state(status),
        now=utcnow(),
        actor=WEBHOOK,
        error=f"Twilio error {error}" if error else None,
        message_id=sid,
    )
    db.session.commit()
    return Response(status=204)


def _followup_of_report(report: dict[str, Any]) -> SmsFollowup | None:
    biz_id = str(report.get("biz_id") or "")
    if biz_id:
        found = db.session.scalar(
            select(SmsFollowup).where(SmsFollowup.provider_message_id == biz_id).with_for_update()
        )
        if found is not None:
            return found
    out_id = str(report.get("out_id") or "")
    if out_id.isdigit() and len(out_id) <= 15:
        return db.session.get(SmsFollowup, int(out_id), with_for_update=True)
    return None


@aliyun_bp.post("/<token>/sms-report")
@tokened
def sms_report() -> Response:
    """Take SmsReport receipts (短信发送状态): whether each message reached the handset."""
    body = request.get_json(force=True, silent=True)  # whatever Content-Type the push declares
    reports: list[Any] = body if isinstance(body, list) else [body]
    if not reports or not all(isinstance(item, dict) and item.get("biz_id") for item in reports):
        return _refusal("The body must be a JSON array of SmsReport objects, each with its biz_id.", 400)
    now = utcnow()
    for report in reports:
        followup = _followup_of_report(report)
        if followup is None:
            log.warning("an SmsReport names no message follow-up; skipped")
            continue
        success = report.get("success")
        if not isinstance(success, bool):
            success = str(success).lower() == "true"
        error = None if success else f"{report.get('err_code') or ''} {report.get('err_msg') or ''}".strip()
        apply_status(
            db.session,
            followup,
            "delivered" if success else "failed",
            now=now,
            actor=WEBHOOK,
            error=error,
            message_id=str(report["biz_id"]),
        )
    db.session.commit()
    return jsonify(RECEIVED)
