"""Human labels for the values users see: English msgids with a context, Chinese in the catalog.

Also the questionnaire's wording in the page's language and a finding's reasons in words, for every page,
export and message that shows them (this was web/labels.py, with the wording helpers in web/operator.py).
"""

from typing import Any

from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from callback.finding_reasons import REASONS
from callback.findings import DISSATISFIED_MAX
from callback.models import (
    CaseCategory,
    CaseState,
    CustomerType,
    Disposition,
    DoNotCallReason,
    DoNotCallSource,
    FollowupState,
    Ledger,
    OrderStatus,
    Role,
    TaskChannel,
    TaskKind,
    TaskState,
)
from callback.survey import QUESTIONNAIRE, Question

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
    TaskState.DO_NOT_CALL: _lp("task state", "Do not call"),
}

TASK_CHANNEL: dict[str, LazyString] = {
    TaskChannel.OPERATOR: _lp("task channel", "Operator"),
    TaskChannel.AUTO: _lp("task channel", "Automated call"),
    "sms": _lp("task channel", "Text message"),
}

# Message follow-ups (issue 13): where the one message of a task stands.
SMS_STATE: dict[str, LazyString] = {
    FollowupState.QUEUED: _lp("sms state", "Queued"),
    FollowupState.SENT: _lp("sms state", "Sent"),
    FollowupState.DELIVERED: _lp("sms state", "Delivered"),
    FollowupState.FAILED: _lp("sms state", "Not delivered"),
    FollowupState.UNKNOWN: _lp("sms state", "Outcome unknown"),
    FollowupState.REFUSED: _lp("sms state", "Not sent: do not call"),
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
    Disposition.DO_NOT_CALL: _lp("disposition", "Customer asked not to be called again"),
}

