"""The case desk and notifications (issue 12): saved filters, attachments, in-app notifications, outbox."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime


class SavedFilter(Model):
    """A user's own named filter of the case list (the query string's whitelisted parameters)."""

    __tablename__ = "saved_filters"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("user_id", "name"),)


class CaseAttachment(Model):
    """A site photo (JPEG/PNG) or a scanned rectification report (PDF) kept with a case."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_cases.id"), index=True)
    # image/jpeg, image/png or application/pdf: what the file's first bytes say, never its name.
    content_type: Mapped[str] = mapped_column(String(32))
    original_filename: Mapped[str] = mapped_column(String(255))
    # Keys in ATTACHMENTS_PATH; images also have a small JPEG thumbnail.
    path: Mapped[str] = mapped_column(String(300))
    thumbnail_path: Mapped[str | None] = mapped_column(String(300))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class NotificationKind(StrEnum):
    CASE_ASSIGNED = "case_assigned"
    CASE_OVERDUE = "case_overdue"
    RECTIFICATION_OVERDUE = "rectification_overdue"
    APPOINTMENT_DUE = "appointment_due"


class Notification(Model):
    """One in-app notification for one user; `key` names the event, so it is never raised twice."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_cases.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("callback_tasks.id"))
    # What the message shows (order number, category, times), rendered in the reader's language.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    # Taken by a delivery run; a run that dies here leaves it `failed`, never sent again blindly.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Model):
    """A message to deliver outside the app (WeCom group robot, e-mail), once, with retries."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    # An e-mail address (channel email); none for the WeCom group.
    recipient: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_outbox_messages_status_next_try_at", "status", "next_try_at"),)
