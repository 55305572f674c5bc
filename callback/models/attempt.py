"""Call attempts (呼叫尝试) and the answers given in them."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callback.extensions import Model
from callback.models.types import UTCDateTime
from callback.partitions import PARTITION_KEY, create_initial_partitions

if TYPE_CHECKING:
    from callback.models.case import Finding
    from callback.models.task import CallbackTask


class Disposition(StrEnum):
    COMPLETED = "completed"
    PARTIAL = "partial"
    REFUSED = "refused"
    CALLBACK_REQUESTED = "callback_requested"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    INVALID_NUMBER = "invalid_number"
    # The customer asked never to be called again (or the number was listed): a respondent-level refusal.
    DO_NOT_CALL = "do_not_call"


# AAPOR Standard Definitions final disposition codes (contract 4.2).
AAPOR_CODES: dict[Disposition, str] = {
    Disposition.COMPLETED: "1.1",
    Disposition.PARTIAL: "1.2",
    Disposition.REFUSED: "2.11",
    Disposition.CALLBACK_REQUESTED: "2.12",
    Disposition.NO_ANSWER: "3.13",
    Disposition.BUSY: "3.12",
    Disposition.VOICEMAIL: "3.14",
    Disposition.WRONG_NUMBER: "4.7",  # no eligible respondent: the person reached is not the customer
    Disposition.INVALID_NUMBER: "4.3",
    Disposition.DO_NOT_CALL: "2.112",  # known-respondent refusal
}
INTERVIEW_DISPOSITIONS = frozenset({Disposition.COMPLETED, Disposition.PARTIAL})
FAILED_CONTACT_DISPOSITIONS = frozenset({Disposition.NO_ANSWER, Disposition.BUSY, Disposition.VOICEMAIL})
DEAD_NUMBER_DISPOSITIONS = frozenset({Disposition.WRONG_NUMBER, Disposition.INVALID_NUMBER})


class CallAttempt(Model):
    __tablename__ = "call_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Empty while an automated call is under way; set once, then final.
    disposition: Mapped[str | None] = mapped_column(String(24))
    aapor_code: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The CALL_SLOTS slot the call started in (None: outside every slot, or a message): retries rotate on it.
    slot: Mapped[str | None] = mapped_column(String(32))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    # The order as the system recorded it when the call was made: what findings compare against.
    order_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Automated calls only: the provider's call (Twilio CallSid), its latest status and AnsweredBy.
    # Unique (see __table_args__): on PostgreSQL within each month's partition.
    provider_call_sid: Mapped[str | None] = mapped_column(String(64))
    call_status: Mapped[str | None] = mapped_column(String(24))
    answered_by: Mapped[str | None] = mapped_column(String(32))
    # When the IVR played its closing message: the whole questionnaire was put to the customer.
    ivr_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the IVR said and what was pressed, in order: [{"at", "event", "question", "text", "digits"}].
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    task: Mapped["CallbackTask"] = relationship(back_populates="attempts")
    answers: Mapped[list["Answer"]] = relationship(
        back_populates="attempt", order_by="Answer.id", lazy="selectin"
    )
    findings: Mapped[list["Finding"]] = relationship(back_populates="attempt", order_by="Finding.id")

    __table_args__ = (
        # /metrics counts attempts by channel and disposition at every scrape: an index-only scan.
        Index("ix_call_attempts_outcome", "channel", "disposition"),
        # PostgreSQL cannot keep a key that leaves out the partition key unique across partitions: each
        # month's partition has its own unique index instead (callback/partitions.py, UNIQUE_PER_MONTH).
        # A provider never hands out a call id twice; within a month the database still refuses it.
        UniqueConstraint("provider_call_sid").ddl_if(dialect="sqlite"),
        # PostgreSQL: one block of ids per month, partitioned by id (callback/partitions.py), so the primary
        # key and the six foreign keys that point at it stay as they are.
        {"postgresql_partition_by": "RANGE (id)", "info": {PARTITION_KEY: "id"}},
    )

    def answer_map(self) -> dict[str, Any]:
        """Return the answers as {question code: value}."""
        return {answer.question: answer.value for answer in self.answers}


event.listen(CallAttempt.__table__, "after_create", create_initial_partitions)


class Answer(Model):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id"))
    question: Mapped[str] = mapped_column(String(32))
    # JSON keeps each answer's type (true, 3, "2026-03-01", "connected") on every database.
    value: Mapped[Any] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())

    attempt: Mapped[CallAttempt] = relationship(back_populates="answers")

    # Keyed by (attempt, question), so a repeated IVR webhook is harmless.
    __table_args__ = (UniqueConstraint("attempt_id", "question"),)


class DialerPacing(Model):
    """One row shared by every dialer process: the earliest moment the next call may be placed.

    Dialers reserve slots with a compare-and-set UPDATE on it, so all of them together place no more than
    DIALER_CALLS_PER_SECOND calls (the moment is wall-clock microseconds since the Unix epoch).
    """

    __tablename__ = "dialer_pacing"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    next_slot_us: Mapped[int] = mapped_column(BigInteger)
