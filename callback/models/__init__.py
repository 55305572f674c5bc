"""The database models, one module per aggregate."""

from callback.models.attempt import (
    AAPOR_CODES,
    DEAD_NUMBER_DISPOSITIONS,
    FAILED_CONTACT_DISPOSITIONS,
    INTERVIEW_DISPOSITIONS,
    Answer,
    CallAttempt,
    Disposition,
)
from callback.models.audit import AuditEvent
from callback.models.case import (
    ENDED_CASE_STATES,
    CaseCategory,
    CaseEvent,
    CaseEvidence,
    CaseState,
    Finding,
    LetterSequence,
    Penalty,
    SupervisionCase,
)
from callback.models.heartbeat import DialerHeartbeat
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
    "AAPOR_CODES",
    "ACTIVE_TASK_STATES",
    "DEAD_NUMBER_DISPOSITIONS",
    "ENDED_CASE_STATES",
    "FAILED_CONTACT_DISPOSITIONS",
    "INTERVIEW_DISPOSITIONS",
    "ORDER_FIELDS",
    "POWERED_STATUSES",
    "STAGE_SEQUENCE",
    "STAGE_TIME_FIELDS",
    "Answer",
    "ApiToken",
    "AuditEvent",
    "CallAttempt",
    "CallbackTask",
    "CaseCategory",
    "CaseEvent",
    "CaseEvidence",
    "CaseState",
    "CustomerType",
    "DialerHeartbeat",
    "Disposition",
    "Finding",
    "Ledger",
    "LetterSequence",
    "OrderStatus",
    "Penalty",
    "Role",
    "SupervisionCase",
    "TaskChannel",
    "TaskKind",
    "TaskState",
    "User",
    "WorkOrder",
    "hash_token",
    "new_token_secret",
]
