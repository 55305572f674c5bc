"""Tasks come and go: creation from the rules' plans, cancellation with their order, expired leases."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.bulk import among, insert_rows
from callback.models import (
    CallbackTask,
    TaskState,
)
from callback.task_plans import TaskPlan


def create_tasks(
    session: Session,
    plans: Sequence[tuple[int, TaskPlan]],
    *,
    now: datetime,
    actor: Actor,
    audit: list[AuditEntry] | None = None,
) -> list[tuple[int, int, str]]:
    """Create the planned tasks for (order id, plan) pairs; return (order id, task id, kind) for each.

    Each creation is audited: here, or, given `audit`, by the caller, who adds the entries to its own (one
    INSERT of audit rows for the orders and their tasks).
    """
    if not plans:
        return []
    rows = [
        {
            "order_id": order_id,
            "kind": plan.kind,
            "state": TaskState.OPEN.value,
            "channel": plan.channel,
            "not_before": plan.not_before,
            "due_by": plan.due_by,
            "attempt_count": 0,
            "failed_attempts": 0,
            "waiting": plan.not_before > now,
            "created_at": now,
            "updated_at": now,
        }
        for order_id, plan in plans
    ]
    table = CallbackTask.__table__
    if len(rows) == 1:
        # One order's one task (a single PUT): INSERT … RETURNING, the same statement every time.
        (row,) = rows
        task_id = session.execute(insert(table).returning(table.c.id), row).scalar_one()
        task_ids = {(row["order_id"], row["kind"]): task_id}
    else:
        # In one go (COPY on PostgreSQL), without RETURNING; ids are read back by (order, kind), unique by
        # constraint.
        insert_rows(session, table, rows)
        returned = session.execute(
            select(CallbackTask.id, CallbackTask.order_id, CallbackTask.kind).where(
                among(session, CallbackTask.order_id, {order_id for order_id, _plan in plans})
            )
        )
        task_ids = {(order_id, kind): task_id for task_id, order_id, kind in returned}
    created = [(order_id, task_ids[order_id, plan.kind], plan.kind) for order_id, plan in plans]
    entries = [
        AuditEntry("task.created", "callback_task", task_id, {"kind": kind, "order_id": order_id})
        for order_id, task_id, kind in created
    ]
    if audit is None:
        record(session, actor, now, entries)
    else:
        audit.extend(entries)
    return created


def cancel_tasks_of_orders(session: Session, order_ids: Iterable[int], *, now: datetime, actor: Actor) -> int:
    """Cancel the unfinished tasks of orders the marketing system cancelled; return how many.

    A task being dialled is cancelled too: its call's webhooks then hang up and store nothing more, the
    dialer ends the call at the provider (`calls_to_end`), and the attempt's outcome opens no case.
    """
    order_ids = list(order_ids)
    if not order_ids:
        return 0
    unfinished = (TaskState.OPEN, TaskState.CLAIMED, TaskState.DIALING)
    task_ids = session.scalars(
        select(CallbackTask.id).where(
            CallbackTask.order_id.in_(order_ids),
            CallbackTask.state.in_([state.value for state in unfinished]),
        )
    ).all()
    return move_tasks(
        session,
        task_ids,
        TaskState.CANCELLED,
        now=now,
        actor=actor,
        reason="order cancelled",
        from_states=unfinished,
    )


def release_expired_leases(session: Session, *, now: datetime, actor: Actor) -> int:
    """Return tasks whose operator's lease ran out to the queue; return how many."""
    task_ids = session.scalars(
        select(CallbackTask.id).where(
            CallbackTask.state == TaskState.CLAIMED.value, CallbackTask.lease_expires_at < now
        )
    ).all()
    return move_tasks(session, task_ids, TaskState.OPEN, now=now, actor=actor, reason="lease expired")


def move_tasks(
    session: Session,
    task_ids: Sequence[int],
    to: TaskState,
    *,
    now: datetime,
    actor: Actor,
    reason: str,
    from_states: Sequence[TaskState] = (TaskState.OPEN, TaskState.CLAIMED),
) -> int:
    """Move tasks still in `from_states` to `to`, clearing any lease, and audit each move."""
    if not task_ids:
        return 0
    moved = session.scalars(
        update(CallbackTask)
        .where(CallbackTask.id.in_(task_ids), CallbackTask.state.in_([s.value for s in from_states]))
        .values(state=to.value, lease_owner_id=None, lease_expires_at=None, updated_at=now)
        .returning(CallbackTask.id)
    ).all()
    record(
        session,
        actor,
        now,
        (
            AuditEntry("task.state", "callback_task", task_id, {"to": to.value, "reason": reason})
            for task_id in moved
        ),
    )
    return len(moved)
