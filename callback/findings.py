"""Findings (问题发现): the customer's answers against the system's record, by the rules of contract 4.3.

Pure: a function of (answers, order snapshot, task kind, settings), with no database and no clock.
Only the answer-driven categories are here; `cabinet_door_open` and `other` are opened by hand.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callback.models.case import CaseCategory
from callback.models.order import POWERED_STATUSES, STAGE_SEQUENCE, Ledger, OrderStatus
from callback.models.task import TaskKind
from callback.settings import Settings

# The system's stages before the power is on; `cancelled` is off the sequence and not among them.
BEFORE_CONNECTED = frozenset(STAGE_SEQUENCE[: STAGE_SEQUENCE.index(OrderStatus.CONNECTED)])
# `satisfaction` at or below this is a dissatisfied customer.
DISSATISFIED_MAX = 2


@dataclass(frozen=True)
class Verdict:
    """One rule's verdict: its category, the part of the rule that fired, the values compared (JSON-safe).

    The worklist stores each as a `models.Finding` row; the two used to share the name.
    """

    category: str
    reason: str
    detail: dict[str, Any]


def find(
    answers: Mapping[str, Any], order: Mapping[str, Any], task_kind: str, settings: Settings
) -> list[Verdict]:
    """Compare one call's answers with the order as the system recorded it; return the findings.

    At most one finding per category, in the order of CaseCategory. When several branches of
    `offline_circulation` fire, the finding's reason is the first in the contract's order
    (applied_before_accepted, powered_before_system, connected_before_accepted) and its detail holds the
    values of every branch that fired, with all their reasons under "reasons".
    Answers are as `validate_answers` returns them (dates as "YYYY-MM-DD"; date objects are accepted too).
    """
    status = str(order.get("status") or "")
    accepted_on = _local_date(order.get("accepted_at"), settings.tz)
    progress = answers.get("progress")
    connected_on = _as_date(answers.get("connected_on"))
    findings: list[Verdict] = []

    offline = _offline_circulation(answers, order, status, accepted_on, connected_on, settings)
    if offline is not None:
        findings.append(offline)

    if status in POWERED_STATUSES and progress is not None and progress != "connected":
        findings.append(
            Verdict(
                CaseCategory.FALSE_COMPLETION.value,
                "system_connected_customer_not",
                {"progress": progress, "status": status},
            )
        )

    if task_kind == TaskKind.DUE_DATE and status in BEFORE_CONNECTED and progress in ("none", "surveyed"):
        detail: dict[str, Any] = {"progress": progress, "status": status}
        due_on = _local_date(order.get("due_at"), settings.tz)
        if due_on is not None:
            detail["due_on"] = due_on.isoformat()
        findings.append(Verdict(CaseCategory.OVERDUE_RISK.value, "not_connected_by_due_date", detail))

    if answers.get("meter_notified") is False:
        findings.append(
            Verdict(CaseCategory.METER_NOT_NOTIFIED.value, "meter_not_notified", {"meter_notified": False})
        )

    trips = _whole(answers.get("trips"))
    if trips is not None and trips >= settings.repeat_trips_min:
        findings.append(
            Verdict(
                CaseCategory.REPEAT_TRIPS.value,
                "repeat_trips",
                {"trips": trips, "repeat_trips_min": settings.repeat_trips_min},
            )
        )

    for category, code, reason in (
        (CaseCategory.ONE_CERTIFICATE, "extra_documents", "extra_documents_requested"),
        (CaseCategory.IRREGULAR_FEE, "fee_requested", "fee_or_contractor_requested"),
        (CaseCategory.INTEGRITY, "integrity", "benefits_requested"),
    ):
        if answers.get(code) is True:
            findings.append(Verdict(category.value, reason, {code: True}))

    satisfaction = _whole(answers.get("satisfaction"))
    if satisfaction is not None and satisfaction <= DISSATISFIED_MAX:
        findings.append(
            Verdict(
                CaseCategory.DISSATISFIED.value,
                "low_satisfaction",
                {"satisfaction": satisfaction, "dissatisfied_max": DISSATISFIED_MAX},
            )
        )

    if answers.get("is_applicant") is False:
        findings.append(
            Verdict(CaseCategory.NONSTANDARD_ACCEPTANCE.value, "not_the_applicant", {"is_applicant": False})
        )
    return findings


def _offline_circulation(
    answers: Mapping[str, Any],
    order: Mapping[str, Any],
    status: str,
    accepted_on: date | None,
    connected_on: date | None,
    settings: Settings,
) -> Verdict | None:
    """Apply the three branches of offline_circulation; return one finding holding every branch that fired."""
    reasons: list[str] = []
    detail: dict[str, Any] = {}

    applied_on = _as_date(answers.get("applied_on"))
    if applied_on is not None and accepted_on is not None:
        days_before = (accepted_on - applied_on).days
        if days_before > settings.offline_tolerance_days:
            reasons.append("applied_before_accepted")
            detail.update(
                applied_on=applied_on.isoformat(),
                accepted_on=accepted_on.isoformat(),
                days_before=days_before,
                tolerance_days=settings.offline_tolerance_days,
            )

    progress = answers.get("progress")
    has_power = progress == "connected" or connected_on is not None
    ledger = order.get("ledger")
    if has_power and status in BEFORE_CONNECTED and ledger != Ledger.CONNECT_FIRST:
        reasons.append("powered_before_system")
        detail.update(status=status, ledger=None if ledger is None else str(ledger))
        if progress is not None:
            detail["progress"] = progress
        if connected_on is not None:
            detail["connected_on"] = connected_on.isoformat()

    if connected_on is not None and accepted_on is not None and connected_on < accepted_on:
        reasons.append("connected_before_accepted")
        detail.update(
            connected_on=connected_on.isoformat(),
            accepted_on=accepted_on.isoformat(),
            connected_days_before=(accepted_on - connected_on).days,
        )

    if not reasons:
        return None
    return Verdict(CaseCategory.OFFLINE_CIRCULATION.value, reasons[0], {**detail, "reasons": reasons})


def _whole(value: Any) -> int | None:
    """Return an answer that is a whole number (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_date(value: Any) -> date | None:
    """Return an answer's date, from "YYYY-MM-DD" or a date; None when absent or not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _local_date(value: Any, tz: ZoneInfo) -> date | None:
    """Return the local date in `tz` of a recorded moment (aware datetime or ISO text; naive means local)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.date()
    return value.astimezone(tz).date()
