"""Which callback tasks an order needs, and when (contract 4.2). Pure: no database, no clock."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from callback.models import POWERED_STATUSES, OrderStatus, TaskChannel, TaskKind
from callback.settings import Settings


@dataclass(frozen=True)
class TaskPlan:
    kind: str
    channel: str
    not_before: datetime
    due_by: datetime


def _channel(kind: TaskKind, settings: Settings) -> str:
    return TaskChannel.AUTO.value if kind.value in settings.auto_kinds else TaskChannel.OPERATOR.value


def _too_old(moment: datetime, now: datetime, settings: Settings) -> bool:
    """Nobody is called about last year's connection when history is imported."""
    return moment < now - timedelta(days=settings.task_max_age_days)


def local_day_bounds(moment: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """Return the start of the local day holding `moment` and the start of the next one."""
    local_day = moment.astimezone(settings.tz).date()
    start = datetime.combine(local_day, time(), tzinfo=settings.tz)
    end = datetime.combine(local_day + timedelta(days=1), time(), tzinfo=settings.tz)
    return start, end


def intake_plan(order: Mapping[str, Any], now: datetime, settings: Settings) -> TaskPlan | None:
    """Plan the 受理回访 for an order seen for the first time."""
    if order["status"] == OrderStatus.CANCELLED or _too_old(order["accepted_at"], now, settings):
        return None
    due_by = settings.calendar.add_workdays(now, settings.intake_window_workdays, settings.tz)
    return TaskPlan(TaskKind.INTAKE.value, _channel(TaskKind.INTAKE, settings), now, due_by)


def completion_plan(order: Mapping[str, Any], now: datetime, settings: Settings) -> TaskPlan | None:
    """Plan the 接电回访 for an order that has reached connected or archived."""
    if order["status"] not in POWERED_STATUSES:
        return None
    powered_at = order["connected_at"] or order["archived_at"]
    if _too_old(powered_at, now, settings):
        return None
    due_by = settings.calendar.add_workdays(now, settings.completion_window_workdays, settings.tz)
    return TaskPlan(TaskKind.COMPLETION.value, _channel(TaskKind.COMPLETION, settings), now, due_by)


def due_date_plan(order: Mapping[str, Any], now: datetime, settings: Settings) -> TaskPlan | None:
    """Plan the 到期回访, workable from the start of the local day of `due_at` until that day ends."""
    if order["status"] == OrderStatus.CANCELLED or _too_old(order["due_at"], now, settings):
        return None
    day_start, day_end = local_day_bounds(order["due_at"], settings)
    if now < day_start:
        return None
    return TaskPlan(TaskKind.DUE_DATE.value, _channel(TaskKind.DUE_DATE, settings), day_start, day_end)


def plans_on_arrival(
    order: Mapping[str, Any], *, first_seen: bool, existing_kinds: set[str], now: datetime, settings: Settings
) -> list[TaskPlan]:
    """Plan the tasks an arriving order (new or changed) needs now; `due_date` is left to `tick`."""
    plans = []
    if first_seen:
        plans.append(intake_plan(order, now, settings))
    if TaskKind.COMPLETION.value not in existing_kinds:
        plans.append(completion_plan(order, now, settings))
    return [plan for plan in plans if plan is not None]
