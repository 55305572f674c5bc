"""Claims: the most urgent workable task leased to one operator or dialer, and handed back."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.dml import ReturningUpdate

from callback.audit import Actor, AuditEntry, bound_origin, insert_per_row, record
from callback.errors import ServiceError
from callback.models import (
    CallbackTask,
    TaskChannel,
    TaskState,
    User,
)
from callback.models.types import UTCDateTime
from callback.settings import Settings
from callback.worklist.donotcall import end_listed_tasks, listed_order_condition, stop_listed_claim

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
    if user_id is None:
        make_ready(session, now=now)  # the dialer: the UPDATE is its own check (it reads only due tasks)
    elif session.connection().scalar(_person_lock_statement(), {"user_id": user_id, "now": now}):
        make_ready(session, now=now)
    task = _claim_workable(session, user_id, now=now, settings=settings, channel=channel, kind=kind)
    if task is None and user_id is not None:
        # The claim refuses a person who holds a live claim (or whose concurrent claim won, on SQLite):
        # hand back what they hold.
        held = current_claim(session, user_id, now=now)
        if held is not None:
            return Claim(held, already_held=True)
    return Claim(task)


@cache
def _person_lock_statement() -> Select[bool]:
    """Lock the person's row (one claim of theirs at a time) and say whether any waiting task has come due.

    One round trip for both. The earliest waiting time is one entry of ix_callback_tasks_waiting (an EXISTS
    let PostgreSQL scan the table). Built once; bound: user_id, now. A Core statement on the tables, run on
    the session's connection: it loads no object, so the ORM's work per execution is not needed. FOR NO KEY
    UPDATE serialises the person's claims without blocking the foreign-key checks of rows that name the
    person (their audit events), which FOR UPDATE would.
    """
    tasks, users = CallbackTask.__table__, User.__table__
    earliest_waiting = select(func.min(tasks.c.not_before)).where(tasks.c.waiting == true()).scalar_subquery()
    return (
        select(earliest_waiting <= bindparam("now", type_=UTCDateTime()))
        .select_from(users)
        .where(users.c.id == bindparam("user_id", type_=Integer()))
        .with_for_update(of=users, key_share=True)
    )


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
    For a person, the same UPDATE checks that they hold no live claim yet. On PostgreSQL the same
    statement also writes the claim's audit row and says whether the number is listed (one round trip).
    """
    if not settings.calling_hours.contains(now, settings.tz):
        return None
    lease_expires_at = now + timedelta(minutes=settings.lease_minutes)
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _taking_statement(postgres=postgres, person=user_id is not None, of_kind=kind is not None)
    actor = Actor(user_id=user_id)
    details = {"until": lease_expires_at.isoformat()}
    values: dict[str, Any] = {
        "now": now,
        "user_id": user_id,
        "until": lease_expires_at,
        "on_channel": channel.value,
        "of_kind": kind,
        "appointment_from": now - timedelta(minutes=settings.appointment_owner_minutes),
    }
    if postgres:
        values |= bound_origin(actor, now, details)
    races = 0
    while races < CLAIM_RETRIES:
        claimed: CallbackTask | None  # the statement returns the task (on PostgreSQL, with `listed`)
        if postgres:
            row = session.execute(statement, values, execution_options={"populate_existing": True}).first()
            claimed, listed = (row[0], bool(row[1])) if row is not None else (None, False)
        else:
            claimed = session.scalar(statement, values, execution_options={"populate_existing": True})
            listed = claimed is not None and bool(
                session.scalar(select(listed_order_condition(claimed.order_id, now)))
            )
            if claimed is not None and not listed:
                record(
                    session, actor, now, [AuditEntry("task.claimed", "callback_task", claimed.id, details)]
                )
        if claimed is not None and listed:
            # Its number was listed after the task was made: it ends here, uncalled, and the claim goes on
            # (each such stop ends a task, so this loop ends; it does not count as a lost race).
            stop_listed_claim(session, claimed.id, now=now, actor=actor)
            continue
        if claimed is not None:
            return claimed
        if user_id is not None and current_claim(session, user_id, now=now) is not None:
            return None  # the person holds a claim (or their concurrent claim took one): `claim` returns it
        # Nothing left, or (PostgreSQL) another claim took the row between pick and update: look again.
        races += 1
        eligible = [
            *workable_condition(now, channel, kind),
            appointment_condition(now, user_id, settings.appointment_owner_minutes),
        ]
        if (
            session.scalar(select(CallbackTask.id).where(*eligible, CallbackTask.waiting == false()).limit(1))
            is None
        ):
            return None
    return None


