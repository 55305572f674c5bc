"""The periodic pass: tasks that have come due, expired leases, stuck automated calls (CLI `tick`)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, exists, select, true, update
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.messaging import queue_unreachable_followups
from callback.models import ORDER_FIELDS, CallbackTask, TaskKind, WorkOrder
from callback.qa import draw_weekly_samples
from callback.settings import Settings
from callback.task_plans import due_date_plan, local_day_bounds
from callback.worklist import create_tasks, make_ready, recover_stuck_dialing, release_expired_leases

BATCH_SIZE = 2000


@dataclass
class TickReport:
    due_date_tasks_created: int = 0
    leases_released: int = 0
    dialing_recovered: int = 0
    messages_queued: int = 0
    qa_reviews_drawn: int = 0


def run_tick(session: Session, *, now: datetime, settings: Settings, actor: Actor) -> TickReport:
    """Do everything that has come due by `now`; running it twice changes nothing the second time."""
    report = TickReport()
    report.due_date_tasks_created = create_due_date_tasks(session, now=now, settings=settings, actor=actor)
    report.leases_released = release_expired_leases(session, now=now, actor=actor)
    make_ready(session, now=now)
    report.dialing_recovered = recover_stuck_dialing(session, now=now, settings=settings, actor=actor)
    report.messages_queued = queue_unreachable_followups(session, now=now, settings=settings, actor=actor)
    report.qa_reviews_drawn = draw_weekly_samples(session, now=now, settings=settings, actor=actor)
    return report


def create_due_date_tasks(session: Session, *, now: datetime, settings: Settings, actor: Actor) -> int:
    """Create the 到期回访 of every order whose local due day has begun, in bounded batches.

    Only orders intake marked `due_task_pending` are read (index on pending, due_at), and each one read is
    unmarked, so the work follows what came due or changed since the last run, not the number of orders.
    """
    _, end_of_today = local_day_bounds(now, settings)
    oldest = now - timedelta(days=settings.task_max_age_days)
    has_due_date_task = exists().where(
        CallbackTask.order_id == WorkOrder.id, CallbackTask.kind == TaskKind.DUE_DATE.value
    )
    columns = [
        WorkOrder.id,
        WorkOrder.updated_at,
        has_due_date_task.label("has_due_date_task"),
        *(getattr(WorkOrder, name) for name in ORDER_FIELDS),
    ]
    orders = WorkOrder.__table__
    unmark = (
        update(orders)
        .where(orders.c.id == bindparam("order_id"), orders.c.updated_at == bindparam("seen_updated_at"))
        .values(due_task_pending=False)
    )
    created = 0
    while True:
        rows = (
            session.execute(
                select(*columns)
                .where(
                    WorkOrder.due_task_pending == true(),
                    WorkOrder.due_at < end_of_today,
                    WorkOrder.due_at >= oldest,
                )
                .order_by(WorkOrder.due_at, WorkOrder.id)
                .limit(BATCH_SIZE)
            )
            .mappings()
            .all()
        )
        if not rows:
            return created
        plans = [
            (row["id"], plan)
            for row in rows
            if not row["has_due_date_task"]
            # A RowMapping's keys are also its columns; these rows are read by name only.
            and (plan := due_date_plan(cast("Mapping[str, Any]", row), now, settings)) is not None
        ]
        created += len(create_tasks(session, plans, now=now, actor=actor))
        # An order intake changed since it was read keeps its mark (updated_at moved) and is read again.
        session.execute(
            unmark, [{"order_id": row["id"], "seen_updated_at": row["updated_at"]} for row in rows]
        )