# The do-not-call list (issue 13): why a number is listed and where the listing came from.
DNC_REASON: dict[str, LazyString] = {
    DoNotCallReason.CUSTOMER_ASKED: _lp("do-not-call reason", "Customer asked"),
    DoNotCallReason.COMPLAINT: _lp("do-not-call reason", "Complaint"),
    DoNotCallReason.LEGAL: _lp("do-not-call reason", "Legal"),
    DoNotCallReason.INTEGRITY: _lp("do-not-call reason", "Whistle-blower protection"),
}
DNC_SOURCE: dict[str, LazyString] = {
    DoNotCallSource.CALL_SCREEN: _lp("do-not-call source", "Call screen"),
    DoNotCallSource.SUPERVISOR: _lp("do-not-call source", "Supervisor"),
    DoNotCallSource.API: _lp("do-not-call source", "API"),
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

FINDING_REASON: dict[str, LazyString] = {code: reason.label for code, reason in REASONS.items()}

# Short names of the questionnaire's answers (column headers, evidence lines); the questions say more.
ANSWER: dict[str, LazyString] = {
    "is_applicant": _l("Is the applicant"),
    "applied_on": _l("Applied on"),
    "progress": _l("Progress on site"),
    "connected_on": _l("Power on since"),
    "meter_notified": _l("Told before the meter was fitted"),
    "trips": _l("Trips made"),
    "extra_documents": _l("Asked for other documents"),
    "fee_requested": _l("Fee, materials or contractor imposed"),
    "integrity": _l("Asked for favours"),
    "satisfaction": _l("Satisfaction"),
    "comment": _l("Other comments"),
}

# The filters of report lists and exports, as their chips name them.
REPORT_FILTER: dict[str, LazyString] = {
    "from": _lp("report filter", "From"),
    "to": _lp("report filter", "To"),
    "service_center": _lp("report filter", "Service centre"),
    "account_manager": _lp("report filter", "Account manager"),
    "customer_type": _lp("report filter", "Customer type"),
    "basis": _lp("report filter", "Counted by"),
    "ledger": _lp("report filter", "Ledger"),
    "has_engineering": _lp("report filter", "External works"),
    "category": _lp("report filter", "Category"),
    "state": _lp("report filter", "Case state"),
    "overdue": _lp("report filter", "Overdue only"),
    "outcome": _lp("report filter", "Funnel stage"),
}

# The funnel stages a list of attempts can be narrowed to (`outcome`).
REPORT_OUTCOME: dict[str, LazyString] = {
    "contacted": _l("Contacted"),
    "completed": _l("Completed"),
}

# What a period filter is applied to (`basis`).
REPORT_BASIS: dict[str, LazyString] = {
    "accepted": _lp("report basis", "Acceptance time"),
    "connected": _lp("report basis", "Connection time"),
    "opened": _lp("report basis", "Opening time"),
    "letter": _lp("report basis", "Letter issue time"),
    "penalty": _lp("report basis", "Penalty time"),
}

# Twilio's call statuses and answering-machine verdicts, as the transcript page shows them.
CALL_STATUS: dict[str, LazyString] = {
    "queued": _lp("call status", "Queued"),
    "initiated": _lp("call status", "Dialling"),
    "ringing": _lp("call status", "Ringing"),
    "in-progress": _lp("call status", "In progress"),
    "answered": _lp("call status", "Answered"),
    "completed": _lp("call status", "Ended"),
    "busy": _lp("call status", "Busy"),
    "no-answer": _lp("call status", "No answer"),
    "failed": _lp("call status", "Failed"),
    "canceled": _lp("call status", "Cancelled"),
}

ANSWERED_BY: dict[str, LazyString] = {
    "human": _lp("answered by", "A person answered"),
    "machine_start": _lp("answered by", "Answering machine"),
    "machine_end_beep": _lp("answered by", "Answering machine (after the beep)"),
    "machine_end_silence": _lp("answered by", "Answering machine (after silence)"),
    "machine_end_other": _lp("answered by", "Answering machine"),
    "fax": _lp("answered by", "Fax machine"),
    "unknown": _lp("answered by", "Not recognised"),
}

# The default CALL_SLOTS; a slot named otherwise in the configuration shows its own name.
CALL_SLOT: dict[str, LazyString] = {
    "weekday_morning": _lp("call slot", "Weekday morning"),
    "weekday_afternoon": _lp("call slot", "Weekday afternoon"),
    "weekday_evening": _lp("call slot", "Weekday evening"),
    "weekend": _lp("call slot", "Weekend or holiday"),
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
    "answer": ANSWER,
    "report_filter": REPORT_FILTER,
    "report_basis": REPORT_BASIS,
    "report_outcome": REPORT_OUTCOME,
    "call_status": CALL_STATUS,
    "answered_by": ANSWERED_BY,
    "sms_state": SMS_STATE,
    "dnc_reason": DNC_REASON,
    "dnc_source": DNC_SOURCE,
    "outbox_status": OUTBOX_STATUS,
    "outbox_channel": OUTBOX_CHANNEL,
    "call_slot": CALL_SLOT,
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


def is_chinese() -> bool:
    """Return whether the page speaks Chinese (also when no locale is chosen): the one language check."""
    locale = get_locale()
    return locale is None or locale.language == "zh"


def question_text(question: Question) -> str:
    """Return a question's wording in the page's language."""
    return question.zh if is_chinese() else question.en


def choice_text(question: Question, value: Any) -> str:
    """Return the label of one of a question's choices (or yes/no) in the page's language."""
    if question.type == "boolean" and isinstance(value, bool):
        return _("Yes") if value else _("No")
    choice = question.choice_for(value)
    if choice is None:
        return str(value)
    return choice.zh if is_chinese() else choice.en


def answer_text(code: str, value: Any) -> str:
    """Return a recorded answer as the operator would say it."""
    question = next((q for q in QUESTIONNAIRE if q.code == code), None)
    if question is None:
        return str(value)
    if question.type == "boolean" or question.choices:
        return choice_text(question, value)
    return str(value)


def finding_sentences(finding: Any) -> list[str]:
    """Explain a finding in plain words: each part of its rule that fired, with the values compared."""
    detail: dict[str, Any] = dict(finding.detail or {})
    values = dict(detail)
    if "status" in values:
        values["status"] = label("status", values["status"])
    if "progress" in values:
        values["progress"] = answer_text("progress", values["progress"])
    values.setdefault("dissatisfied_max", DISSATISFIED_MAX)
    reasons = detail.get("reasons") or [finding.reason]
    sentences = []
    for reason in reasons:
        known = REASONS.get(reason)
        if known is None:
            sentences.append(str(reason))
            continue
        try:
            sentences.append(str(known.sentence) % values)
        except (KeyError, TypeError, ValueError):
            # A detail without the values this wording needs (an older rule): name the reason at least.
            sentences.append(str(reason))
    return sentences
