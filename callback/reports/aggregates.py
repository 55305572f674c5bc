"""The report's figures as SQL aggregates: each query groups in the database and returns a few rows.

Every figure of the summary and the dashboard is a count or a sum over small groups (service centre ×
local month × …); averages and rates are made from the sums in Python. Working time comes from the
`calendar_days` table (callback/reports/calendar_days.py), so no row of an order, task or attempt ever
reaches Python. docs/reports.md tells the design; tests/reports/test_aggregates.py holds it against the
pandas computation it replaced.
"""

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Label,
    SQLColumnExpression,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from callback.models import (
    INTERVIEW_DISPOSITIONS,
    Answer,
    CalendarDay,
    CallAttempt,
    CallbackTask,
    CaseState,
    Disposition,
    Finding,
    Penalty,
    SupervisionCase,
    TaskState,
    WorkOrder,
)
from callback.reports.calendar_days import (
    CalendarRange,
    day_of,
    ensure_calendar,
    json_number,
    seconds_between,
    unindexed,
    work_at,
)
from callback.reports.filters import ReportFilter, months
from callback.settings import Settings
from callback.workdays import day_start

ENDED = (CaseState.CLOSED.value, CaseState.DISMISSED.value)
SATISFIED_FROM = 4  # 4 满意 and 5 非常满意 on the 1–5 scale
# Years before the period that the calendar always holds: applied-on dates a customer states earlier than
# that count as not given (docs/reports.md); orders accepted earlier extend the calendar as needed.
CALENDAR_YEARS_BEFORE = 5

