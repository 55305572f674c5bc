"""Chinese working days, task windows and calling hours (pure: no Flask, no database).

Working days come from the ``holidays`` package. Its China calendar (checked with 0.109) has only the
PUBLIC and HALF_DAY categories: there is no WORKDAY category (``categories=("workday",)`` raises
ValueError). Adjusted working days (调休, weekend days worked in exchange for a holiday) are known
through ``HolidayBase.is_working_day()`` / ``weekend_workdays``, built from the State Council notices,
which the package carries for 2001-2026 only. For later years it keeps the statutory holidays (lunar
dates estimated) plus a generic "weekend holiday moves to next weekday" rule, and knows no adjusted
working days: set EXTRA_HOLIDAYS / EXTRA_WORKDAYS until the package catches up.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib.metadata import version
from typing import Any
from zoneinfo import ZoneInfo

import holidays

ONE_DAY = timedelta(days=1)
# Part of a calendar's key (WorkCalendar.key). The package's `__version__` is not in its typed exports.
HOLIDAYS_VERSION = version("holidays")
_SECONDS_PER_DAY = 86400.0


def _require_aware(moment: datetime) -> None:
    """Reject a naive datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a time-zone aware datetime, got naive {moment.isoformat()}")


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """Return the local calendar date of an aware instant."""
    _require_aware(moment)
    return moment.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Return 00:00 local of a calendar date as an aware UTC instant."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_day_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """Return 00:00 local of the instant's local day as an aware UTC instant."""
    return day_start(local_date(moment, tz), tz)


class WorkCalendar:
    """Chinese working days: weekends and public holidays off, adjusted working days on."""

    def __init__(self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()) -> None:
        """Create a calendar; an extra workday wins over everything, an extra holiday makes a day off."""
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        self._off_days: dict[int, frozenset[date]] = {}

    def key(self, tz: ZoneInfo) -> str:
        """Name this calendar in a time zone: what decides its days (zone, overrides, holidays version)."""
        source = json.dumps(
            [
                str(tz),
                sorted(day.isoformat() for day in self._extra_holidays),
                sorted(day.isoformat() for day in self._extra_workdays),
                HOLIDAYS_VERSION,
            ]
        )
        return f"{tz}:{hashlib.sha256(source.encode()).hexdigest()[:16]}"[-40:]

    def _load_year(self, year: int) -> frozenset[date]:
        """Compute and cache the non-working days of one year."""
        cn = holidays.country_holidays("CN", years=year)
        off: set[date] = set()
        day = date(year, 1, 1)
        while day.year == year:
            if day in self._extra_holidays or not cn.is_working_day(day):
                off.add(day)
            day += ONE_DAY
        result = frozenset(off - self._extra_workdays)
        self._off_days[year] = result
        return result

    def is_workday(self, day: date) -> bool:
        """Tell whether a calendar date is a working day (O(1) once its year is cached)."""
        off = self._off_days.get(day.year)
        if off is None:
            off = self._load_year(day.year)
        return day not in off

    def next_workday(self, day: date) -> date:
        """Return the first working day strictly after a date."""
        day += ONE_DAY
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    def add_workdays(self, moment: datetime, days: int, tz: ZoneInfo) -> datetime:
        """Return the end (UTC) of a window of ``days`` working days starting at an aware instant.

        On a working day the window ends at the same local clock time ``days`` working days later,
        skipping non-working days (Fri 10:00 + 1 = Mon 10:00). On a non-working day the window starts
        at 00:00 local of the next working day and ends at 00:00 local of the working day following
        ``days`` working days (Sat 15:00 + 1 = Tue 00:00 when Mon and Tue work; + 0 = Mon 00:00).
        Either way exactly ``days`` of working time elapse, as ``workdays_between`` measures it.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        _require_aware(moment)
        local = moment.astimezone(tz)
        day, clock = local.date(), local.time()
        if not self.is_workday(day):
            day, clock = self.next_workday(day), time(0)
        for _ in range(days):
            day = self.next_workday(day)
        return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)

    def workdays_between(self, start: datetime, end: datetime, tz: ZoneInfo) -> float:
        """Return the time from start to end spent on local working days, in days (negative if reversed)."""
        _require_aware(start)
        _require_aware(end)
        if end < start:
            return -self.workdays_between(end, start, tz)
        day, last = local_date(start, tz), local_date(end, tz)
        seconds = 0.0
        while day <= last:
            if self.is_workday(day):
                lo = max(start, day_start(day, tz))
                hi = min(end, day_start(day + ONE_DAY, tz))
                seconds += (hi - lo).total_seconds()
            day += ONE_DAY
        return seconds / _SECONDS_PER_DAY


_HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_MINUTES_PER_DAY = 24 * 60
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class CallingHours:
    """Local hours when customers may be called, as minutes since midnight: start <= t < end."""

    start: int
    end: int

    @classmethod
    def parse(cls, spec: str) -> CallingHours:
        """Parse "HH:MM-HH:MM" (same day, start before end; "00:00-24:00" means always)."""
        match = _HOURS_RE.match(spec.replace(" ", "")) if isinstance(spec, str) else None
        if match is None:
            raise ValueError(f"calling hours must look like 'HH:MM-HH:MM' (e.g. '08:00-20:00'), got {spec!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise ValueError(f"calling hours {spec!r} contain an invalid time (00:00 to 24:00 allowed)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start >= end:
            raise ValueError(
                f"calling hours {spec!r} must start before they end on the same day "
                "(overnight windows are not supported; use '00:00-24:00' for always)"
            )
        return cls(start, end)

    @property
    def always(self) -> bool:
        """Tell whether calling is allowed around the clock."""
        return self.start == 0 and self.end == _MINUTES_PER_DAY

    def contains(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Tell whether an aware instant falls within calling hours, in local time."""
        _require_aware(moment)
        local = moment.astimezone(tz)
        return self.start <= local.hour * 60 + local.minute < self.end

    def next_open(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """Return the earliest instant (UTC) at or after an aware moment within calling hours."""
        if self.contains(moment, tz):
            return moment.astimezone(UTC)
        local = moment.astimezone(tz)
        day = local.date()
        if local.hour * 60 + local.minute >= self.end:
            day += ONE_DAY
        opening = time(self.start // 60, self.start % 60)
        return datetime.combine(day, opening, tzinfo=tz).astimezone(UTC)


def parse_dates(value: Any) -> list[date]:
    """Parse config dates: a list of dates/ISO strings, a JSON list, or "2026-10-01,2026-10-02"."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"cannot read dates from {value!r}: invalid JSON list ({exc})") from exc
        else:
            value = [part for part in text.split(",") if part.strip()]
    if isinstance(value, date | str) or not isinstance(value, Iterable):
        raise ValueError(f"expected a list of dates, got {value!r}")
    result: list[date] = []
    for item in value:
        if isinstance(item, datetime):
            raise ValueError(f"expected a date without a time, got {item.isoformat()!r}")
        if isinstance(item, date):
            result.append(item)
            continue
        text = item.strip() if isinstance(item, str) else ""
        try:
            if not _DATE_RE.match(text):
                raise ValueError(text)
            result.append(date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"invalid date {item!r}: expected YYYY-MM-DD") from None
    return result
