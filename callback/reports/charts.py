"""The dashboard's chart data: each chart's series, from the same SQL aggregates as the summary."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from callback.models import CaseCategory, CaseState
from callback.reports.aggregates import (
    INTERVIEW,
    PARTIAL,
    REFUSAL,
    CaseSums,
    ConnectionGroup,
    ConnectionSums,
    TaskGroup,
    TaskSums,
    by_key,
    case_groups,
    connection_groups,
    finding_groups,
    penalty_groups,
    task_groups,
    tune_for_reports,
)
from callback.reports.exports import enum_label
from callback.reports.filters import ReportFilter, months
from callback.reports.summary import aapor_rates, average_days, figures_of, satisfaction
from callback.settings import Settings

__all__ = ["chart_data", "dashboard_data", "months"]


def connections_by_month(groups: list[ConnectionGroup], filters: ReportFilter) -> dict[str, Any]:
    """Count and time the connections of each month, with and without external works."""
    series: dict[str, list[Any]] = {
        key: [] for key in ("with_count", "without_count", "with_days", "without_days", "avg_days")
    }
    periods = []
    for index, (_month, first, last) in enumerate(months(filters)):
        works = ConnectionSums.total([g.sums for g in groups if g.month == index and g.has_engineering])
        plain = ConnectionSums.total([g.sums for g in groups if g.month == index and not g.has_engineering])
        both = ConnectionSums.total([works, plain])
        series["with_count"].append(works.count)
        series["without_count"].append(plain.count)
        series["with_days"].append(average_days(works.seconds, works.count) if works.count else None)
        series["without_days"].append(average_days(plain.seconds, plain.count) if plain.count else None)
        series["avg_days"].append(average_days(both.seconds, both.count) if both.count else None)
        periods.append({"from": first.isoformat(), "to": last.isoformat()})
    return {"months": [m for m, _f, _l in months(filters)], "periods": periods, **series}


def gap_by_center(groups: list[ConnectionGroup]) -> list[dict[str, Any]]:
    """Compare system and customer average connection days per service centre, widest gap first."""
    rows = []
    for center, sums in by_key(groups, lambda g: g.service_center):
        system = average_days(sums.seconds, sums.count)
        customer = average_days(sums.customer_seconds, sums.timed_customer)
        rows.append(
            {
                "service_center": center,
                "count": sums.count,
                "reported": sums.reported,
                "system_days": system,
                "customer_days": customer,
                "gap_days": round(customer - system, 2),
            }
        )
    return sorted(rows, key=lambda row: (-row["gap_days"], row["service_center"]))


def funnel(groups: list[TaskGroup]) -> dict[str, Any]:
    """Follow the tasks created in the period: created → called → contacted → completed, with the rates."""
    sums: TaskSums = TaskSums.total([group.sums for group in groups])
    outcomes = sums.outcome_counts()
    return {
        "tasks": sums.tasks,
        "called": sums.called,
        "attempts": sums.attempts,
        "contacted": outcomes[INTERVIEW] + outcomes[PARTIAL] + outcomes[REFUSAL],
        "completed": outcomes[INTERVIEW],
        **aapor_rates(sums),
        **satisfaction(sums),
    }


def findings_by_month(session: Session, filters: ReportFilter, settings: Settings) -> dict[str, Any]:
    """Count the findings of each category per local month of the period."""
    counts = finding_groups(session, filters, settings)
    month_keys = [m for m, _f, _l in months(filters)]
    found = {category for category, _month in counts}
    series = [
        {
            "category": category.value,
            "label": enum_label("case_category", category.value),
            "counts": [counts.get((category.value, index), 0) for index in range(len(month_keys))],
        }
        for category in CaseCategory
        if category.value in found
    ]
    return {"months": month_keys, "series": series}


def cases_by_state(groups: dict[tuple[str, str], CaseSums]) -> dict[str, Any]:
    """Count the cases opened in the period by their state now, and those past their SLA."""
    return {
        "states": [
            {
                "state": state.value,
                "label": enum_label("case_state", state.value),
                "count": sum(s.opened for (_c, st), s in groups.items() if st == state.value),
            }
            for state in CaseState
        ],
        "overdue": sum(s.overdue for s in groups.values()),
    }


def penalties_by_center(groups: list[tuple[str, Decimal, int]]) -> list[dict[str, Any]]:
    """Add up the penalties of each service centre: person-times and yuan."""
    totals: dict[str, tuple[int, Decimal]] = {}
    for center, amount, count in groups:
        times, total = totals.get(center, (0, Decimal(0)))
        totals[center] = (times + count, total + amount * count)
    rows = [
        {"service_center": center, "person_times": times, "amount_yuan": float(total)}
        for center, (times, total) in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row["amount_yuan"], row["service_center"]))


def charts_of(
    filters: ReportFilter,
    connections: list[ConnectionGroup],
    tasks: list[TaskGroup],
    findings: dict[str, Any],
    touched: dict[tuple[str, str], CaseSums],
    recorded: list[tuple[str, Decimal, int]],
) -> dict[str, Any]:
    """Make every chart of the dashboard from the grouped sums."""
    return {
        "filters": filters.query_args(),
        "connections": connections_by_month(connections, filters),
        "gap": gap_by_center(connections),
        "funnel": funnel(tasks),
        "findings": findings,
        "cases": cases_by_state(touched),
        "penalties": penalties_by_center(recorded),
    }


def chart_data(session: Session, filters: ReportFilter, settings: Settings, now: datetime) -> dict[str, Any]:
    """Return every chart of the dashboard for the filters."""
    tune_for_reports(session)
    return charts_of(
        filters,
        connection_groups(session, filters, settings),
        task_groups(session, filters, settings),
        findings_by_month(session, filters, settings),
        case_groups(session, filters, settings, now),
        penalty_groups(session, filters, settings),
    )


def dashboard_data(
    session: Session, filters: ReportFilter, settings: Settings, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the dashboard's figures (those of the summary) and its charts, from one query per group.

    The summary's figures and the charts add up the same groups: the connections by works flag, centre and
    month, the tasks by centre and month, the cases, the penalties; the charts also count the findings.
    Five grouped queries in all, instead of the summary's four and then the charts' five.
    """
    tune_for_reports(session)
    connections = connection_groups(session, filters, settings)
    tasks = task_groups(session, filters, settings)
    touched = case_groups(session, filters, settings, now)
    recorded = penalty_groups(session, filters, settings)
    figures, _rows = figures_of(filters, settings, connections, tasks, touched, recorded)
    findings = findings_by_month(session, filters, settings)
    return figures, charts_of(filters, connections, tasks, findings, touched, recorded)
