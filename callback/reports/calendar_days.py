"""The working-day calendar in the database (table `calendar_days`), and the SQL that reads time with it.

Working time between two instants is `work_at(end) - work_at(start)`, where `work_at(m)` is the working
seconds from the calendar's origin to `m`: the day's `work_seconds_before`, plus the part of the day
elapsed when the day is a working day. The local day of a UTC instant is found without time-zone support in
the database: `date(m + max_offset)` is the instant's local day or the next one (offsets differ by less than
a day), and the row's `starts_at` tells which. See docs/reports.md.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, SQLColumnExpression, String, and_, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import FromClause

from callback.models import CalendarDay
from callback.settings import Settings
from callback.workdays import day_start

ONE_DAY = timedelta(days=1)
# Dates a customer may state that the calendar will still fill; anything else counts as no date given.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


class seconds_between(FunctionElement[float]):
    """`b - a` in seconds, for two UTC timestamp columns (negative when b is earlier)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(arg, **kw) for arg in element.clauses)
    # julianday keeps ~0.1 ms at today's dates; rounding to the millisecond removes that noise.
    return f"round((julianday({b}) - julianday({a})) * 86400.0, 3)"


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({b} - {a}))"


class day_guess(FunctionElement[date]):
    """The date of a UTC timestamp shifted by a number of seconds (the calendar's largest offset)."""

    type = Date()
    inherit_cache = True


@compiles(day_guess, "sqlite")
def _day_guess_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    moment, offset = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({moment}, ({offset}) || ' seconds')"


@compiles(day_guess, "postgresql")
def _day_guess_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    moment, offset = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST({moment} + make_interval(secs => {offset}) AS DATE)"


class unindexed(FunctionElement[str]):
    """A column whose index SQLite must not use: without statistics it would scan a whole table in the
    index's order to save sorting a GROUP BY, instead of reading the period's rows by their own index."""

    type = String()
    inherit_cache = True


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed, "postgresql")
def _unindexed_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    sql: str = compiler.process(element.clauses, **kw)
    return sql


class iso_day(FunctionElement[str]):
    """A date column as YYYY-MM-DD text (SQLite stores it so)."""

    type = String()
    inherit_cache = True


@compiles(iso_day, "sqlite")
def _iso_day_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    sql: str = compiler.process(element.clauses, **kw)
    return sql


@compiles(iso_day, "postgresql")
def _iso_day_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


class json_text(FunctionElement[str]):
    """A JSON value that is a string, as text; NULL for any other JSON value."""

    type = String()
    inherit_cache = True


@compiles(json_text, "sqlite")
def _json_text_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"CASE WHEN json_type({value}) = 'text' THEN json_extract({value}, '$') END"


@compiles(json_text, "postgresql")
def _json_text_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    value = f"CAST({compiler.process(element.clauses, **kw)} AS JSON)"
    return f"CASE WHEN json_typeof({value}) = 'string' THEN {value} #>> '{{}}' END"


class json_number(FunctionElement[float]):
    """A JSON number, or a string of digits (with one optional decimal point), as a number; else NULL."""

    type = Float()
    inherit_cache = True


@compiles(json_number, "sqlite")
def _json_number_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    text = f"trim(json_extract({value}, '$'))"
    return (
        f"CASE json_type({value}) WHEN 'integer' THEN json_extract({value}, '$') "
        f"WHEN 'real' THEN json_extract({value}, '$') "
        f"WHEN 'text' THEN CASE WHEN {text} GLOB '*[0-9]*' AND NOT {text} GLOB '*[^0-9.]*' "
        f"AND NOT {text} GLOB '*.*.*' THEN CAST({text} AS REAL) END END"
    )


@compiles(json_number, "postgresql")
def _json_number_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    value = f"CAST({compiler.process(element.clauses, **kw)} AS JSON)"
    text = f"trim({value} #>> '{{}}')"
    return (
        f"CASE WHEN json_typeof({value}) IN ('number', 'string') AND {text} ~ '^[0-9]*\\.?[0-9]*$' "
        f"AND {text} ~ '[0-9]' THEN CAST({text} AS DOUBLE PRECISION) END"
    )


@dataclass(frozen=True)
class CalendarRange:
    """The days one calendar holds in the table, and its largest UTC offset over them."""

    key: str
    first: date
    last: date
    max_offset: int

    def covers(self, first: date, last: date) -> bool:
        """Tell whether every day from first to last is in the table."""
        return self.first <= first and last <= self.last


