"""The summary of contract 4.4: connections, callbacks, cases and penalties over a period.

The figures are aggregated in the database (callback/reports/aggregates.py); only the workbook's detail
sheets read rows, through callback/reports/frames.py.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from callback.models import CaseCategory
from callback.reports import aapor, frames
from callback.reports.aggregates import (
    INTERVIEW,
    NON_CONTACT,
    NOT_ATTEMPTED,
    NOT_ELIGIBLE,
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
    penalty_groups,
    task_groups,
    tune_for_reports,
)
from callback.reports.filters import ReportFilter, months
from callback.settings import Settings

SECONDS_PER_DAY = 86400.0


def ratio(numerator: float, denominator: float, places: int) -> float:
    """Divide and round half up to `places` decimals; 0.0 when there is nothing to divide by."""
    if not denominator:
        return 0.0
    quotient = Decimal(repr(float(numerator))) / Decimal(repr(float(denominator)))
    return float(quotient.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def average_days(seconds: float, count: int) -> float:
    """Return the mean of durations given as their total in seconds, in days rounded half up to 2 places."""
    return ratio(seconds / SECONDS_PER_DAY, count, 2)


def connections(groups: list[ConnectionGroup]) -> dict[str, Any]:
    """Count and time the connections."""
    total: ConnectionSums = ConnectionSums.total([group.sums for group in groups])

    def part(with_engineering: bool) -> dict[str, Any]:
        sums = ConnectionSums.total([g.sums for g in groups if g.has_engineering == with_engineering])
        return {
            "count": sums.count,
            "share": ratio(sums.count, total.count, 3),
            "avg_days": average_days(sums.seconds, sums.count),
        }

    return {
        "count": total.count,
        "avg_days": average_days(total.seconds, total.count),
        "avg_workdays": average_days(total.work_seconds, total.timed_workdays),
        "overtime": total.overtime,
        "with_engineering": part(True),
        "without_engineering": part(False),
        "customer_reported_avg_days": average_days(total.customer_seconds, total.timed_customer),
        "customer_reported_count": total.reported,
    }


def dispositions(sums: TaskSums) -> aapor.Dispositions:
    """Count the tasks' outcome groups in AAPOR's terms (UH: never attempted; O and UO are 0 here)."""
    n = sums.outcome_counts()
    return aapor.Dispositions(
        I=n[INTERVIEW], P=n[PARTIAL], R=n[REFUSAL], NC=n[NON_CONTACT], UH=n[NOT_ATTEMPTED], NE=n[NOT_ELIGIBLE]
    )


def aapor_rates(sums: TaskSums) -> dict[str, float]:
    """Return CON1 and RR1 (AAPOR Standard Definitions) from the tasks' outcome groups.

    RR1 = I / ((I + P) + (R + NC + O) + (UH + UO))
    CON1 = ((I + P) + R + O) / ((I + P) + R + O + NC + (UH + UO))
    Not-eligible tasks (wrong or invalid number) are in neither; O (other) is always 0 here.
    """
    d = dispositions(sums)
    eligible = d.I + d.P + d.R + d.NC + d.UH
    return {
        "contact_rate": ratio(d.I + d.P + d.R, eligible, 3),
        "response_rate_rr1": ratio(d.I, eligible, 3),
    }


def satisfaction(sums: TaskSums) -> dict[str, float]:
    """Return the mean satisfaction answer and the share of 4s and 5s."""
    return {
        "satisfaction_avg": ratio(sums.score_total, sums.scores, 2),
        "satisfied_share": ratio(sums.satisfied, sums.scores, 3),
    }


def callbacks(sums: TaskSums) -> dict[str, Any]:
    """Count the callbacks of the tasks created in the period and rate them."""
    return {
        "tasks": sums.tasks,
        "done": sums.done,
        "unreachable": sums.unreachable,
        "attempts": sums.attempts,
        **aapor_rates(sums),
        **satisfaction(sums),
    }


def cases(groups: dict[tuple[str, str], CaseSums]) -> dict[str, Any]:
    """Count the cases: opened, letters by category, referrals, still open and closed in the period."""
    total: CaseSums = CaseSums.total(list(groups.values()))
    return {
        "opened": total.opened,
        "letters_issued": total.lettered,
        "letters_by_category": {
            category.value: sum(s.lettered for (c, _state), s in groups.items() if c == category.value)
            for category in CaseCategory
        },
        "referred_to_discipline": total.referred,
        "open": total.still_open,
        "overdue": total.overdue,
        "closed": total.closed,
    }


def yuan(total: Decimal) -> int | float:
    """Show a sum of yuan as a whole number when it is one."""
    return int(total) if total == total.to_integral_value() else float(total)


def penalties(groups: list[tuple[str, Decimal, int]]) -> dict[str, Any]:
    """Count the penalties recorded in the period (person-times) and add up their yuan."""
    total = sum((amount * count for _center, amount, count in groups), Decimal(0))
    return {"person_times": sum(count for _c, _a, count in groups), "amount_yuan": yuan(total)}


def utility_rates(sums: TaskSums, min_sample: int) -> dict[str, Any]:
    """Return the utility's own figures for these tasks, each with its sample size and Wilson interval.

    - 回访率 `callback_rate`: tasks with a completed callback (an interview, complete or partial) over the
      tasks due (created in the period, less those cancelled with their order before any call);
    - 满意率 `satisfaction_rate`: answers of 4 or 5 over the satisfaction answers given;
    - 回访及时率 `timely_rate`: of the tasks with a completed callback, those whose first interview began
      within the task's window (by `due_by`).
    """
    return {
        "callback_rate": aapor.estimate(sums.completed, sums.due, min_sample=min_sample)
        | {"numerator": sums.completed},
        "satisfaction_rate": aapor.estimate(sums.satisfied, sums.scores, min_sample=min_sample)
        | {"numerator": sums.satisfied},
        "timely_rate": aapor.estimate(sums.timely, sums.completed, min_sample=min_sample)
        | {"numerator": sums.timely},
    }


def utility_by_center_month(
    groups: list[TaskGroup], filters: ReportFilter, settings: Settings
) -> list[dict[str, Any]]:
    """Return the utility's figures per service centre and local month of the tasks' creation."""
    labels = [label for label, _first, _last in months(filters)]
    return [
        {"service_center": center, "month": labels[month], **utility_rates(sums, settings.min_sample)}
        for (center, month), sums in by_key(groups, lambda g: (g.service_center, g.month))
    ]


def precision(figures: dict[str, Any], sums: TaskSums, settings: Settings) -> dict[str, Any]:
    """Give each existing rate and share of the summary its sample size, 95 % Wilson interval and flag."""
    n = settings.min_sample
    connections_ = figures["connections"]
    d = dispositions(sums)
    contacted = d.I + d.P + d.R + d.O
    eligible = contacted + d.NC + d.UH + d.UO
    return {
        "connections.with_engineering.share": aapor.estimate(
            connections_["with_engineering"]["count"], connections_["count"], min_sample=n
        ),
        "connections.without_engineering.share": aapor.estimate(
            connections_["without_engineering"]["count"], connections_["count"], min_sample=n
        ),
        "callbacks.contact_rate": aapor.estimate(contacted, eligible, min_sample=n),
        "callbacks.response_rate_rr1": aapor.estimate(d.I, eligible, min_sample=n),
        "callbacks.satisfied_share": aapor.estimate(sums.satisfied, sums.scores, min_sample=n),
    }


@dataclass
class Report:
    """The summary's figures and, for a workbook with details, the rows behind them."""

    figures: dict[str, Any]
    # Orders, cases and penalties behind the figures (the workbook's detail sheets).
    row_count: int
    orders: pd.DataFrame | None = None
    cases: pd.DataFrame | None = None
    penalties: pd.DataFrame | None = None