# AAPOR outcome groups of one callback task, best first: the best outcome of its attempts is the task's.
INTERVIEW, PARTIAL, REFUSAL, NOT_ELIGIBLE, NON_CONTACT, NOT_ATTEMPTED = "I", "P", "R", "NE", "NC", "UH"
OUTCOME_OF: dict[Disposition, str] = {
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
OUTCOME_ORDER = (INTERVIEW, PARTIAL, REFUSAL, NOT_ELIGIBLE, NON_CONTACT, NOT_ATTEMPTED)
OUTCOME_RANK = {outcome: rank for rank, outcome in enumerate(OUTCOME_ORDER)}
LEFT_THE_SAMPLE = -1  # a task cancelled with its order before any call


# PostgreSQL settings for a report's transaction (SET LOCAL: they end with it). JIT-compiling these grouped
# queries cost 0.4-0.5 s each at a million orders and saved less; a month's tasks joined to their attempts
# sorted and hashed to disk at the default 4 MB of work_mem (EXPLAIN ANALYZE in bench/README.md). At the
# default random_page_cost (4, spinning disks) a month's tasks hashed every order, call and answer ever
# stored; at 1.1 (SSD) they reach theirs by index, in table order (bench/README.md, the dashboard).
POSTGRESQL_REPORT_SETTINGS = {"jit": "off", "work_mem": "32MB", "random_page_cost": "1.1"}


def tune_for_reports(session: Session) -> None:
    """Apply POSTGRESQL_REPORT_SETTINGS to the session's transaction; nothing on other databases."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name, value in POSTGRESQL_REPORT_SETTINGS.items():
        session.execute(select(func.set_config(name, value, True)))


def month_index(
    moment: SQLColumnExpression[Any], filters: ReportFilter, settings: Settings
) -> ColumnElement[int]:
    """The position, in months(filters), of the local month of a moment inside the period."""
    ends = [day_start(last + timedelta(days=1), settings.tz) for _label, _first, last in months(filters)]
    if len(ends) == 1:
        return literal(0, Integer)
    return case(*((moment < end, index) for index, end in enumerate(ends[:-1])), else_=len(ends) - 1)


def _in_period(moment: SQLColumnExpression[Any], lo: datetime, hi: datetime) -> ColumnElement[bool]:
    return and_(moment >= lo, moment < hi)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


@dataclass
class Sums:
    """Counts and sums that add up across groups."""

    def add(self, other: "Sums") -> None:
        """Add another group's counts and sums to this one's."""
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @classmethod
    def of(cls, values: "list[Any]") -> Any:
        """Read one result row's sums in the order of the fields (NULL sums of no rows are 0)."""
        kinds = [float if field.type in (float, "float") else int for field in fields(cls)]
        return cls(*(kind(value or 0) for kind, value in zip(kinds, values, strict=True)))

    @classmethod
    def total(cls, groups: "list[Any]") -> Any:
        """Return the sum of groups (all zero for none)."""
        result = cls()
        for group in groups:
            result.add(group)
        return result


@dataclass
class ConnectionSums(Sums):
    """Connections of one group: how many, and their durations in seconds (system, working, customer)."""

    count: int = 0
    seconds: float = 0.0
    timed_workdays: int = 0
    work_seconds: float = 0.0
    overtime: int = 0
    timed_customer: int = 0
    customer_seconds: float = 0.0
    reported: int = 0


@dataclass
class ConnectionGroup:
    """The connections of one service centre, local month (index into months()) and works flag."""

    service_center: str
    month: int
    has_engineering: bool
    sums: ConnectionSums


def connection_groups(
    session: Session, filters: ReportFilter, settings: Settings, *, by_center_month: bool = True
) -> list[ConnectionGroup]:
    """Group the orders connected in the period by external works, with their times; and by centre and month.

    The summary needs only the works flag (`by_center_month=False`: two groups; every group's centre is ""
    and month 0); the charts need all three.
    """
    lo, hi = filters.bounds(settings.tz)
    first_year = filters.start.year - CALENDAR_YEARS_BEFORE
    calendar = ensure_calendar(session, settings, date(first_year, 1, 1), filters.end + timedelta(days=2))
    groups, earliest = _connection_groups(session, filters, settings, calendar, (lo, hi), by_center_month)
    if earliest is not None and not calendar.covers(earliest - timedelta(days=2), calendar.last):
        # Orders accepted before the calendar's first day: fill back to them, then count again.
        calendar = ensure_calendar(session, settings, earliest - timedelta(days=2), calendar.last)
        groups, _earliest = _connection_groups(
            session, filters, settings, calendar, (lo, hi), by_center_month
        )
    return groups


def _connection_groups(
    session: Session,
    filters: ReportFilter,
    settings: Settings,
    calendar: CalendarRange,
    period: tuple[datetime, datetime],
    by_center_month: bool,
) -> tuple[list[ConnectionGroup], date | None]:
    lo, hi = period
    order_in_period = and_(_in_period(WorkOrder.connected_at, lo, hi), filters.order_condition())
    # The customer's latest statement of when they applied, kept on the order as its answers are stored
    # (callback.worklist.attempts.note_stated_application); the calendar holds the dates a report counts.
    applied = aliased(CalendarDay, name="applied_day")
    accepted_day = CalendarDay.__table__.alias("accepted_day")
    connected_day = CalendarDay.__table__.alias("connected_day")
    days = seconds_between(WorkOrder.accepted_at, WorkOrder.connected_at)
    workdays = work_at(WorkOrder.connected_at, connected_day) - work_at(WorkOrder.accepted_at, accepted_day)
    # A customer gives a date, not a time: their own acceptance date keeps the system's time.
    customer_days = case(
        (applied.starts_at.is_(None), days),
        (and_(applied.starts_at <= WorkOrder.accepted_at, WorkOrder.accepted_at < applied.ends_at), days),
        else_=seconds_between(applied.starts_at, WorkOrder.connected_at),
    )
    keys: list[Label[Any]] = [WorkOrder.has_engineering.label("has_engineering")]
    if by_center_month:
        keys += [
            unindexed(WorkOrder.service_center).label("service_center"),
            month_index(WorkOrder.connected_at, filters, settings).label("month"),
        ]
    rows = (
        select(
            *keys,
            days.label("days"),
            workdays.label("workdays"),
            case((WorkOrder.connected_at > WorkOrder.due_at, 1), else_=0).label("overtime"),
            customer_days.label("customer_days"),
            case((applied.starts_at.is_not(None), 1), else_=0).label("reported"),
            WorkOrder.accepted_at.label("accepted_at"),
        )
        .select_from(WorkOrder)
        .outerjoin(
            applied, and_(applied.calendar == calendar.key, applied.day == WorkOrder.stated_applied_on)
        )
        .outerjoin(accepted_day, day_of(calendar, WorkOrder.accepted_at, accepted_day))
        .outerjoin(connected_day, day_of(calendar, WorkOrder.connected_at, connected_day))
        .where(order_in_period)
        .subquery("connection")
    )
    group_keys = [rows.c[key.name] for key in keys]
    grouped = session.execute(
        select(
            *group_keys,
            func.count(),
            func.sum(rows.c.days),
            func.count(rows.c.workdays),
            func.sum(rows.c.workdays),
            func.sum(rows.c.overtime),
            func.count(rows.c.customer_days),
            func.sum(rows.c.customer_days),
            func.sum(rows.c.reported),
            func.min(rows.c.accepted_at),
        ).group_by(*group_keys)
    ).all()
    groups, earliest = [], None
    for row in grouped:
        works, center, month = (*row[: len(keys)], "", 0)[:3]
        count, seconds, timed, work, overtime, timed_customer, customer, reported, first_accepted = row[
            len(keys) :
        ]
        groups.append(
            ConnectionGroup(
                center,
                int(month),
                bool(works),
                ConnectionSums(
                    int(count),
                    _number(seconds),
                    int(timed),
                    _number(work),
                    int(overtime or 0),
                    int(timed_customer),
                    _number(customer),
                    int(reported or 0),
                ),
            )
        )
        accepted = _as_date(first_accepted)
        if timed < count and accepted is not None:
            earliest = accepted if earliest is None else min(earliest, accepted)
    return groups, earliest


def _as_date(value: Any) -> date | None:
    """Read min() of a timestamp column (a string on SQLite) as a date."""
    if value is None:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


@dataclass
class TaskSums(Sums):
    """Callback tasks of one group: states, outcome groups, attempts and satisfaction answers."""

    tasks: int = 0
    done: int = 0
    unreachable: int = 0
    called: int = 0
    attempts: int = 0
    interview: int = 0
    partial: int = 0
    refusal: int = 0
    not_eligible: int = 0
    non_contact: int = 0
    not_attempted: int = 0
    due: int = 0
    completed: int = 0
    timely: int = 0
    scores: int = 0
    score_total: float = 0.0
    satisfied: int = 0

    def outcome_counts(self) -> dict[str, int]:
        """Count the tasks per AAPOR outcome group (cancelled tasks never called are left out)."""
        return {
            INTERVIEW: self.interview,
            PARTIAL: self.partial,
            REFUSAL: self.refusal,
            NOT_ELIGIBLE: self.not_eligible,
            NON_CONTACT: self.non_contact,
            NOT_ATTEMPTED: self.not_attempted,
        }


@dataclass
class TaskGroup:
    """The tasks created in one local month (index into months()) about one service centre's orders."""

    service_center: str
    month: int
    sums: TaskSums


def task_groups(session: Session, filters: ReportFilter, settings: Settings) -> list[TaskGroup]:
    """Group the callback tasks created in the period by centre and month, with their calls' outcomes."""
    lo, hi = filters.bounds(settings.tz)
    rank = case(
        {disposition.value: OUTCOME_RANK[outcome] for disposition, outcome in OUTCOME_OF.items()},
        value=CallAttempt.disposition,
    )
    interview = CallAttempt.disposition.in_([d.value for d in INTERVIEW_DISPOSITIONS])
    score = json_number(Answer.value)
    per_task = (
        select(
            CallbackTask.id.label("id"),
            CallbackTask.state.label("state"),
            CallbackTask.due_by.label("due_by"),
            # One value per task: grouped by the task's key alone, so the sort before grouping stays narrow.
            func.min(WorkOrder.service_center).label("service_center"),
            month_index(CallbackTask.created_at, filters, settings).label("month"),
            func.min(rank).label("best"),
            func.count(CallAttempt.id).label("attempts"),
            func.min(case((interview, CallAttempt.started_at))).label("first_interview"),
            func.count(score).label("scores"),
            func.sum(score).label("score_total"),
            func.sum(case((score >= SATISFIED_FROM, 1), else_=0)).label("satisfied"),
        )
        .select_from(CallbackTask)
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .outerjoin(
            CallAttempt, and_(CallAttempt.task_id == CallbackTask.id, CallAttempt.disposition.is_not(None))
        )
        .outerjoin(Answer, and_(Answer.attempt_id == CallAttempt.id, Answer.question == "satisfaction"))
        .where(_in_period(CallbackTask.created_at, lo, hi), filters.order_condition())
        .group_by(CallbackTask.id)  # the task's other columns depend on it (PostgreSQL allows them)
        .subquery("per_task")
    )
    t = per_task.c
    outcome = case(
        (t.best.is_not(None), t.best),
        (t.state == TaskState.DO_NOT_CALL.value, OUTCOME_RANK[REFUSAL]),
        (t.state == TaskState.CANCELLED.value, LEFT_THE_SAMPLE),
        else_=OUTCOME_RANK[NOT_ATTEMPTED],
    )
    rows = select(per_task, outcome.label("outcome")).subquery("outcomes")
    r = rows.c
    due = r.outcome != LEFT_THE_SAMPLE
    completed = and_(due, r.first_interview.is_not(None))
    grouped = session.execute(
        select(
            r.service_center,
            r.month,
            func.count(),
            _count_if(r.state == TaskState.DONE.value),
            _count_if(r.state == TaskState.UNREACHABLE.value),
            _count_if(r.attempts > 0),
            func.sum(r.attempts),
            *(_count_if(r.outcome == OUTCOME_RANK[group]) for group in OUTCOME_ORDER),
            _count_if(due),
            _count_if(completed),
            _count_if(and_(completed, r.first_interview <= r.due_by)),
            func.sum(r.scores),
            func.sum(r.score_total),
            func.sum(r.satisfied),
        )
        .group_by(r.service_center, r.month)
        .order_by(r.service_center, r.month)
    ).all()
    return [TaskGroup(center, int(month), TaskSums.of(values)) for center, month, *values in grouped]


@dataclass
class CaseSums(Sums):
    """Cases of one category and state touched in the period, and what happened to them in it."""

    touched: int = 0
    opened: int = 0
    lettered: int = 0
    referred: int = 0
    still_open: int = 0
    overdue: int = 0
    closed: int = 0


def case_groups(
    session: Session, filters: ReportFilter, settings: Settings, now: datetime
) -> dict[tuple[str, str], CaseSums]:
    """Count the cases opened, issued a letter, referred or closed in the period, by (category, state)."""
    lo, hi = filters.bounds(settings.tz)
    c = SupervisionCase
    moments = (c.opened_at, c.letter_issued_at, c.referred_at, c.closed_at)
    opened = _in_period(c.opened_at, lo, hi)
    still_open = and_(opened, c.state.not_in(ENDED))
    grouped = session.execute(
        select(
            c.category,
            c.state,
            func.count(),
            _count_if(opened),
            _count_if(_in_period(c.letter_issued_at, lo, hi)),
            _count_if(_in_period(c.referred_at, lo, hi)),
            _count_if(still_open),
            _count_if(and_(still_open, c.due_at < now)),
            _count_if(and_(_in_period(c.closed_at, lo, hi), c.state == CaseState.CLOSED.value)),
        )
        .join(WorkOrder, c.order_id == WorkOrder.id)
        .where(or_(*(_in_period(moment, lo, hi) for moment in moments)), filters.order_condition())
        .group_by(c.category, c.state)
    ).all()
    return {(category, state): CaseSums(*(int(v) for v in sums)) for category, state, *sums in grouped}


def penalty_groups(
    session: Session, filters: ReportFilter, settings: Settings
) -> list[tuple[str, Decimal, int]]:
    """Count the penalties recorded in the period by (service centre, amount): sums stay exact decimals."""
    lo, hi = filters.bounds(settings.tz)
    grouped = session.execute(
        select(WorkOrder.service_center, Penalty.amount_yuan, func.count())
        .join(SupervisionCase, Penalty.case_id == SupervisionCase.id)
        .join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
        .where(_in_period(Penalty.recorded_at, lo, hi), filters.order_condition())
        .group_by(WorkOrder.service_center, Penalty.amount_yuan)
    ).all()
    return [(center, Decimal(amount), int(count)) for center, amount, count in grouped]


def finding_groups(session: Session, filters: ReportFilter, settings: Settings) -> dict[tuple[str, int], int]:
    """Count the findings of the period by (category, month index)."""
    lo, hi = filters.bounds(settings.tz)
    month = month_index(Finding.found_at, filters, settings)
    found = (
        select(Finding.category.label("category"), month.label("month"))
        .join(CallAttempt, Finding.attempt_id == CallAttempt.id)
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(_in_period(Finding.found_at, lo, hi), filters.order_condition())
        .subquery("found")
    )
    grouped = session.execute(
        select(found.c.category, found.c.month, func.count()).group_by(found.c.category, found.c.month)
    ).all()
    return {(category, int(month)): int(count) for category, month, count in grouped}


def by_key(groups: list[Any], key: Any) -> Iterator[tuple[Any, Any]]:
    """Add up groups by a key function, in the key's order: (key, sums)."""
    totals: dict[Any, Any] = {}
    for group in groups:
        k = key(group)
        if k not in totals:
            totals[k] = type(group.sums)()
        totals[k].add(group.sums)
    yield from sorted(totals.items())
