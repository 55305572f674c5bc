"""Message follow-up (issue 13): one templated, one-way SMS per task, after the last failed contact
attempt or at the customer's request, through Twilio Messaging, Alibaba Cloud SMS or the simulation."""

from flask import Flask
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.messaging.service import (
    SMS_CHANNEL,
    FollowupError,
    FollowupSender,
    SendReport,
    apply_status,
    may_message,
    message_text,
    queue_unreachable_followups,
    request_followup,
)

SMS_STATUS_PREFIX = "/twilio/sms-status"


def sms_status_path(followup_id: int) -> str:
    """Return the path of a message's Twilio status callback; its id ties the receipt to the follow-up."""
    return f"{SMS_STATUS_PREFIX}/{followup_id}"


def followup_sender(app: Flask, session: Session, actor: Actor) -> FollowupSender:
    """Return the sender of this instance's queued messages, paced by SMS_PER_SECOND across processes."""
    from callback.extensions import db
    from callback.messaging.providers import make_messenger
    from callback.telephony.pacing import SMS_PACING_ROW, CallPacer
    from callback.telephony.signing import public_url

    settings = app.extensions["callback.settings"]
    pacer = CallPacer(db.engine, settings.sms_per_second, row=SMS_PACING_ROW)
    return FollowupSender(
        session,
        make_messenger(app),
        settings=settings,
        status_url=lambda followup_id: public_url(app.config, sms_status_path(followup_id)),
        wait_for_slot=pacer.wait_for_slot,
        actor=actor,
    )


__all__ = [
    "SMS_CHANNEL",
    "FollowupError",
    "FollowupSender",
    "SendReport",
    "apply_status",
    "followup_sender",
    "may_message",
    "message_text",
    "queue_unreachable_followups",
    "request_followup",
    "sms_status_path",
]
