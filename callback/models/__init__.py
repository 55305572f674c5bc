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
from callback.models.audit import AuditChannel, AuditEvent
from callback.models.calendar import CalendarDay
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
from callback.models.desk import (
    CaseAttachment,
    Notification,
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
    SavedFilter,
)
from callback.models.donotcall import DoNotCallEntry, DoNotCallReason, DoNotCallSource
from callback.models.followup import FINAL_FOLLOWUP_STATES, FollowupReason, FollowupState, SmsFollowup
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
from callback.models.qa import QaReview, ReviewReason, Scorecard
from callback.models.recording import UPLOAD_PROVIDER, CallRecording, RecordingStatus
from callback.models.task import ACTIVE_TASK_STATES, CallbackTask, TaskChannel, TaskKind, TaskState
from callback.models.user import (
    ApiToken,
    Role,
    SignInFailure,
    User,
    UserSession,
    hash_token,
    new_token_secret,
)

__all__ = [
    "AAPOR_CODES",
    "ACTIVE_TASK_STATES",
    "DEAD_NUMBER_DISPOSITIONS",
    "ENDED_CASE_STATES",
    "FAILED_CONTACT_DISPOSITIONS",
    "FINAL_FOLLOWUP_STATES",
    "INTERVIEW_DISPOSITIONS",
    "ORDER_FIELDS",
    "POWERED_STATUSES",
    "STAGE_SEQUENCE",
    "STAGE_TIME_FIELDS",
    "UPLOAD_PROVIDER",
    "Answer",
    "ApiToken",
    "AuditChannel",
    "AuditEvent",
    "CalendarDay",
    "CallAttempt",
    "CallRecording",
    "CallbackTask",
    "CaseAttachment",
    "CaseCategory",
    "CaseEvent",
    "CaseEvidence",
    "CaseState",
    "CustomerType",
    "DialerHeartbeat",
    "Disposition",
    "DoNotCallEntry",
    "DoNotCallReason",
    "DoNotCallSource",
    "Finding",
    "FollowupReason",
    "FollowupState",
    "Ledger",
    "LetterSequence",
    "Notification",
    "NotificationKind",
    "OrderStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Penalty",
    "QaReview",
    "RecordingStatus",
    "ReviewReason",
    "Role",
    "SavedFilter",
    "Scorecard",
    "SignInFailure",
    "SmsFollowup",
    "SupervisionCase",
    "TaskChannel",
    "TaskKind",
    "TaskState",
    "User",
    "UserSession",
    "WorkOrder",
    "hash_token",
    "new_token_secret",
]
