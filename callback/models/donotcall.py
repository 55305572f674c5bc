"""The do-not-call list (免打扰名单): numbers nobody calls, with why, who listed them and until when."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime


class DoNotCallReason(StrEnum):
    CUSTOMER_ASKED = "customer_asked"
    COMPLAINT = "complaint"
    LEGAL = "legal"
    # A whistle-blower (吃拿卡要 reported): besides not calling, case pages hide who the customer is.
    INTEGRITY = "integrity"


class DoNotCallSource(StrEnum):
    CALL_SCREEN = "call_screen"
    SUPERVISOR = "supervisor"
    API = "api"


class DoNotCallEntry(Model):
    """One listing of a number; removal keeps the row (removed_at, removed_by) as history."""

    __tablename__ = "do_not_call_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        # One active (not removed) entry per number; removed ones stay as history.
        Index(
            "uq_do_not_call_entries_active_number",
            "number",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index("ix_do_not_call_entries_number", "number", "removed_at"),
    )

    def is_live(self, now: datetime) -> bool:
        """Say whether the entry stops calls at `now` (not removed, not expired)."""
        return self.removed_at is None and (self.expires_at is None or self.expires_at > now)
