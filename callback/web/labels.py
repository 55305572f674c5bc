"""Human labels for the enum values users see: English msgids with a context, Chinese in the catalog."""

from flask_babel import LazyString
from flask_babel import lazy_pgettext as _lp

from callback.models import (
    CaseCategory,
    CaseState,
    CustomerType,
    Disposition,
    Ledger,
    OrderStatus,
    Role,
    TaskChannel,
    TaskKind,
    TaskState,
)

# Each enum has its own message context, so "Cancelled" (an order, 撤销) and "Cancelled" (a task, 已取消)
# translate independently.
ORDER_STATUS: dict[str, LazyString] = {
    OrderStatus.ACCEPTED: _lp("order status", "Accepted"),
    OrderStatus.SURVEYED: _lp("order status", "Surveyed"),
    OrderStatus.CONSTRUCTION: _lp("order status", "Construction"),
    OrderStatus.CONNECTED: _lp("order status", "Connected"),
    OrderStatus.ARCHIVED: _lp("order status", "Archived"),
    OrderStatus.CANCELLED: _lp("order status", "Cancelled"),
}

CUSTOMER_TYPE: dict[str, LazyString] = {
    CustomerType.SMALL_MICRO: _lp("customer type", "Small or micro enterprise"),
    CustomerType.RESIDENTIAL: _lp("customer type", "Residential"),
    CustomerType.OTHER: _lp("customer type", "Other"),
}

LEDGER: dict[str, LazyString] = {
    Ledger.CONNECT_FIRST: _lp("ledger", "Connect first, upgrade later"),
    Ledger.IN_TRANSIT: _lp("ledger", "System process in transit"),
    Ledger.PRE_ADVANCED: _lp("ledger", "Pre-advanced works"),
}

TASK_KIND: dict[str, LazyString] = {
    TaskKind.INTAKE: _lp("task kind", "Intake callback"),
    TaskKind.DUE_DATE: _lp("task kind", "Due-date callback"),
    TaskKind.COMPLETION: _lp("task kind", "Connection callback"),
}

TASK_STATE: dict[str, LazyString] = {
    TaskState.OPEN: _lp("task state", "Open"),
    TaskState.CLAIMED: _lp("task state", "Claimed"),
    TaskState.DIALING: _lp("task state", "Dialing"),
    TaskState.DONE: _lp("task state", "Done"),
    TaskState.UNREACHABLE: _lp("task state", "Unreachable"),
    TaskState.CANCELLED: _lp("task state", "Cancelled"),
}

TASK_CHANNEL: dict[str, LazyString] = {
    TaskChannel.OPERATOR: _lp("task channel", "Operator"),
    TaskChannel.AUTO: _lp("task channel", "Automated call"),
}

ROLE: dict[str, LazyString] = {
    Role.OPERATOR: _lp("role", "Call operator"),
    Role.SUPERVISOR: _lp("role", "Supervisor"),
    Role.DISCIPLINE: _lp("role", "Discipline inspector"),
    Role.ADMIN: _lp("role", "Administrator"),
    Role.INTEGRATION: _lp("role", "Integration account"),
}

# How a call ended (contract 4.2), in the order the operator's buttons show them.
DISPOSITION: dict[str, LazyString] = {
    Disposition.COMPLETED: _lp("disposition", "Completed"),
    Disposition.PARTIAL: _lp("disposition", "Partly completed"),
    Disposition.REFUSED: _lp("disposition", "Refused"),
    Disposition.CALLBACK_REQUESTED: _lp("disposition", "Call back later"),
    Disposition.NO_ANSWER: _lp("disposition", "No answer"),
    Disposition.BUSY: _lp("disposition", "Busy"),
    Disposition.VOICEMAIL: _lp("disposition", "Voicemail"),
    Disposition.WRONG_NUMBER: _lp("disposition", "Wrong number"),
    Disposition.INVALID_NUMBER: _lp("disposition", "Number does not exist"),
}

