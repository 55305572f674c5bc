"""Listed numbers are never called: tasks whose number is on the do-not-call list end as `do_not_call`.

The claim sweeps the workable tasks it is about to choose from (`end_listed_tasks`), and the dialer looks
once more right before it places a call (`stop_attempt_if_listed`). Each stop is audited.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.donotcall import is_listed, live_condition
from callback.models import CallAttempt, CallbackTask, DoNotCallEntry, TaskChannel, TaskState, WorkOrder
from callback.worklist.lifecycle import move_tasks

DO_NOT_CALL_REASON = "do not call"


def end_listed_tasks(
    session: Session, *, now: datetime, channel: TaskChannel, actor: Actor, kind: str | None = None
) -> int:
    """End the open tasks of a channel whose number is listed now (appointments included); return how many."""
    # Driven from the list (a few rows) through the indexed phone column to the tasks: its cost follows the
    # list, not the queue, so every claim can afford it.
    query = (
        select(CallbackTask.id)
        .select_from(DoNotCallEntry)
        .join(WorkOrder, WorkOrder.customer_phone == DoNotCallEntry.number)
        .join(CallbackTask, CallbackTask.order_id == WorkOrder.id)
        .where(
            live_condition(now),
            CallbackTask.state == TaskState.OPEN.value,
            CallbackTask.channel == channel.value,
            CallbackTask.not_before <= now,
        )
    )
    if kind is not None:
        query = query.where(CallbackTask.kind == kind)
    task_ids = session.scalars(query).all()
    if not task_ids:
        return 0
    moved = move_tasks(
        session,
        task_ids,
        TaskState.DO_NOT_CALL,
        now=now,
        actor=actor,
        reason=DO_NOT_CALL_REASON,
        from_states=(TaskState.OPEN,),
    )
    record(
        session,
        actor,
        now,
        (
            AuditEntry("do_not_call.stopped", "callback_task", task_id, {"check": "claim"})
            for task_id in task_ids
        ),
    )
    return moved


def listed_order_condition(order_id: Any, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Return an SQL condition true when the order `order_id` (a column or a value) has a listed number.

    `now` is a time, or a bound parameter of one in a statement built once (worklist/claims.py).
    """
    return exists().where(
        WorkOrder.id == order_id, DoNotCallEntry.number == WorkOrder.customer_phone, live_condition(now)
    )


def stop_listed_claim(session: Session, task_id: int, *, now: datetime, actor: Actor) -> None:
    """End a task the claim just took whose number is listed: no call, audited as the claim's stop."""
    move_tasks(
        session,
        [task_id],
        TaskState.DO_NOT_CALL,
        now=now,
        actor=actor,
        reason=DO_NOT_CALL_REASON,
        from_states=(TaskState.CLAIMED,),
    )
    record(
        session, actor, now, [AuditEntry("do_not_call.stopped", "callback_task", task_id, {"check": "claim"})]
    )


def stop_attempt_if_listed(session: Session, attempt: CallAttempt, *, now: datetime, actor: Actor) -> bool:
    """Right before dialling: if the number is listed, drop the unplaced attempt, end the task; True if so."""
    task = attempt.task
    entry = is_listed(session, task.order.customer_phone, now)
    if entry is None:
        return False
    attempt_id = attempt.id
    session.delete(attempt)
    session.flush()
    move_tasks(
        session,
        [task.id],
        TaskState.DO_NOT_CALL,
        now=now,
        actor=actor,
        reason=DO_NOT_CALL_REASON,
        from_states=(TaskState.DIALING, TaskState.CLAIMED),
    )
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                "attempt.voided",
                "call_attempt",
                attempt_id,
                {"task_id": task.id, "reason": DO_NOT_CALL_REASON},
            ),
            AuditEntry(
                "do_not_call.stopped", "callback_task", task.id, {"check": "dial", "entry_id": entry.id}
            ),
        ],
    )
    session.expire(task)
    return True