def _inline(value: str) -> ColumnElement[str]:
    """A constant of the code (a state's name) as SQL text rather than a bound parameter."""
    return literal_column(f"'{value}'", String())


@cache
def _taking_statement(*, postgres: bool, person: bool, of_kind: bool) -> Select[Any] | ReturningUpdate[Any]:
    """Build once the claim's statement for its shape; each claim binds its values (see _claim_workable).

    Built per call, the construct and its cache key cost more Python time than the database spends on it.
    Bound names: now, user_id, until, on_channel, of_kind, appointment_from, and the audit's on PostgreSQL
    (none named as a column: an UPDATE would take a parameter named `kind` as a new value for the column).
    """
    now = bindparam("now", type_=UTCDateTime())
    user_id = bindparam("user_id", type_=Integer())
    # The constants are written into the text, not bound: PostgreSQL then plans the prepared statement once
    # (its generic plan matches the partial index `state = 'claimed'` and knows the LIMIT is 1); with them
    # bound, the generic plan looked costly and every claim was planned afresh (0.5 ms of the server's CPU).
    open_, claimed = _inline(TaskState.OPEN.value), _inline(TaskState.CLAIMED.value)
    one = literal_column("1", Integer())
    workable = [
        CallbackTask.state == open_,
        CallbackTask.not_before <= now,
        CallbackTask.channel == bindparam("on_channel", type_=String()),
    ]
    if of_kind:
        workable.append(CallbackTask.kind == bindparam("of_kind", type_=String()))
    # Not another operator's appointment still held for them (see appointment_condition).
    free = [
        CallbackTask.appointment_owner_id.is_(None),
        CallbackTask.not_before <= bindparam("appointment_from"),
    ]
    if person:
        free.append(CallbackTask.appointment_owner_id == user_id)
    urgent = (
        select(CallbackTask.id)
        # Ready tasks only: the head of ix_callback_tasks_ready is the answer, however many wait.
        .where(*workable, or_(*free), CallbackTask.waiting == false())
        .order_by(CallbackTask.due_by, CallbackTask.id)
        .limit(one)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    conditions: list[ColumnElement[bool]] = [CallbackTask.state == open_]
    candidate: ColumnElement[Any] = urgent
    if person:
        # The person's own appointments first (earliest appointed), then the most urgent of the rest.
        own = (
            select(CallbackTask.id)
            .where(*workable, CallbackTask.appointment_owner_id == user_id)
            .order_by(CallbackTask.not_before, CallbackTask.id)
            .limit(one)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        candidate = func.coalesce(own, urgent)
        holding = aliased(CallbackTask)
        conditions.append(
            ~exists(
                select(holding.id).where(
                    holding.state == claimed,
                    holding.lease_owner_id == user_id,
                    holding.lease_expires_at > now,
                )
            )
        )
    taking = (
        update(CallbackTask)
        .where(CallbackTask.id == candidate, *conditions)
        .values(
            state=TaskState.CLAIMED.value,
            lease_owner_id=user_id,
            lease_expires_at=bindparam("until", type_=UTCDateTime()),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not postgres:
        return taking.returning(CallbackTask)
    # WITH claimed AS (UPDATE … RETURNING …), logged AS (INSERT INTO audit_events … SELECT … FROM claimed
    # WHERE NOT listed) SELECT … FROM claimed: the audit row is the one `record` writes.
    claimed_rows = taking.returning(
        *CallbackTask.__table__.columns, listed_order_condition(CallbackTask.order_id, now).label("listed")
    ).cte("claimed")
    logged = insert_per_row(
        claimed_rows,
        claimed_rows.c.id,
        action="task.claimed",
        entity_type="callback_task",
        where=~claimed_rows.c.listed,
    ).cte("logged")
    return select(aliased(CallbackTask, claimed_rows, adapt_on_names=True), claimed_rows.c.listed).add_cte(
        logged
    )


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
