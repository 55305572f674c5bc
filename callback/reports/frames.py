"""The stored events a report reads, as pandas DataFrames: one query per kind of event, filtered in SQL."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from callback.models import (
    Answer,
    CallAttempt,
    CallbackTask,
    Penalty,
    SupervisionCase,
    WorkOrder,
)
from callback.reports.filters import ReportFilter
from callback.settings import Settings
from callback.workdays import WorkCalendar, day_start

SECONDS_PER_DAY = 86400.0

ORDER_COLUMNS = (
    WorkOrder.id,
    WorkOrder.order_no,
    WorkOrder.customer_name,
    WorkOrder.customer_type,
    WorkOrder.service_center,
    WorkOrder.account_manager,
    WorkOrder.has_engineering,
    WorkOrder.ledger,
    WorkOrder.status,
    WorkOrder.accepted_at,
    WorkOrder.due_at,
    WorkOrder.connected_at,
)


def frame(
    session: Session, statement: Select[*tuple[Any, ...]], datetimes: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Run a query into a DataFrame whose datetime columns are UTC-aware, with its columns even when empty."""
    result = session.execute(statement)
    keys = list(result.keys())
    rows = result.all()
    # Column by column: pandas would otherwise inspect every Row for namedtuple fields.
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(keys)
    data = pd.DataFrame(
        {key: pd.Series(values, dtype=object) for key, values in zip(keys, columns, strict=True)}
    )
    data = data.infer_objects()
    for column in datetimes:
        data[column] = pd.to_datetime(data[column], utc=True)
    return data


def connected_orders(session: Session, filters: ReportFilter, settings: Settings) -> pd.DataFrame:
    """Return the orders connected in the period, with their durations as the system and the customer tell.

    Columns beyond the order's: `days` and `workdays` (accepted → connected), `applied_on` (the latest
    date a callback gave, if any), `customer_start` and `customer_days` (the time the customer lived).
    """
    lo, hi = filters.bounds(settings.tz)
    in_period = (
        select(WorkOrder.id)
        .where(WorkOrder.connected_at >= lo, WorkOrder.connected_at < hi, filters.order_condition())
        .scalar_subquery()
    )
    orders = frame(
        session,
        select(*ORDER_COLUMNS)
        .where(WorkOrder.id.in_(in_period))
        .order_by(WorkOrder.connected_at, WorkOrder.id),
        ("accepted_at", "due_at", "connected_at"),
    )
    applied = frame(
        session,
        select(CallbackTask.order_id, Answer.value.label("applied_on"), CallAttempt.started_at, Answer.id)
        .join(CallAttempt, Answer.attempt_id == CallAttempt.id)
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .where(Answer.question == "applied_on", CallbackTask.order_id.in_(in_period)),
    )
    return with_durations(orders, applied, settings)


def _as_date(value: Any) -> date | None:
    """Read an `applied_on` answer (an ISO date string); anything else counts as not given."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def with_durations(orders: pd.DataFrame, applied: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Add the system's and the customer's connection times to connected orders (see connected_orders)."""
    tz, calendar = settings.tz, settings.calendar
    orders = orders.copy()
    orders["days"] = (orders["connected_at"] - orders["accepted_at"]).dt.total_seconds() / SECONDS_PER_DAY
    orders["workdays"] = workdays_between(orders["accepted_at"], orders["connected_at"], calendar, tz)
    latest: dict[int, date] = {}
    if not applied.empty:
        # The customer's latest statement wins: the last answer of the latest call about the order.
        for order_id, value in applied.sort_values(["started_at", "id"])[
            ["order_id", "applied_on"]
        ].itertuples(index=False):
            day = _as_date(value)
            if day is not None:
                latest[int(order_id)] = day
    orders["applied_on"] = [latest.get(int(order_id)) for order_id in orders["id"]]
    orders["customer_start"] = pd.to_datetime(
        [
            customer_start(accepted, applied_on, tz)
            for accepted, applied_on in zip(
                orders["accepted_at"].dt.to_pydatetime(), orders["applied_on"], strict=True
            )
        ],
        utc=True,
    )
    orders["customer_days"] = (
        orders["connected_at"] - orders["customer_start"]
    ).dt.total_seconds() / SECONDS_PER_DAY
    return orders


def workdays_between(starts: pd.Series, ends: pd.Series, calendar: WorkCalendar, tz: ZoneInfo) -> pd.Series:
    """Return, row by row, the time from start to end spent on local working days, in days.

    The same figure as `WorkCalendar.workdays_between`, for a whole column at once: the working seconds
    elapsed since the first day concerned are tabulated per local day, so each row is two look-ups.
    """
    if starts.empty:
        return pd.Series(dtype=float, index=starts.index)
    local_starts, local_ends = starts.dt.tz_convert(tz), ends.dt.tz_convert(tz)
    first = min(local_starts.min(), local_ends.min()).date()
    last = max(local_starts.max(), local_ends.max()).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 2)]
    midnights = pd.DatetimeIndex([day_start(day, tz) for day in days])
    lengths = (midnights[1:] - midnights[:-1]).total_seconds().to_numpy()
    naive_midnights = midnights.tz_convert("UTC").tz_localize(None).to_numpy()
    working = np.array([calendar.is_workday(day) for day in days[:-1]])
    before = np.concatenate(([0.0], np.cumsum(lengths * working)))  # working seconds before each day

    def elapsed(moments: pd.Series, local: pd.Series) -> np.ndarray:
        index = (local.dt.tz_localize(None).dt.normalize() - pd.Timestamp(first)).dt.days.to_numpy()
        naive_utc = moments.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        into_day = (naive_utc - naive_midnights[index]) / np.timedelta64(1, "s")
        seconds: np.ndarray = before[index] + np.where(working[index], into_day, 0.0)
        return seconds

    return pd.Series(
        (elapsed(ends, local_ends) - elapsed(starts, local_starts)) / SECONDS_PER_DAY, index=starts.index
    )


