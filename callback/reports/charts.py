"""The dashboard's chart data: each chart's series, computed from the same frames as the summary."""

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import CallAttempt, CallbackTask, CaseCategory, CaseState, Finding, WorkOrder
from callback.reports import frames
from callback.reports.exports import enum_label
from callback.reports.filters import ReportFilter
from callback.reports.summary import (
    INTERVIEW,
    PARTIAL,
    REFUSAL,
    aapor_rates,
    callbacks,
    mean,
    task_outcomes,
)
from callback.settings import Settings

ENDED = (CaseState.CLOSED.value, CaseState.DISMISSED.value)


def months(filters: ReportFilter) -> list[tuple[str, date, date]]:
    """List the local months the period touches as (YYYY-MM, first day in period, last day in period)."""
    result = []
    first = filters.start.replace(day=1)
    while first <= filters.end:
        following = (first + timedelta(days=32)).replace(day=1)
        result.append(
            (
                first.strftime("%Y-%m"),
                max(first, filters.start),
                min(following - timedelta(days=1), filters.end),
            )
        )
        first = following
    return result


def month_of(moments: pd.Series, settings: Settings) -> pd.Series:
    """Return the local month (YYYY-MM) of each UTC moment."""
    months: pd.Series = moments.dt.tz_convert(settings.tz).dt.strftime("%Y-%m")
    return months


def connections_by_month(orders: pd.DataFrame, filters: ReportFilter, settings: Settings) -> dict[str, Any]:
    """Count and time the connections of each month, with and without external works."""
    orders = orders.assign(month=month_of(orders["connected_at"], settings))
    series: dict[str, list[Any]] = {
        key: [] for key in ("with_count", "without_count", "with_days", "without_days", "avg_days")
    }
    periods = []
    for month, first, last in months(filters):
        in_month = orders[orders["month"] == month]
        works = in_month[in_month["has_engineering"]]
        plain = in_month[~in_month["has_engineering"].astype(bool)]
        series["with_count"].append(len(works))
        series["without_count"].append(len(plain))
        series["with_days"].append(mean(works["days"], 2) if len(works) else None)
        series["without_days"].append(mean(plain["days"], 2) if len(plain) else None)
        series["avg_days"].append(mean(in_month["days"], 2) if len(in_month) else None)
        periods.append({"from": first.isoformat(), "to": last.isoformat()})
    return {"months": [m for m, _f, _l in months(filters)], "periods": periods, **series}


def gap_by_center(orders: pd.DataFrame) -> list[dict[str, Any]]:
    """Compare system and customer average connection days per service centre, widest gap first."""
    rows = []
    for center, group in orders.groupby("service_center", sort=True):
        system, customer = mean(group["days"], 2), mean(group["customer_days"], 2)
        rows.append(
            {
                "service_center": center,
                "count": len(group),
                "reported": int(group["applied_on"].notna().sum()),
                "system_days": system,
                "customer_days": customer,
                "gap_days": round(customer - system, 2),
            }
        )
    return sorted(rows, key=lambda row: (-row["gap_days"], row["service_center"]))


def funnel(tasks: pd.DataFrame, attempts: pd.DataFrame) -> dict[str, Any]:
    """Follow the tasks created in the period: created → called → contacted → completed, with the rates."""
    outcomes = task_outcomes(tasks, attempts)
    called = int(tasks["id"].isin(attempts["task_id"]).sum())
    return {
        "tasks": len(tasks),
        "called": called,
        "attempts": len(attempts),
        "contacted": int(outcomes.isin([INTERVIEW, PARTIAL, REFUSAL]).sum()),
        "completed": int((outcomes == INTERVIEW).sum()),
        **aapor_rates(outcomes),
        **{key: value for key, value in callbacks(tasks, attempts).items() if key.startswith("satisf")},
    }


def findings_by_month(session: Session, filters: ReportFilter, settings: Settings) -> dict[str, Any]:
    """Count the findings of each category per local month of the period."""
    lo, hi = filters.bounds(settings.tz)
    found = frames.frame(
        session,
        select(Finding.category, Finding.found_at)
        .join(CallAttempt, Finding.attempt_id == CallAttempt.id)
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(Finding.found_at >= lo, Finding.found_at < hi, filters.order_condition()),
        ("found_at",),
    )
    found = found.assign(month=month_of(found["found_at"], settings))
    counts = found.groupby(["category", "month"]).size()
    month_keys = [m for m, _f, _l in months(filters)]
    series = [
        {
            "category": category.value,
            "label": enum_label("case_category", category.value),
            "counts": [int(counts.get((category.value, month), 0)) for month in month_keys],
        }
        for category in CaseCategory
        if category.value in set(found["category"])
    ]
    return {"months": month_keys, "series": series}


def cases_by_state(
    touched: pd.DataFrame, filters: ReportFilter, settings: Settings, now: datetime
) -> dict[str, Any]:
    """Count the cases opened in the period by their state now, and those past their SLA."""
    opened = touched[frames.in_period(touched["opened_at"], filters, settings)]
    counts = opened["state"].value_counts()
    overdue = (~opened["state"].isin(ENDED)) & (opened["due_at"] < pd.Timestamp(now))
    return {
        "states": [
            {
                "state": state.value,
                "label": enum_label("case_state", state.value),
                "count": int(counts.get(state.value, 0)),
            }
            for state in CaseState
        ],
        "overdue": int(overdue.sum()),
    }


def penalties_by_center(recorded: pd.DataFrame) -> list[dict[str, Any]]:
    """Add up the penalties of each service centre: person-times and yuan."""
    rows = []
    for center, group in recorded.groupby("service_center", sort=True):
        rows.append(
            {
                "service_center": center,
                "person_times": len(group),
                "amount_yuan": float(sum(group["amount_yuan"])),
            }
        )
    return sorted(rows, key=lambda row: (-row["amount_yuan"], row["service_center"]))


def chart_data(session: Session, filters: ReportFilter, settings: Settings, now: datetime) -> dict[str, Any]:
    """Return every chart of the dashboard for the filters."""
    orders = frames.connected_orders(session, filters, settings)
    tasks = frames.tasks_created(session, filters, settings)
    attempts = frames.attempts_of_tasks(session, filters, settings)
    touched = frames.cases_touched(session, filters, settings)
    recorded = frames.penalties_recorded(session, filters, settings)
    return {
        "filters": filters.query_args(),
        "connections": connections_by_month(orders, filters, settings),
        "gap": gap_by_center(orders),
        "funnel": funnel(tasks, attempts),
        "findings": findings_by_month(session, filters, settings),
        "cases": cases_by_state(touched, filters, settings, now),
        "penalties": penalties_by_center(recorded),
    }
