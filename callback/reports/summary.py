"""The summary of contract 4.4: connections, callbacks, cases and penalties over a period."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from callback.models import INTERVIEW_DISPOSITIONS, CaseCategory, CaseState, Disposition, TaskState
from callback.reports import aapor, frames
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
) -> dict[str, Any]:
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