def summary_figures(
    session: Session, filters: ReportFilter, settings: Settings, now: datetime
) -> tuple[dict[str, Any], int]:
    """Compute the figures of contract 4.4 in the database; also return how many rows lie behind them."""
    tune_for_reports(session)
    return figures_of(
        filters,
        settings,
        connection_groups(session, filters, settings, by_center_month=False),
        task_groups(session, filters, settings),
        case_groups(session, filters, settings, now),
        penalty_groups(session, filters, settings),
    )


def figures_of(
    filters: ReportFilter,
    settings: Settings,
    connection_rows: list[ConnectionGroup],
    tasks: list[TaskGroup],
    touched: dict[tuple[str, str], CaseSums],
    recorded: list[tuple[str, Decimal, int]],
) -> tuple[dict[str, Any], int]:
    """Make the figures of contract 4.4 from the grouped sums (the dashboard shares them with its charts)."""
    task_totals: TaskSums = TaskSums.total([group.sums for group in tasks])
    figures: dict[str, Any] = {
        "period": {"from": filters.start.isoformat(), "to": filters.end.isoformat()},
        "filters": {
            "service_center": filters.service_center,
            "account_manager": filters.account_manager,
            "customer_type": filters.customer_type,
        },
        "connections": connections(connection_rows),
        "callbacks": callbacks(task_totals),
        "cases": cases(touched),
        "penalties": penalties(recorded),
    }
    # Issue 13: every rate with its sample size and interval; AAPOR's full set; the utility's own rates.
    figures["aapor"] = aapor.aapor_figures(
        dispositions(task_totals), settings.aapor_e, min_sample=settings.min_sample
    )
    figures["min_sample"] = settings.min_sample
    figures["intervals"] = precision(figures, task_totals, settings)
    figures["utility"] = {
        **utility_rates(task_totals, settings.min_sample),
        "by_center_month": utility_by_center_month(tasks, filters, settings),
    }
    rows = (
        figures["connections"]["count"]
        + sum(s.touched for s in touched.values())
        + figures["penalties"]["person_times"]
    )
    return figures, rows


def build_report(
    session: Session, filters: ReportFilter, settings: Settings, now: datetime, *, details: bool = True
) -> Report:
    """Compute the summary of contract 4.4; with `details`, read the orders and cases behind it too."""
    figures, rows = summary_figures(session, filters, settings, now)
    if not details:
        return Report(figures=figures, row_count=rows)
    return Report(
        figures=figures,
        row_count=rows,
        orders=frames.connected_orders(session, filters, settings),
        cases=frames.cases_touched(session, filters, settings),
        penalties=frames.penalties_recorded(session, filters, settings),
    )


def summary(session: Session, filters: ReportFilter, settings: Settings, now: datetime) -> dict[str, Any]:
    """Return the figures of contract 4.4 as JSON-ready data."""
    return summary_figures(session, filters, settings, now)[0]
