"""The periodic pass: tasks that have come due, expired leases, stuck automated calls (CLI `tick`)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.messaging import queue_unreachable_followups
from callback.models import ORDER_FIELDS, CallbackTask, OrderStatus, TaskKind, WorkOrder
from callback.qa import draw_weekly_samples
from callback.rules import due_date_plan, local_day_bounds
from callback.settings import Settings
from callback.worklist import create_tasks, recover_stuck_dialing, release_expired_leases

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
    report.dialing_recovered = recover_stuck_dialing(session, now=now, settings=settings, actor=actor)
    report.messages_queued = queue_unreachable_followups(session, now=now, settings=settings, actor=actor)
    report.qa_reviews_drawn = draw_weekly_samples(session, now=now, settings=settings, actor=actor)
    return report


def create_due_date_tasks(session: Session, *, now: datetime, settings: Settings, actor: Actor) -> int:
    """Create the 到期回访 of every order whose local due day has begun, in bounded batches."""
    _, end_of_today = local_day_bounds(now, settings)
    oldest = now - timedelta(days=settings.task_max_age_days)
    has_due_date_task = exists().where(
        CallbackTask.order_id == WorkOrder.id, CallbackTask.kind == TaskKind.DUE_DATE.value
    )
    columns = [WorkOrder.id, *(getattr(WorkOrder, name) for name in ORDER_FIELDS)]
    created = 0
    last_id = 0
    while True:
        rows = (
            session.execute(
                select(*columns)
                .where(
                    WorkOrder.id > last_id,
                    WorkOrder.status != OrderStatus.CANCELLED.value,
                    WorkOrder.due_at < end_of_today,
                    WorkOrder.due_at >= oldest,
                    ~has_due_date_task,
                )
                .order_by(WorkOrder.id)
                .limit(BATCH_SIZE)
            )
            .mappings()
            .all()
        )
        if not rows:
            return created
        last_id = rows[-1]["id"]
        plans = [(row["id"], plan) for row in rows if (plan := due_date_plan(row, now, settings)) is not None]
        created += len(create_tasks(session, plans, now=now, actor=actor))
