"""Spot checks of calls (录音抽检): scorecard versions and the reviews of sampled calls."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime


class Scorecard(Model):
    """One version of the scorecard; editing stores a new version, reviews keep the one they used."""

    __tablename__ = "qa_scorecards"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    # {"pass_mark": 80, "items": [{"code", "label_zh", "label_en", "points", "instant_fail"}]}
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ReviewReason(StrEnum):
    SAMPLE = "sample"  # drawn at random from the operator's week, by disposition
    CASE = "case"  # the call opened an integrity or false-completion case: always reviewed


class QaReview(Model):
    __tablename__ = "qa_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a call is reviewed once, however often the weekly draw runs.
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week of the call, "2026-W48"
    reason: Mapped[str] = mapped_column(String(16))
    stratum: Mapped[str] = mapped_column(String(24))  # the call's disposition when drawn
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scorecard_id: Mapped[int | None] = mapped_column(ForeignKey("qa_scorecards.id"))
    marks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    score: Mapped[int | None]
    max_score: Mapped[int | None]
    passed: Mapped[bool | None]
    instant_fail: Mapped[bool | None]
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    corrected_from: Mapped[str | None] = mapped_column(String(24))
    corrected_to: Mapped[str | None] = mapped_column(String(24))

    __table_args__ = (Index("ix_qa_reviews_operator_week", "operator_id", "week"),)
