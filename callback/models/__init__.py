"""The database models, one module per aggregate."""

from callback.models.audit import AuditEvent
from callback.models.order import (
    ORDER_FIELDS,
    POWERED_STATUSES,
    STAGE_SEQUENCE,
    STAGE_TIME_FIELDS,
    CustomerType,
    Ledger,
    OrderStatus,
    WorkOrder,
)
from callback.models.task import ACTIVE_TASK_STATES, CallbackTask, TaskChannel, TaskKind, TaskState
from callback.models.user import ApiToken, Role, User, hash_token, new_token_secret

__all__ = [
    "ACTIVE_TASK_STATES",
    "ORDER_FIELDS",
    "POWERED_STATUSES",
    "STAGE_SEQUENCE",
    "STAGE_TIME_FIELDS",
    "ApiToken",
    "AuditEvent",
    "CallbackTask",
    "CustomerType",
    "Ledger",
    "OrderStatus",
    "Role",
    "TaskChannel",
    "TaskKind",
    "TaskState",
    "User",
    "WorkOrder",
    "hash_token",
    "new_token_secret",
]
