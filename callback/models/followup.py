"""Message follow-ups (短信回访提醒): one templated, one-way message per task at most, ever."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime


class FollowupReason(StrEnum):
    UNREACHABLE = "unreachable"  # the last failed contact attempt made the task unreachable
    CUSTOMER_REQUEST = "customer_request"  # the customer asked for it on the call


class FollowupState(StrEnum):
    QUEUED = "queued"  # waiting for the next paced send (tick)
    SENT = "sent"  # the provider accepted it; no receipt yet
    DELIVERED = "delivered"  # the receipt says the handset got it
    FAILED = "failed"  # the provider refused it, or the receipt says it was not delivered
    UNKNOWN = "unknown"  # the send's answer was lost: never sent again blindly
    REFUSED = "refused"  # not sent: the number is on the do-not-call list


FINAL_FOLLOWUP_STATES = frozenset({FollowupState.DELIVERED, FollowupState.FAILED, FollowupState.REFUSED})


class SmsFollowup(Model):
    __tablename__ = "sms_followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a task's customer gets one message at most, whatever asks for it and however often.
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16), default=FollowupState.QUEUED.value, index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The attempt of channel `sms` that records the send and carries its delivery status.
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