def _stored_range(session: Session, key: str) -> CalendarRange | None:
    first, last, offset = session.execute(
        select(func.min(CalendarDay.day), func.max(CalendarDay.day), func.max(CalendarDay.utc_offset)).where(
            CalendarDay.calendar == key
        )
    ).one()
    if first is None:
        return None
    if isinstance(first, str):  # SQLite returns the min/max of a date column as text
        first, last = date.fromisoformat(first), date.fromisoformat(last)
    return CalendarRange(key, first, last, int(offset))


def _day_row(settings: Settings, key: str, day: date, work_seconds_before: int) -> dict[str, Any]:
    tz, calendar = settings.tz, settings.calendar
    offset = datetime.combine(day, time(0), tzinfo=tz).utcoffset()
    return {
        "calendar": key,
        "day": day,
        "is_workday": calendar.is_workday(day),
        "prev_is_workday": calendar.is_workday(day - ONE_DAY),
        "starts_at": day_start(day, tz),
        "ends_at": day_start(day + ONE_DAY, tz),
        "utc_offset": int(offset.total_seconds()) if offset is not None else 0,
        "work_seconds_before": work_seconds_before,
    }


def _length(row: dict[str, Any]) -> int:
    """Return a day's working seconds (its length when it is a working day)."""
    return int((row["ends_at"] - row["starts_at"]).total_seconds()) if row["is_workday"] else 0


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CalendarDay)
    # Another worker may fill the same days at the same time: its rows are the same, keep either.
    session.execute(insert.on_conflict_do_nothing(), rows)


def ensure_calendar(session: Session, settings: Settings, first: date, last: date) -> CalendarRange:
    """Make sure the table holds the configured calendar's days from first to last (whole years); return it.

    The days are added in the session: the caller commits them with its own work (a report view does), or
    they are filled again next time. The range stays contiguous, so `work_seconds_before` keeps one origin.
    """
    key = settings.calendar.key(settings.tz)
    first = date(max(EARLIEST_YEAR, first.year), 1, 1)
    last = date(min(LATEST_YEAR, last.year), 12, 31)
    stored = _stored_range(session, key)
    if stored is not None and stored.covers(first, last):
        return stored
    rows: list[dict[str, Any]] = []
    if stored is None:
        origin = _day_row(settings, key, first, 0)
        rows.append(origin)
        low, high = origin, origin
    else:
        low = _as_row(session, key, stored.first)
        high = _as_row(session, key, stored.last)
    day = low["day"] - ONE_DAY
    while day >= first:
        row = _day_row(settings, key, day, 0)
        row["work_seconds_before"] = low["work_seconds_before"] - _length(row)
        rows.append(row)
        low, day = row, day - ONE_DAY
    day = high["day"] + ONE_DAY
    while day <= last:
        row = _day_row(settings, key, day, high["work_seconds_before"] + _length(high))
        rows.append(row)
        high, day = row, day + ONE_DAY
    _insert(session, rows)
    return _stored_range(session, key) or CalendarRange(key, first, last, 0)


def _as_row(session: Session, key: str, day: date) -> dict[str, Any]:
    stored = session.execute(
        select(CalendarDay).where(CalendarDay.calendar == key, CalendarDay.day == day)
    ).scalar_one()
    return {
        "day": stored.day,
        "is_workday": stored.is_workday,
        "starts_at": stored.starts_at,
        "ends_at": stored.ends_at,
        "work_seconds_before": stored.work_seconds_before,
    }


def day_of(
    calendar: CalendarRange, moment: SQLColumnExpression[Any], alias: FromClause
) -> ColumnElement[bool]:
    """The join condition of a calendar alias on the row of a moment's local day (or the next day's)."""
    return and_(
        alias.c.calendar == calendar.key,
        alias.c.day == day_guess(moment, calendar.max_offset),
    )


def work_at(moment: SQLColumnExpression[Any], day: FromClause) -> ColumnElement[float]:
    """Working seconds from the calendar's origin to a moment; `day` is its calendar row, joined by day_of."""
    into_day = seconds_between(day.c.starts_at, moment)
    working = or_(
        and_(moment >= day.c.starts_at, day.c.is_workday == True),  # noqa: E712 - SQL
        and_(moment < day.c.starts_at, day.c.prev_is_workday == True),  # noqa: E712 - SQL
    )
    return day.c.work_seconds_before + case((working, into_day), else_=0.0)
