"""Claims: the most urgent workable task leased to one operator or dialer, and handed back."""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, false, select, true, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.errors import ServiceError
from callback.models import (
    CallbackTask,
    TaskChannel,
    TaskState,
)
from callback.settings import Settings

CLAIM_RETRIES = 5


class WorklistError(ServiceError):
    """A task cannot move as asked."""


def workable_condition(
    now: datetime, channel: TaskChannel, kind: str | None = None
) -> list[ColumnElement[bool]]:
    """Return the conditions that make a task workable now on a channel (calling hours checked apart)."""
    conditions: list[ColumnElement[bool]] = [
        CallbackTask.state == TaskState.OPEN.value,
        CallbackTask.not_before <= now,
        CallbackTask.channel == channel.value,
    ]
    if kind is not None:
        conditions.append(CallbackTask.kind == kind)
    return conditions


def make_ready(session: Session, *, now: datetime) -> int:
    """Mark waiting tasks whose `not_before` has come as ready for the claim's index; return how many.

    One UPDATE through the partial index on waiting tasks' not_before: it reads only the tasks that are due
    (none, most of the time). Concurrent claims that meet the same rows wait for each other's commit and then
    find them ready already. (A `WHERE id IN (SELECT … SKIP LOCKED)` form let PostgreSQL choose a hash join
    over the whole table as soon as any task was due.)
    """
    result = session.execute(
        update(CallbackTask)
        .where(CallbackTask.waiting == true(), CallbackTask.not_before <= now)
        .values(waiting=False)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_next(
    session: Session,
    user_id: int | None,
    *,
    now: datetime,
    settings: Settings,
    channel: TaskChannel = TaskChannel.OPERATOR,
    kind: str | None = None,
) -> CallbackTask | None:
    """Lease the most urgent workable task (earliest due_by, then oldest) to the user, or None.

    The dialer claims with user_id None: its tasks are held by no person.

    One UPDATE picks and takes the task. SQLite runs it alone, so no two claims can meet;
    PostgreSQL locks the picked row with FOR UPDATE SKIP LOCKED, so concurrent claims skip it.
    """
    if not settings.calling_hours.contains(now, settings.tz):
        return None
    lease_expires_at = now + timedelta(minutes=settings.lease_minutes)
    make_ready(session, now=now)
    for _attempt in range(CLAIM_RETRIES):
        candidate = (
            select(CallbackTask.id)
            # Ready tasks only: the head of ix_callback_tasks_ready is the answer, however many wait.
            .where(*workable_condition(now, channel, kind), CallbackTask.waiting == false())
            .order_by(CallbackTask.due_by, CallbackTask.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = session.scalar(
            update(CallbackTask)
            .where(CallbackTask.id == candidate, CallbackTask.state == TaskState.OPEN.value)
            .values(
                state=TaskState.CLAIMED.value,
                lease_owner_id=user_id,
                lease_expires_at=lease_expires_at,
                updated_at=now,
            )
            # The claimed row comes back whole: no second round trip to load it.
            .returning(CallbackTask)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        if claimed is not None:
            record(
                session,
                Actor(user_id=user_id),
                now,
                [
                    AuditEntry(
                        "task.claimed", "callback_task", claimed.id, {"until": lease_expires_at.isoformat()}
                    )
                ],
            )
            return claimed
        # Nothing left, or (PostgreSQL) another claim took the row between pick and update: look again.
        if (
            session.scalar(
                select(CallbackTask.id)
                .where(*workable_condition(now, channel, kind), CallbackTask.waiting == false())
                .limit(1)
            )
            is None
        ):
            return None
    return None


def held_task(session: Session, task_id: int, user_id: int, *, now: datetime) -> CallbackTask:
    """Return the task if the user holds a live claim on it; raise 404 or 409 otherwise."""
    task = session.get(CallbackTask, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise WorklistError(404, "not_found", _("No task %(id)d.", id=task_id))
    if task.state != TaskState.CLAIMED.value or task.lease_owner_id != user_id:
        raise WorklistError(409, "not_claimed", _("You do not hold a claim on this task."))
    if task.lease_expires_at is None or task.lease_expires_at <= now:
        raise WorklistError(409, "lease_expired", _("Your claim on this task has expired; claim it again."))
    return task


def current_claim(session: Session, user_id: int, *, now: datetime) -> CallbackTask | None:
    """Return the task the user holds a live claim on, if any (the earliest leased)."""
    return session.scalar(
        select(CallbackTask)
        .where(
            CallbackTask.state == TaskState.CLAIMED.value,
            CallbackTask.lease_owner_id == user_id,
            CallbackTask.lease_expires_at > now,
        )
        .order_by(CallbackTask.lease_expires_at)
        .limit(1)
    )


def release(session: Session, task_id: int, user_id: int, *, now: datetime) -> CallbackTask:
    """Hand a claimed task back to the queue."""
    task = held_task(session, task_id, user_id, now=now)
    task.state = TaskState.OPEN.value
    task.waiting = task.not_before > now
    task.lease_owner_id = None
    task.lease_expires_at = None
    task.updated_at = now
    record(session, Actor(user_id=user_id), now, [AuditEntry("task.released", "callback_task", task.id)])
    return task
