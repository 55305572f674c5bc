"""Claims: the most urgent workable task leased to one operator or dialer, and handed back."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, false, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from callback.audit import Actor, AuditEntry, record
from callback.errors import ServiceError
from callback.models import (
    CallbackTask,
    TaskChannel,
    TaskState,
    User,
)
from callback.settings import Settings
from callback.worklist.donotcall import end_listed_tasks

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


@dataclass(frozen=True)
class Claim:
    """What a claim gave: the task (None when nothing is workable), and whether the caller already held it."""

    task: CallbackTask | None
    already_held: bool = False


def claim(
    session: Session,
    user_id: int | None,
    *,
    now: datetime,
    settings: Settings,
    channel: TaskChannel = TaskChannel.OPERATOR,
    kind: str | None = None,
) -> Claim:
    """Lease the most urgent workable task to the user; a person who holds a live claim gets that one back.

    A person works one callback at a time, on the web page and the API alike: claiming again returns the
    task held (whatever `kind` asks for) until it is recorded, released or its lease runs out. Concurrent
    claims by one person are serialised on the person's row (PostgreSQL) and re-checked inside the claiming
    UPDATE (SQLite runs that UPDATE alone), so two requests at once still yield one claim.
    The dialer claims with user_id None: its tasks are held by no person, many at a time.
    """
    if user_id is not None:
        session.execute(select(User.id).where(User.id == user_id).with_for_update())
        held = current_claim(session, user_id, now=now)
        if held is not None:
            return Claim(held, already_held=True)
    task = _claim_workable(session, user_id, now=now, settings=settings, channel=channel, kind=kind)
    if task is None and user_id is not None:
        # A concurrent claim of the same person (SQLite) won the race: hand back what it took.
        held = current_claim(session, user_id, now=now)
        if held is not None:
            return Claim(held, already_held=True)
    return Claim(task)


def appointment_condition(now: datetime, user_id: int | None, owner_minutes: int) -> ColumnElement[bool]:
    """Return the condition that lets the user claim a task: not another's appointment, or theirs no more.

    A booked appointment is held for its operator from the appointed time (`not_before`) for
    `owner_minutes`; after that anyone may take it.
    """
    others_hold_it_until = CallbackTask.not_before > now - timedelta(minutes=owner_minutes)
    if user_id is None:
        return or_(CallbackTask.appointment_owner_id.is_(None), ~others_hold_it_until)
    return or_(
        CallbackTask.appointment_owner_id.is_(None),
        CallbackTask.appointment_owner_id == user_id,
        ~others_hold_it_until,
    )


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
    """Return the task `claim` gives (the one held, or the most urgent workable one), or None."""
    return claim(session, user_id, now=now, settings=settings, channel=channel, kind=kind).task


def _claim_workable(
    session: Session,
    user_id: int | None,
    *,
    now: datetime,
    settings: Settings,
    channel: TaskChannel,
    kind: str | None,
) -> CallbackTask | None:
    """Lease the most urgent workable task (earliest due_by, then oldest) to the user, or None.

    One UPDATE picks and takes the task. SQLite runs it alone, so no two claims can meet;
    PostgreSQL locks the picked row with FOR UPDATE SKIP LOCKED, so concurrent claims skip it.
    For a person, the same UPDATE checks that they hold no live claim yet.
    """
    if not settings.calling_hours.contains(now, settings.tz):
        return None
    lease_expires_at = now + timedelta(minutes=settings.lease_minutes)
    conditions: list[ColumnElement[bool]] = []
    if user_id is not None:
        holding = aliased(CallbackTask)
        conditions.append(
            ~exists(
                select(holding.id).where(
                    holding.state == TaskState.CLAIMED.value,
                    holding.lease_owner_id == user_id,
                    holding.lease_expires_at > now,
                )
            )
        )
    eligible = [
        *workable_condition(now, channel, kind),
        appointment_condition(now, user_id, settings.appointment_owner_minutes),
    ]
    make_ready(session, now=now)
    end_listed_tasks(session, now=now, channel=channel, actor=Actor(user_id=user_id), kind=kind)  # issue 13
    for _attempt in range(CLAIM_RETRIES):
        # The user's own appointments first (earliest appointed), then the most urgent of the rest.
        own = (
            select(CallbackTask.id)
            .where(*workable_condition(now, channel, kind), CallbackTask.appointment_owner_id == user_id)
            .order_by(CallbackTask.not_before, CallbackTask.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        urgent = (
            select(CallbackTask.id)
            # Ready tasks only: the head of ix_callback_tasks_ready is the answer, however many wait.
            .where(*eligible, CallbackTask.waiting == false())
            .order_by(CallbackTask.due_by, CallbackTask.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        candidate = urgent if user_id is None else func.coalesce(own, urgent)
        claimed = session.scalar(
            update(CallbackTask)
            .where(CallbackTask.id == candidate, CallbackTask.state == TaskState.OPEN.value, *conditions)
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
        if user_id is not None and current_claim(session, user_id, now=now) is not None:
            return None  # the person's concurrent claim took one meanwhile (SQLite): `claim` returns it
        # Nothing left, or (PostgreSQL) another claim took the row between pick and update: look again.
        if (
            session.scalar(select(CallbackTask.id).where(*eligible, CallbackTask.waiting == false()).limit(1))
            is None
        ):
            return None
    return None


def claim_task(
    session: Session, task_id: int, user_id: int, *, now: datetime, settings: Settings
) -> CallbackTask:
    """Lease one named task to the user (a customer found by search, on the line): raise when it cannot be.

    The same rules as the next callback: an open operator task whose time has come, within calling hours,
    not another operator's appointment still held for them. One conditional UPDATE, so two claims of the
    same task never both succeed.
    """
    task = session.get(CallbackTask, task_id)
    if task is None:
        raise WorklistError(404, "not_found", _("No task %(id)d.", id=task_id))
    # One callback at a time, as with the next callback: the one held comes back, another is refused.
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    held = current_claim(session, user_id, now=now)
    if held is not None:
        if held.id == task_id:
            return held
        raise WorklistError(
            409, "already_holding", _("Finish or release the callback you hold before taking another.")
        )
    if not settings.calling_hours.contains(now, settings.tz):
        raise WorklistError(409, "outside_calling_hours", _("It is outside calling hours."))
    if end_listed_tasks(session, now=now, channel=TaskChannel.OPERATOR, actor=Actor(user_id=user_id)):
        session.refresh(task)  # a listed number's task just ended as do_not_call: the UPDATE below refuses it
    lease_expires_at = now + timedelta(minutes=settings.lease_minutes)
    claimed_id = session.scalar(
        update(CallbackTask)
        .where(
            CallbackTask.id == task_id,
            *workable_condition(now, TaskChannel.OPERATOR),
            appointment_condition(now, user_id, settings.appointment_owner_minutes),
        )
        .values(
            state=TaskState.CLAIMED.value,
            lease_owner_id=user_id,
            lease_expires_at=lease_expires_at,
            updated_at=now,
        )
        .returning(CallbackTask.id)
        .execution_options(synchronize_session=False)
    )
    if claimed_id is None:
        raise WorklistError(409, "not_workable", _("This callback cannot be taken now."))
    record(
        session,
        Actor(user_id=user_id),
        now,
        [AuditEntry("task.claimed", "callback_task", task_id, {"until": lease_expires_at.isoformat()})],
    )
    claimed = session.get(CallbackTask, task_id, populate_existing=True)
    assert claimed is not None  # noqa: S101  (just updated)
    return claimed


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
