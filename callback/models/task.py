"""Callback tasks (回访任务): one call-back to make about one order."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callback.extensions import Model
from callback.models.types import UTCDateTime

if TYPE_CHECKING:
    from callback.models.attempt import CallAttempt
    from callback.models.order import WorkOrder


class TaskKind(StrEnum):
    INTAKE = "intake"
    DUE_DATE = "due_date"
    COMPLETION = "completion"


class TaskState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DIALING = "dialing"
    DONE = "done"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"
    # The number is on the do-not-call list: nobody calls about this task again (AAPOR 2.112).
    DO_NOT_CALL = "do_not_call"


ACTIVE_TASK_STATES = frozenset({TaskState.OPEN, TaskState.CLAIMED, TaskState.DIALING})


class TaskChannel(StrEnum):
    OPERATOR = "operator"
    AUTO = "auto"


class CallbackTask(Model):
    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=TaskState.OPEN.value)
    # Who works it first: the dialer for AUTO_KINDS, operators otherwise.
    channel: Mapped[str] = mapped_column(String(16), default=TaskChannel.OPERATOR.value)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    due_by: Mapped[datetime] = mapped_column(UTCDateTime())
    attempt_count: Mapped[int] = mapped_column(default=0)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    # True while an open task waits for a `not_before` that was in the future when it was set (a retry, an
    # appointment): such tasks stay out of the ready part of the queue index, so a claim never scans past
    # them. The claim turns it back to False once `not_before` has come (see worklist.claims).
    waiting: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The disposition of the last finished attempt, so the queue page labels waiting tasks without
    # reading the attempt history.
    last_disposition: Mapped[str | None] = mapped_column(String(24))
    lease_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The operator who booked the appointment (not_before): the task comes back to them first.
    appointment_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Indexed: the reports read the tasks created in a period (callback/reports/aggregates.py).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    order: Mapped["WorkOrder"] = relationship(back_populates="tasks")
    attempts: Mapped[list["CallAttempt"]] = relationship(back_populates="task", order_by="CallAttempt.id")

    __table_args__ = (
        # One task per order and kind, ever.
        UniqueConstraint("order_id", "kind"),
        # The worklist's claim reads the head of the ready queue by urgency: open, not waiting, per channel.
        Index("ix_callback_tasks_ready", "state", "waiting", "channel", "due_by", "id"),
        # Waiting tasks by when their time comes, for the claim to make ready. Partial, so that no planner
        # takes it for the ready queue (SQLite has no statistics to tell the two apart).
        # With the id, so the queue page's "coming up next" (by time, then id) is the index's first entries
        # even when thousands of retries share one slot's start.
        Index(
            "ix_callback_tasks_waiting",
            "not_before",
            "id",
            sqlite_where=text("waiting = 1"),
            postgresql_where=text("waiting = true"),
        ),
        Index("ix_callback_tasks_lease", "state", "lease_expires_at"),
        # The queue page's counts (callback.web.operator): open tasks by channel, kind and time, so "workable
        # intake callbacks" is one range of entries, read up to the page's cap; the last three columns tell
        # why a task waits and whose appointment it is, so the counts read the index alone. Partial: open.
        Index(
            "ix_callback_tasks_queue",
            "channel",
            "kind",
            "not_before",
            "last_disposition",
            "attempt_count",
            "appointment_owner_id",
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        # A person's live claim (one at a time), looked for by every claim: partial, so it holds only the
        # claimed tasks (a few per operator) and the check reads the holder's rows alone.
        Index(
            "ix_callback_tasks_held",
            "lease_owner_id",
            "lease_expires_at",
            sqlite_where=text("state = 'claimed'"),
            postgresql_where=text("state = 'claimed'"),
        ),
    )
