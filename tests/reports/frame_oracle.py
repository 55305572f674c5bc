"""The pandas computation of the summary and the charts that SQL aggregates replaced: the test oracle.

Copied from callback/reports/summary.py and charts.py as they were before issue 14 (rows read into
DataFrames); tests/reports/test_aggregates.py checks that the SQL figures equal these on generated data.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import (
    INTERVIEW_DISPOSITIONS,
    CallAttempt,
    CallbackTask,
    CaseCategory,
    CaseState,
    Disposition,
    Finding,
    TaskState,
    WorkOrder,
)
from callback.reports import aapor, frames
from callback.reports.exports import enum_label
from callback.reports.filters import ReportFilter
from callback.settings import Settings

ENDED = (CaseState.CLOSED.value, CaseState.DISMISSED.value)
SATISFIED_FROM = 4  # 4 满意 and 5 非常满意 on the 1–5 scale

# AAPOR outcome groups of one callback task, best first: the best outcome of its attempts is the task's.
INTERVIEW, PARTIAL, REFUSAL, NOT_ELIGIBLE, NON_CONTACT, NOT_ATTEMPTED = "I", "P", "R", "NE", "NC", "UH"
OUTCOME_OF: dict[str, str] = {
    Disposition.COMPLETED: INTERVIEW,
    Disposition.PARTIAL: PARTIAL,
    Disposition.REFUSED: REFUSAL,
    Disposition.CALLBACK_REQUESTED: REFUSAL,  # 2.12: reached, no interview (yet)
    Disposition.WRONG_NUMBER: NOT_ELIGIBLE,
    Disposition.INVALID_NUMBER: NOT_ELIGIBLE,
    Disposition.NO_ANSWER: NON_CONTACT,
    Disposition.BUSY: NON_CONTACT,
    Disposition.VOICEMAIL: NON_CONTACT,
    Disposition.DO_NOT_CALL: REFUSAL,  # 2.112: a known respondent refused all further calls
}
OUTCOME_RANK = {
    outcome: rank for rank, outcome in enumerate((INTERVIEW, PARTIAL, REFUSAL, NOT_ELIGIBLE, NON_CONTACT))
}


def ratio(numerator: float, denominator: float, places: int) -> float:
    """Divide and round half up to `places` decimals; 0.0 when there is nothing to divide by."""
    if not denominator:
        return 0.0
    quotient = Decimal(repr(float(numerator))) / Decimal(repr(float(denominator)))
    return float(quotient.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def mean(values: pd.Series, places: int) -> float:
    """Return the mean of a column rounded half up, 0.0 for none."""
    values = values.dropna()
    return ratio(float(values.sum()), len(values), places)


def connections(orders: pd.DataFrame) -> dict[str, Any]:
    """Count and time the connections (orders from frames.connected_orders)."""
    count = len(orders)

    def group(with_engineering: bool) -> dict[str, Any]:
        part = orders[orders["has_engineering"] == with_engineering]
        return {"count": len(part), "share": ratio(len(part), count, 3), "avg_days": mean(part["days"], 2)}

    return {
        "count": count,
        "avg_days": mean(orders["days"], 2),
        "avg_workdays": mean(orders["workdays"], 2),
        "overtime": int((orders["connected_at"] > orders["due_at"]).sum()),
        "with_engineering": group(True),
        "without_engineering": group(False),
        "customer_reported_avg_days": mean(orders["customer_days"], 2),
        "customer_reported_count": int(orders["applied_on"].notna().sum()),
    }


def task_outcomes(tasks: pd.DataFrame, attempts: pd.DataFrame) -> pd.Series:
    """Give each task its AAPOR outcome group (index: task id); cancelled tasks never called are left out."""
    ranks = attempts.assign(rank=attempts["disposition"].map(OUTCOME_OF).map(OUTCOME_RANK))
    best = ranks.groupby("task_id")["rank"].min()
    by_rank = {rank: outcome for outcome, rank in OUTCOME_RANK.items()}
    outcome = tasks["id"].map(best).map(by_rank).fillna(NOT_ATTEMPTED)
    outcome.index = tasks["id"]
    # A task the do-not-call list stopped before any call: the customer refused further calls (2.112).
    stopped = (tasks["state"] == TaskState.DO_NOT_CALL.value).to_numpy() & (
        outcome == NOT_ATTEMPTED
    ).to_numpy()
    outcome[stopped] = REFUSAL
    # A task cancelled before any call (the order was cancelled) left the sample: not eligible.
    never_called_cancelled = (tasks["state"] == TaskState.CANCELLED.value).to_numpy() & (
        outcome == NOT_ATTEMPTED
    ).to_numpy()
    return outcome[~never_called_cancelled]


def aapor_rates(outcomes: pd.Series) -> dict[str, float]:
    """Return RR1 and CON1 (AAPOR Standard Definitions) from the tasks' outcome groups.

    RR1 = I / ((I + P) + (R + NC + O) + (UH + UO))
    CON1 = ((I + P) + R + O) / ((I + P) + R + O + NC + (UH + UO))
    Not-eligible tasks (wrong or invalid number) are in neither; O (other) is always 0 here.
    """
    counts = outcomes.value_counts()
    n = {
        group: int(counts.get(group, 0))
        for group in (INTERVIEW, PARTIAL, REFUSAL, NON_CONTACT, NOT_ATTEMPTED)
    }
    eligible = sum(n.values())
    contacted = n[INTERVIEW] + n[PARTIAL] + n[REFUSAL]
    return {
        "contact_rate": ratio(contacted, eligible, 3),
        "response_rate_rr1": ratio(n[INTERVIEW], eligible, 3),
    }


def callbacks(tasks: pd.DataFrame, attempts: pd.DataFrame) -> dict[str, Any]:
    """Count the callbacks of the tasks created in the period and rate them."""
    scores = attempts["satisfaction"].dropna() if "satisfaction" in attempts else pd.Series(dtype=float)
    return {
        "tasks": len(tasks),
        "done": int((tasks["state"] == TaskState.DONE.value).sum()),
        "unreachable": int((tasks["state"] == TaskState.UNREACHABLE.value).sum()),
        "attempts": len(attempts),
        **aapor_rates(task_outcomes(tasks, attempts)),
        "satisfaction_avg": mean(scores, 2),
        "satisfied_share": ratio(int((scores >= SATISFIED_FROM).sum()), len(scores), 3),
    }


def cases(touched: pd.DataFrame, filters: ReportFilter, settings: Settings, now: datetime) -> dict[str, Any]:
    """Count the cases: opened, letters by category, referrals, still open and closed in the period."""
    opened = frames.in_period(touched["opened_at"], filters, settings)
    lettered = touched[frames.in_period(touched["letter_issued_at"], filters, settings)]
    by_category = lettered["category"].value_counts()
    still_open = opened & ~touched["state"].isin(ENDED)
    return {
        "opened": int(opened.sum()),
        "letters_issued": len(lettered),
        "letters_by_category": {
            category.value: int(by_category.get(category.value, 0)) for category in CaseCategory
        },
        "referred_to_discipline": int(frames.in_period(touched["referred_at"], filters, settings).sum()),
        "open": int(still_open.sum()),
        "overdue": int((still_open & (touched["due_at"] < pd.Timestamp(now))).sum()),
        "closed": int(
            (
                frames.in_period(touched["closed_at"], filters, settings)
                & (touched["state"] == CaseState.CLOSED.value)
            ).sum()
        ),
    }


def penalties(recorded: pd.DataFrame) -> dict[str, Any]:
    """Count the penalties recorded in the period (person-times) and add up their yuan."""
    total = sum((Decimal(amount) for amount in recorded["amount_yuan"]), Decimal(0))
    amount: int | float = int(total) if total == total.to_integral_value() else float(total)
    return {"person_times": len(recorded), "amount_yuan": amount}


@dataclass
class Report:
    """The summary's figures and the rows behind them."""

    figures: dict[str, Any]
    orders: pd.DataFrame
    cases: pd.DataFrame
    penalties: pd.DataFrame