CASE_CATEGORY: dict[str, LazyString] = {
    CaseCategory.OFFLINE_CIRCULATION: _lp("case category", "Off-line circulation"),
    CaseCategory.FALSE_COMPLETION: _lp("case category", "Connected in the system, not on site"),
    CaseCategory.OVERDUE_RISK: _lp("case category", "Not connected by the due date"),
    CaseCategory.METER_NOT_NOTIFIED: _lp("case category", "Meter installed without notice"),
    CaseCategory.REPEAT_TRIPS: _lp("case category", "Repeated trips by the customer"),
    CaseCategory.ONE_CERTIFICATE: _lp("case category", "One-certificate acceptance not applied"),
    CaseCategory.IRREGULAR_FEE: _lp("case category", "Irregular fees or appointed contractor"),
    CaseCategory.INTEGRITY: _lp("case category", "Requests for favours"),
    CaseCategory.DISSATISFIED: _lp("case category", "Customer dissatisfied"),
    CaseCategory.NONSTANDARD_ACCEPTANCE: _lp("case category", "Non-standard acceptance"),
    CaseCategory.CABINET_DOOR_OPEN: _lp("case category", "Distribution cabinet door left open"),
    CaseCategory.OTHER: _lp("case category", "Other"),
}

# Supervision cases (contract 4.3): their states, the lines of their history, and why a finding fired.
CASE_STATE: dict[str, LazyString] = {
    CaseState.OPEN: _lp("case state", "Open"),
    CaseState.INVESTIGATING: _lp("case state", "Investigating"),
    CaseState.LETTER_ISSUED: _lp("case state", "Letter issued"),
    CaseState.RECTIFIED: _lp("case state", "Rectified"),
    CaseState.CLOSED: _lp("case state", "Closed"),
    CaseState.DISMISSED: _lp("case state", "Dismissed"),
}

CASE_ACTION: dict[str, LazyString] = {
    "opened": _lp("case action", "Opened"),
    "moved": _lp("case action", "Moved"),
    "evidence_added": _lp("case action", "Evidence added"),
    "penalty": _lp("case action", "Penalty recorded"),
    "referred": _lp("case action", "Referred to discipline inspection"),
    "assigned": _lp("case action", "Assigned"),
    "note": _lp("case action", "Note"),
    "attachment": _lp("case action", "Attachment added"),
}

OUTBOX_STATUS: dict[str, LazyString] = {
    "pending": _lp("outbox status", "Waiting"),
    "sending": _lp("outbox status", "Sending"),
    "sent": _lp("outbox status", "Sent"),
    "failed": _lp("outbox status", "Failed"),
}

OUTBOX_CHANNEL: dict[str, LazyString] = {
    "wecom": _lp("outbox channel", "WeCom group"),
    "email": _lp("outbox channel", "E-mail"),
}

FINDING_REASON: dict[str, LazyString] = {
    "applied_before_accepted": _lp("finding reason", "Applied long before the system accepted it"),
    "powered_before_system": _lp("finding reason", "Power on before the system says so"),
    "connected_before_accepted": _lp("finding reason", "Connected before the system accepted it"),
    "system_connected_customer_not": _lp("finding reason", "Connected in the system, customer has no power"),
    "not_connected_by_due_date": _lp("finding reason", "Not connected by the system's due date"),
    "meter_not_notified": _lp("finding reason", "Meter installed without notice"),
    "repeat_trips": _lp("finding reason", "Customer made repeated trips"),
    "extra_documents_requested": _lp("finding reason", "Documents beyond one certificate requested"),
    "fee_or_contractor_requested": _lp("finding reason", "Fee, materials or contractor imposed"),
    "benefits_requested": _lp("finding reason", "Gifts or favours requested"),
    "low_satisfaction": _lp("finding reason", "Low satisfaction"),
    "not_the_applicant": _lp("finding reason", "The person called is not the applicant"),
}

LABELS: dict[str, dict[str, LazyString]] = {
    "status": ORDER_STATUS,
    "customer_type": CUSTOMER_TYPE,
    "ledger": LEDGER,
    "task_kind": TASK_KIND,
    "task_state": TASK_STATE,
    "channel": TASK_CHANNEL,
    "role": ROLE,
    "disposition": DISPOSITION,
    "case_category": CASE_CATEGORY,
    "case_state": CASE_STATE,
    "case_action": CASE_ACTION,
    "finding_reason": FINDING_REASON,
    "outbox_status": OUTBOX_STATUS,
    "outbox_channel": OUTBOX_CHANNEL,
}


def label(kind: str, value: str | None) -> str:
    """Return one enum value's label in the current language; an unknown value shows as itself."""
    if value is None:
        return ""
    text = LABELS[kind].get(value)
    return str(text) if text is not None else str(value)


def choices(kind: str) -> list[tuple[str, str]]:
    """Return the (value, label) pairs of one enum in definition order, for a select box."""
    return [(str(value), str(text)) for value, text in LABELS[kind].items()]
