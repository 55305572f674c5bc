"""Human labels for the enum values users see: English msgids with a context, Chinese in the catalog."""

from flask_babel import LazyString
from flask_babel import lazy_pgettext as _lp

from callback.models import CustomerType, Ledger, OrderStatus, Role, TaskChannel, TaskKind, TaskState

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

LABELS: dict[str, dict[str, LazyString]] = {
    "status": ORDER_STATUS,
    "customer_type": CUSTOMER_TYPE,
    "ledger": LEDGER,
    "task_kind": TASK_KIND,
    "task_state": TASK_STATE,
    "channel": TASK_CHANNEL,
    "role": ROLE,
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
