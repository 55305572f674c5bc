"""Why a finding fired (callback.findings names the reason), in one place: its short label, its explanation
with the detail's values, and which answers and recorded fields it compared (issue 15: the case pages and the
operator's result page each had a copy).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from callback.models import CaseCategory


@dataclass(frozen=True)
class Reason:
    """One reason a rule fires: a short label, a sentence (placeholders: detail values), what it compared."""

    label: LazyString
    sentence: LazyString
    answers: frozenset[str]  # the customer's answers compared
    fields: frozenset[str]  # the system's recorded fields compared


REASONS: dict[str, Reason] = {
    "applied_before_accepted": Reason(
        label=_lp("finding reason", "Applied long before the system accepted it"),
        sentence=_l(
            "The customer applied on %(applied_on)s, %(days_before)s days before the system accepted the "
            "order on %(accepted_on)s (tolerance %(tolerance_days)s days)."
        ),
        answers=frozenset({"applied_on"}),
        fields=frozenset({"accepted_at"}),
    ),
    "powered_before_system": Reason(
        label=_lp("finding reason", "Power on before the system says so"),
        sentence=_l("The customer already has power, while the system still shows the order as %(status)s."),
        answers=frozenset({"progress", "connected_on"}),
        fields=frozenset({"status", "connected_at"}),
    ),
    "connected_before_accepted": Reason(
        label=_lp("finding reason", "Connected before the system accepted it"),
        sentence=_l(
            "The customer was connected on %(connected_on)s, before the system accepted the order on "
            "%(accepted_on)s."
        ),
        answers=frozenset({"connected_on"}),
        fields=frozenset({"accepted_at"}),
    ),
    "system_connected_customer_not": Reason(
        label=_lp("finding reason", "Connected in the system, customer has no power"),
        sentence=_l("The system shows the order as %(status)s, but the customer says: %(progress)s."),
        answers=frozenset({"progress"}),
        fields=frozenset({"status", "connected_at"}),
    ),
    "not_connected_by_due_date": Reason(
        label=_lp("finding reason", "Not connected by the system's due date"),
        sentence=_l("At the due-date callback the customer says: %(progress)s; the system shows %(status)s."),
        answers=frozenset({"progress"}),
        fields=frozenset({"status", "due_at"}),
    ),
    "meter_not_notified": Reason(
        label=_lp("finding reason", "Meter installed without notice"),
        sentence=_l("Nobody told the customer before the meter was installed and connected."),
        answers=frozenset({"meter_notified"}),
        fields=frozenset({"connected_at"}),
    ),
    "repeat_trips": Reason(
        label=_lp("finding reason", "Customer made repeated trips"),
        sentence=_l("The customer made %(trips)s trips to get connected (a case from %(repeat_trips_min)s)."),
        answers=frozenset({"trips"}),
        fields=frozenset(),
    ),
    "extra_documents_requested": Reason(
        label=_lp("finding reason", "Documents beyond one certificate requested"),
        sentence=_l("The customer was asked for documents beyond an ID card or business licence."),
        answers=frozenset({"extra_documents"}),
        fields=frozenset(),
    ),
    "fee_or_contractor_requested": Reason(
        label=_lp("finding reason", "Fee, materials or contractor imposed"),
        sentence=_l("The customer was charged, asked to buy materials, or told which contractor to use."),
        answers=frozenset({"fee_requested"}),
        fields=frozenset(),
    ),
    "benefits_requested": Reason(
        label=_lp("finding reason", "Gifts or favours requested"),
        sentence=_l(
            "The customer says staff asked for gifts, meals or favours; the case goes to discipline "
            "inspection."
        ),
        answers=frozenset({"integrity"}),
        fields=frozenset(),
    ),
    "low_satisfaction": Reason(
        label=_lp("finding reason", "Low satisfaction"),
        sentence=_l(
            "The customer rated the service %(satisfaction)s of 5 (%(dissatisfied_max)s or less is "
            "dissatisfied)."
        ),
        answers=frozenset({"satisfaction"}),
        fields=frozenset(),
    ),
    "not_the_applicant": Reason(
        label=_lp("finding reason", "The person called is not the applicant"),
        sentence=_l("The person answering is not the applicant of the order."),
        answers=frozenset({"is_applicant"}),
        fields=frozenset(),
    ),
}

# The reasons a category stands for, for evidence without a known reason (opened by hand, or older rules).
CATEGORY_REASONS: dict[str, tuple[str, ...]] = {
    CaseCategory.OFFLINE_CIRCULATION: (
        "applied_before_accepted",
        "powered_before_system",
        "connected_before_accepted",
    ),
    CaseCategory.FALSE_COMPLETION: ("system_connected_customer_not",),
    CaseCategory.OVERDUE_RISK: ("not_connected_by_due_date",),
    CaseCategory.METER_NOT_NOTIFIED: ("meter_not_notified",),
    CaseCategory.REPEAT_TRIPS: ("repeat_trips",),
    CaseCategory.ONE_CERTIFICATE: ("extra_documents_requested",),
    CaseCategory.IRREGULAR_FEE: ("fee_or_contractor_requested",),
    CaseCategory.INTEGRITY: ("benefits_requested",),
    CaseCategory.DISSATISFIED: ("low_satisfaction",),
    CaseCategory.NONSTANDARD_ACCEPTANCE: ("not_the_applicant",),
}


def reasons_of(detail: Mapping[str, Any], category: str) -> list[str]:
    """Return the reasons a piece of evidence stands for: every branch that fired, else the category's."""
    reasons = detail.get("reasons") or ([detail["reason"]] if detail.get("reason") else [])
    known = [reason for reason in reasons if reason in REASONS]
    return known or list(CATEGORY_REASONS.get(category, ()))


def mismatched_fields(reasons: Iterable[str]) -> tuple[set[str], set[str]]:
    """Return the answer codes and the recorded fields that the reasons compared."""
    answers: set[str] = set()
    fields: set[str] = set()
    for reason in reasons:
        known = REASONS.get(reason)
        if known is not None:
            answers |= known.answers
            fields |= known.fields
    return answers, fields