def dispositions(outcomes: pd.Series) -> aapor.Dispositions:
    """Count the tasks' outcome groups in AAPOR's terms (UH: never attempted; O and UO are 0 here)."""
    counts = outcomes.value_counts()
    return aapor.Dispositions(
        I=int(counts.get(INTERVIEW, 0)),
        P=int(counts.get(PARTIAL, 0)),
        R=int(counts.get(REFUSAL, 0)),
        NC=int(counts.get(NON_CONTACT, 0)),
        UH=int(counts.get(NOT_ATTEMPTED, 0)),
        NE=int(counts.get(NOT_ELIGIBLE, 0)),
    )


def utility_rates(tasks: pd.DataFrame, attempts: pd.DataFrame, min_sample: int) -> dict[str, Any]:
    """Return the utility's own figures for these tasks, each with its sample size and Wilson interval.

    - 回访率 `callback_rate`: tasks with a completed callback (an interview, complete or partial) over the
      tasks due (created in the period, less those cancelled with their order before any call);
    - 满意率 `satisfaction_rate`: answers of 4 or 5 over the satisfaction answers given;
    - 回访及时率 `timely_rate`: of the tasks with a completed callback, those whose first interview began
      within the task's window (by `due_by`).
    """
    outcomes = task_outcomes(tasks, attempts)
    due = tasks[tasks["id"].isin(outcomes.index)]
    interviews = attempts[attempts["disposition"].isin([d.value for d in INTERVIEW_DISPOSITIONS])]
    first = interviews.groupby("task_id")["started_at"].min()
    completed = due[due["id"].isin(first.index)]
    timely = int((completed["id"].map(first) <= completed["due_by"]).sum()) if len(completed) else 0
    scores = attempts["satisfaction"].dropna() if "satisfaction" in attempts else pd.Series(dtype=float)
    satisfied = int((scores >= SATISFIED_FROM).sum())
    return {
        "callback_rate": aapor.estimate(len(completed), len(due), min_sample=min_sample)
        | {"numerator": len(completed)},
        "satisfaction_rate": aapor.estimate(satisfied, len(scores), min_sample=min_sample)
        | {"numerator": satisfied},
        "timely_rate": aapor.estimate(timely, len(completed), min_sample=min_sample) | {"numerator": timely},
    }


