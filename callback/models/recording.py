"""Recordings of calls (通话录音), kept as evidence: fetched from the provider or uploaded by staff."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime


class RecordingStatus(StrEnum):
    # The provider said the recording is ready; its audio is not stored yet (fetched by `tick` / the dialer).
    PENDING = "pending"
    # The audio is in RECORDINGS_PATH with its hash.
    STORED = "stored"
    # Fetching failed RECORDING_FETCH_MAX_ATTEMPTS times; last_error says why.
    FAILED = "failed"
    # The audio was deleted with its order (retention); the row keeps the hash as a trace.
    DELETED = "deleted"


# Where a recording came from: the call's provider, or an upload from the call-centre's recorder.
UPLOAD_PROVIDER = "upload"


class CallRecording(Model):
    __tablename__ = "call_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"), index=True)
    # twilio, simulated, aliyun … or "upload".
    provider: Mapped[str] = mapped_column(String(16))
    # The provider's name for it (Twilio RecordingSid); None for uploads.
    provider_recording_id: Mapped[str | None] = mapped_column(String(64))
    # Where the audio is fetched from (Twilio: TWILIO_API_BASE/…/Recordings/RE….wav).
    source_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    # The storage key under RECORDINGS_PATH, once stored.
    path: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    duration_seconds: Mapped[float | None]
    channels: Mapped[int | None]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(64))
    # Uploads: the file name as the recorder gave it, and who uploaded it.
    original_filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fetch_attempts: Mapped[int] = mapped_column(default=0)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the provider's own copy was deleted (DELETE_PROVIDER_RECORDINGS).
    provider_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # A duplicate recording callback finds the row it made the first time.
        UniqueConstraint("provider", "provider_recording_id"),
        Index("ix_call_recordings_status_next_fetch_at", "status", "next_fetch_at"),
    )
