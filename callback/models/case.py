"""Findings (问题发现) and supervision cases (监督案件) with their evidence and history."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callback.extensions import Model
from callback.models.types import UTCDateTime

if TYPE_CHECKING:
    from callback.models.attempt import CallAttempt
    from callback.models.order import WorkOrder
    from callback.models.user import User


class CaseCategory(StrEnum):
    OFFLINE_CIRCULATION = "offline_circulation"
    FALSE_COMPLETION = "false_completion"
    OVERDUE_RISK = "overdue_risk"
    METER_NOT_NOTIFIED = "meter_not_notified"
    REPEAT_TRIPS = "repeat_trips"
    ONE_CERTIFICATE = "one_certificate"
    IRREGULAR_FEE = "irregular_fee"
    INTEGRITY = "integrity"
    DISSATISFIED = "dissatisfied"
    NONSTANDARD_ACCEPTANCE = "nonstandard_acceptance"
    CABINET_DOOR_OPEN = "cabinet_door_open"
    OTHER = "other"


class CaseState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    LETTER_ISSUED = "letter_issued"
    RECTIFIED = "rectified"
    CLOSED = "closed"
    DISMISSED = "dismissed"


ENDED_CASE_STATES = frozenset({CaseState.CLOSED, CaseState.DISMISSED})


class Finding(Model):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    # Which part of the rule fired, and the values it compared.
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_cases.id"), index=True)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())

    attempt: Mapped["CallAttempt"] = relationship(back_populates="findings")


class SupervisionCase(Model):
    __tablename__ = "supervision_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=CaseState.OPEN.value)
    # The order's centre and manager, copied when the case opens and whenever intake changes them (issue 14):
    # the case list filtered by either then reads the cases alone, not every order of the centre.
    service_center: Mapped[str] = mapped_column(String(50))
    account_manager: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    referred_to_discipline: Mapped[bool] = mapped_column(default=False)
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The SLA: when the case should be closed, in working days from opening.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # 业务监督意见书: its number (JD-2026-0001), when it was issued, what must be rectified, by when.
    letter_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    letter_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    letter_requirements: Mapped[str | None] = mapped_column(Text)
    letter_deadline: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    order: Mapped["WorkOrder"] = relationship()
    assignee: Mapped["User | None"] = relationship(foreign_keys=[assignee_id])
    penalties: Mapped[list["Penalty"]] = relationship(
        back_populates="case", order_by="Penalty.id", lazy="selectin"
    )
    evidence: Mapped[list["CaseEvidence"]] = relationship(
        back_populates="case", order_by="CaseEvidence.id", lazy="selectin"
    )
    history: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="selectin"
    )

    __table_args__ = (
        # One open case per order and category: a later finding adds evidence instead.
        Index(
            "uq_supervision_cases_open_order_category",
            "order_id",
            "category",
            unique=True,
            sqlite_where=text("state NOT IN ('closed', 'dismissed')"),
            postgresql_where=text("state NOT IN ('closed', 'dismissed')"),
        ),
        Index("ix_supervision_cases_state_category", "state", "category"),
        Index("ix_supervision_cases_service_center_state", "service_center", "state"),
        Index("ix_supervision_cases_account_manager_state", "account_manager", "state"),
    )


class CaseEvidence(Model):
    __tablename__ = "case_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_cases.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempts.id"))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    # What the customer said beside what the system recorded at that moment.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    order_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    case: Mapped[SupervisionCase] = relationship(back_populates="evidence")


class CaseEvent(Model):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # An "assigned" event's new assignee (None: unassigned). The note still carries the id for the API's
    # history, as before; pages read this column.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[SupervisionCase] = relationship(back_populates="history")


class Penalty(Model):
    """考核: a person penalised for a case, in yuan."""

    __tablename__ = "penalties"
    # One penalty per submitted form: a form sent twice (a double click) records it once.
    __table_args__ = (UniqueConstraint("case_id", "form_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_cases.id"), index=True)
    person: Mapped[str] = mapped_column(String(50))
    amount_yuan: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    form_token: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[SupervisionCase] = relationship(back_populates="penalties")


class LetterSequence(Model):
    """The last letter number issued in a year: one sequence per year."""

    __tablename__ = "letter_sequences"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)