def utility_by_center_month(
    tasks: pd.DataFrame, attempts: pd.DataFrame, settings: Settings
) -> list[dict[str, Any]]:
    """Return the utility's figures per service centre and local month of the tasks' creation."""
    if tasks.empty:
        return []
    months = tasks["created_at"].dt.tz_convert(settings.tz).dt.strftime("%Y-%m")
    rows = []
    for (center, month), group in tasks.groupby([tasks["service_center"], months], sort=True):
        part = attempts[attempts["task_id"].isin(group["id"])]
        rows.append(
            {"service_center": center, "month": month, **utility_rates(group, part, settings.min_sample)}
        )
    return rows


def precision(
    figures: dict[str, Any], tasks: pd.DataFrame, attempts: pd.DataFrame, settings: Settings
) -> dict:
    """Give each existing rate and share of the summary its sample size, 95 % Wilson interval and flag."""
    n = settings.min_sample
    connections_ = figures["connections"]
    d = dispositions(task_outcomes(tasks, attempts))
    contacted = d.I + d.P + d.R + d.O
    eligible = contacted + d.NC + d.UH + d.UO
    scores = attempts["satisfaction"].dropna() if "satisfaction" in attempts else pd.Series(dtype=float)
    return {
        "connections.with_engineering.share": aapor.estimate(
            connections_["with_engineering"]["count"], connections_["count"], min_sample=n
        ),
        "connections.without_engineering.share": aapor.estimate(
            connections_["without_engineering"]["count"], connections_["count"], min_sample=n
        ),
        "callbacks.contact_rate": aapor.estimate(contacted, eligible, min_sample=n),
        "callbacks.response_rate_rr1": aapor.estimate(d.I, eligible, min_sample=n),
        "callbacks.satisfied_share": aapor.estimate(
            int((scores >= SATISFIED_FROM).sum()), len(scores), min_sample=n
        ),
    }


def build_report(session: Session, filters: ReportFilter, settings: Settings, now: datetime) -> Report:
    """Compute the summary of contract 4.4 from the stored events, with the orders and cases behind it."""
    orders = frames.connected_orders(session, filters, settings)
    tasks = frames.tasks_created(session, filters, settings)
    attempts = frames.attempts_of_tasks(session, filters, settings)
    touched = frames.cases_touched(session, filters, settings)
    recorded = frames.penalties_recorded(session, filters, settings)
    figures = {
        "period": {"from": filters.start.isoformat(), "to": filters.end.isoformat()},
        "filters": {
            "service_center": filters.service_center,
            "account_manager": filters.account_manager,
            "customer_type": filters.customer_type,
        },
        "connections": connections(orders),
        "callbacks": callbacks(tasks, attempts),
        "cases": cases(touched, filters, settings, now),
        "penalties": penalties(recorded),
    }
    # Issue 13: every rate with its sample size and interval; AAPOR's full set; the utility's own rates.
    figures["aapor"] = aapor.aapor_figures(
        dispositions(task_outcomes(tasks, attempts)), settings.aapor_e, min_sample=settings.min_sample
    )
    figures["min_sample"] = settings.min_sample
    figures["intervals"] = precision(figures, tasks, attempts, settings)
    figures["utility"] = {
        **utility_rates(tasks, attempts, settings.min_sample),
        "by_center_month": utility_by_center_month(tasks, attempts, settings),
    }
    return Report(figures=figures, orders=orders, cases=touched, penalties=recorded)


def summary(session: Session, filters: ReportFilter, settings: Settings, now: datetime) -> dict[str, Any]:
    """Return the figures of contract 4.4 as JSON-ready data."""
    return build_report(session, filters, settings, now).figures


def _months(filters: ReportFilter) -> list[tuple[str, date, date]]:
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
    return moments.dt.tz_convert(settings.tz).dt.strftime("%Y-%m")


def connections_by_month(orders: pd.DataFrame, filters: ReportFilter, settings: Settings) -> dict[str, Any]:
    """Count and time the connections of each month, with and without external works."""
    orders = orders.assign(month=month_of(orders["connected_at"], settings))
    series: dict[str, list[Any]] = {
        key: [] for key in ("with_count", "without_count", "with_days", "without_days", "avg_days")
    }
    periods = []
    for month, first, last in _months(filters):
        in_month = orders[orders["month"] == month]
        works = in_month[in_month["has_engineering"]]
        plain = in_month[~in_month["has_engineering"].astype(bool)]
        series["with_count"].append(len(works))
        series["without_count"].append(len(plain))
        series["with_days"].append(mean(works["days"], 2) if len(works) else None)
        series["without_days"].append(mean(plain["days"], 2) if len(plain) else None)
        series["avg_days"].append(mean(in_month["days"], 2) if len(in_month) else None)
        periods.append({"from": first.isoformat(), "to": last.isoformat()})
    return {"months": [m for m, _f, _l in _months(filters)], "periods": periods, **series}


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
    month_keys = [m for m, _f, _l in _months(filters)]
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