def customer_start(accepted_at: datetime, applied_on: date | None, tz: Any) -> datetime:
    """Return when the customer's wait began: 00:00 local of the day they say they applied.

    A customer gives a date, not a time. When it is the system's own acceptance date the system's time is
    the better estimate of that day, so no gap is invented; any other date starts at 00:00 local.
    """
    if applied_on is None or applied_on == accepted_at.astimezone(tz).date():
        return accepted_at
    return day_start(applied_on, tz)


def tasks_created(session: Session, filters: ReportFilter, settings: Settings) -> pd.DataFrame:
    """Return the callback tasks created in the period for the filtered orders."""
    lo, hi = filters.bounds(settings.tz)
    return frame(
        session,
        select(
            CallbackTask.id,
            CallbackTask.order_id,
            WorkOrder.service_center,
            CallbackTask.kind,
            CallbackTask.state,
            CallbackTask.created_at,
            CallbackTask.due_by,
        )
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(CallbackTask.created_at >= lo, CallbackTask.created_at < hi, filters.order_condition()),
        ("created_at", "due_by"),
    )


def attempts_of_tasks(session: Session, filters: ReportFilter, settings: Settings) -> pd.DataFrame:
    """Return the finished attempts on the tasks created in the period, with their satisfaction score."""
    lo, hi = filters.bounds(settings.tz)
    task_ids = (
        select(CallbackTask.id)
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(CallbackTask.created_at >= lo, CallbackTask.created_at < hi, filters.order_condition())
        .scalar_subquery()
    )
    attempts = frame(
        session,
        select(CallAttempt.id, CallAttempt.task_id, CallAttempt.disposition, CallAttempt.started_at).where(
            CallAttempt.task_id.in_(task_ids), CallAttempt.disposition.is_not(None)
        ),
        ("started_at",),
    )
    scores = frame(
        session,
        select(Answer.attempt_id, Answer.value.label("satisfaction"))
        .join(CallAttempt, Answer.attempt_id == CallAttempt.id)
        .where(Answer.question == "satisfaction", CallAttempt.task_id.in_(task_ids)),
    )
    scores["satisfaction"] = pd.to_numeric(scores["satisfaction"], errors="coerce")
    return attempts.merge(scores, how="left", left_on="id", right_on="attempt_id").drop(columns="attempt_id")


CASE_COLUMNS = (
    SupervisionCase.id,
    WorkOrder.order_no,
    WorkOrder.service_center,
    WorkOrder.account_manager,
    SupervisionCase.category,
    SupervisionCase.state,
    SupervisionCase.opened_at,
    SupervisionCase.due_at,
    SupervisionCase.letter_no,
    SupervisionCase.letter_issued_at,
    SupervisionCase.referred_to_discipline,
    SupervisionCase.referred_at,
    SupervisionCase.closed_at,
)
CASE_DATETIMES = ("opened_at", "due_at", "letter_issued_at", "referred_at", "closed_at")


def cases_touched(session: Session, filters: ReportFilter, settings: Settings) -> pd.DataFrame:
    """Return the cases opened, issued a letter, referred or closed in the period, for the filtered orders."""
    lo, hi = filters.bounds(settings.tz)
    moments = (
        SupervisionCase.opened_at,
        SupervisionCase.letter_issued_at,
        SupervisionCase.referred_at,
        SupervisionCase.closed_at,
    )
    return frame(
        session,
        select(*CASE_COLUMNS)
        .join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
        .where(or_(*((moment >= lo) & (moment < hi) for moment in moments)), filters.order_condition())
        .order_by(SupervisionCase.id),
        CASE_DATETIMES,
    )


def penalties_recorded(session: Session, filters: ReportFilter, settings: Settings) -> pd.DataFrame:
    """Return the penalties recorded in the period on cases of the filtered orders."""
    lo, hi = filters.bounds(settings.tz)
    return frame(
        session,
        select(
            Penalty.id,
            Penalty.case_id,
            WorkOrder.order_no,
            WorkOrder.service_center,
            SupervisionCase.category,
            Penalty.person,
            Penalty.amount_yuan,
            Penalty.reason,
            Penalty.recorded_at,
        )
        .join(SupervisionCase, Penalty.case_id == SupervisionCase.id)
        .join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
        .where(Penalty.recorded_at >= lo, Penalty.recorded_at < hi, filters.order_condition())
        .order_by(Penalty.recorded_at, Penalty.id),
        ("recorded_at",),
    )


def in_period(moments: pd.Series, filters: ReportFilter, settings: Settings) -> pd.Series:
    """Tell, for each UTC moment, whether it falls in the period."""
    lo, hi = filters.bounds(settings.tz)
    return (moments >= pd.Timestamp(lo)) & (moments < pd.Timestamp(hi))
