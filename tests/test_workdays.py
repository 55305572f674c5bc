from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from callback import workdays
from callback.workdays import CallingHours, WorkCalendar, local_date, local_day_start, parse_dates

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_national_day_2025_and_adjusted_working_days():
    cal = WorkCalendar()
    assert [cal.is_workday(date(2025, 10, d)) for d in range(1, 9)] == [False] * 8
    assert cal.is_workday(date(2025, 9, 28))  # Sunday, adjusted working day
    assert cal.is_workday(date(2025, 10, 11))  # Saturday, adjusted working day
    assert cal.is_workday(date(2025, 9, 30))
    assert cal.is_workday(date(2025, 10, 9))
    assert not cal.is_workday(date(2025, 10, 12))  # ordinary Sunday


def test_spring_festival_2026():
    cal = WorkCalendar()
    days = [date(2026, 2, 15) + timedelta(days=n) for n in range(9)]
    assert not any(cal.is_workday(d) for d in days)  # 15-23 February off
    assert cal.is_workday(date(2026, 2, 14))  # Saturday, adjusted
    assert cal.is_workday(date(2026, 2, 28))  # Saturday, adjusted
    assert cal.is_workday(date(2026, 2, 13))
    assert cal.is_workday(date(2026, 2, 24))
    assert cal.is_workday(date(2026, 1, 4))  # Sunday after New Year


def test_extra_overrides():
    cal = WorkCalendar(
        extra_holidays=[date(2025, 11, 12), date(2025, 11, 13)],
        extra_workdays=[date(2025, 10, 8), date(2025, 11, 13), date(2027, 1, 9)],
    )
    assert not cal.is_workday(date(2025, 11, 12))  # plain Wednesday made a holiday
    assert cal.is_workday(date(2025, 11, 13))  # extra workday wins over extra holiday
    assert cal.is_workday(date(2025, 10, 8))  # package holiday overridden
    assert cal.is_workday(date(2027, 1, 9))  # Saturday
    assert WorkCalendar().is_workday(date(2025, 11, 12))


def test_year_is_loaded_once(monkeypatch):
    calls = []
    real = holidays.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(workdays.holidays, "country_holidays", counting)
    cal = WorkCalendar()
    for n in range(400):
        cal.is_workday(date(2025, 1, 1) + timedelta(days=n))
    assert calls == [2025, 2026]


def test_add_workdays_across_weekend():
    cal = WorkCalendar()
    assert cal.add_workdays(at(2025, 11, 14, 10, 0), 1, SH) == at(2025, 11, 17, 10, 0)  # Fri -> Mon
    assert cal.add_workdays(at(2025, 11, 15, 15, 0), 1, SH) == at(2025, 11, 18, 0, 0)  # Sat -> Tue 00:00
    assert cal.add_workdays(at(2025, 11, 15, 15, 0), 0, SH) == at(2025, 11, 17, 0, 0)
    assert cal.add_workdays(at(2025, 11, 13, 10, 0), 2, SH) == at(2025, 11, 17, 10, 0)
    result = cal.add_workdays(at(2025, 11, 14, 10, 0), 1, SH)
    assert result.tzinfo is UTC
    assert result == datetime(2025, 11, 17, 2, 0, tzinfo=UTC)


def test_add_workdays_across_national_day():
    cal = WorkCalendar()
    start = at(2025, 9, 30, 10, 0)
    assert cal.add_workdays(start, 1, SH) == at(2025, 10, 9, 10, 0)
    assert cal.add_workdays(start, 3, SH) == at(2025, 10, 11, 10, 0)  # adjusted Saturday counts
    assert cal.add_workdays(at(2025, 9, 26, 18, 0), 1, SH) == at(2025, 9, 28, 18, 0)  # Fri -> Sun (adjusted)


def test_utc_instant_on_local_holiday():
    cal = WorkCalendar()
    moment = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)  # 2025-10-01 01:00 in Shanghai
    assert local_date(moment, SH) == date(2025, 10, 1)
    assert not cal.is_workday(local_date(moment, SH))
    assert cal.add_workdays(moment, 1, SH) == datetime(2025, 10, 9, 16, 0, tzinfo=UTC)
    assert local_day_start(datetime(2026, 3, 1, 17, 30, tzinfo=UTC), SH) == at(2026, 3, 2)


def test_naive_datetime_rejected():
    with pytest.raises(ValueError, match="aware"):
        WorkCalendar().add_workdays(datetime(2025, 11, 14, 10), 1, SH)


def test_workdays_between():
    cal = WorkCalendar()
    assert cal.workdays_between(at(2025, 11, 14, 12), at(2025, 11, 17, 12), SH) == 1.0
    assert cal.workdays_between(at(2025, 11, 17, 12), at(2025, 11, 14, 12), SH) == -1.0
    assert cal.workdays_between(at(2025, 11, 17, 6), at(2025, 11, 17, 18), SH) == 0.5
    assert cal.workdays_between(at(2025, 11, 15, 6), at(2025, 11, 16, 18), SH) == 0.0
    assert cal.workdays_between(at(2025, 9, 30, 12), at(2025, 10, 9, 12), SH) == 1.0
    assert cal.workdays_between(at(2025, 11, 3), at(2025, 11, 24), SH) == 15.0


@pytest.mark.parametrize("days", [0, 1, 2, 5])
@pytest.mark.parametrize(
    "start", [at(2025, 9, 26, 18, 0), at(2025, 9, 27, 9, 0), at(2025, 10, 3, 23, 0), at(2026, 2, 13, 8, 30)]
)
def test_add_workdays_matches_workdays_between(start, days):
    cal = WorkCalendar()
    assert cal.workdays_between(start, cal.add_workdays(start, days, SH), SH) == pytest.approx(days)


def test_calling_hours_parse():
    assert CallingHours.parse("08:00-20:00") == CallingHours(480, 1200)
    assert CallingHours.parse(" 8:30 - 20:00 ") == CallingHours(510, 1200)
    assert CallingHours.parse("00:00-24:00").always
    assert not CallingHours.parse("08:00-20:00").always


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("25:00-20:00", "invalid time"),
        ("08:60-20:00", "invalid time"),
        ("08:00-24:30", "invalid time"),
        ("8-20", "HH:MM-HH:MM"),
        ("", "HH:MM-HH:MM"),
        ("20:00-08:00", "start before"),
        ("08:00-08:00", "start before"),
    ],
)
def test_calling_hours_parse_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        CallingHours.parse(spec)


def test_calling_hours_contains_boundaries():
    hours = CallingHours.parse("08:00-20:00")
    assert hours.contains(at(2025, 11, 15, 19, 59, 59), SH)
    assert not hours.contains(at(2025, 11, 15, 20, 0), SH)
    assert hours.contains(at(2025, 11, 15, 8, 0), SH)
    assert not hours.contains(at(2025, 11, 15, 7, 59, 59), SH)
    assert not hours.contains(datetime(2025, 11, 15, 13, 0, tzinfo=UTC), SH)  # 21:00 local
    always = CallingHours.parse("00:00-24:00")
    assert always.contains(at(2025, 11, 15, 0, 0), SH)
    assert always.contains(at(2025, 11, 15, 23, 59, 59), SH)


def test_calling_hours_next_open():
    hours = CallingHours.parse("08:00-20:00")
    assert hours.next_open(at(2025, 11, 15, 12, 0), SH) == at(2025, 11, 15, 12, 0)
    assert hours.next_open(at(2025, 11, 15, 7, 0), SH) == at(2025, 11, 15, 8, 0)
    assert hours.next_open(at(2025, 11, 15, 20, 0), SH) == at(2025, 11, 16, 8, 0)
    result = hours.next_open(datetime(2025, 9, 30, 23, 30, tzinfo=UTC), SH)  # 07:30 local
    assert result == datetime(2025, 10, 1, 0, 0, tzinfo=UTC)
    assert result.tzinfo is UTC
    assert CallingHours.parse("00:00-24:00").next_open(at(2025, 11, 15, 3, 0), SH) == at(2025, 11, 15, 3, 0)


def test_parse_dates():
    expected = [date(2026, 10, 1), date(2026, 10, 2)]
    assert parse_dates("2026-10-01, 2026-10-02") == expected
    assert parse_dates('["2026-10-01", "2026-10-02"]') == expected
    assert parse_dates(["2026-10-01", date(2026, 10, 2)]) == expected
    assert parse_dates("") == []
    assert parse_dates(None) == []


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("2026-10-01,2026-13-01", "2026-13-01"),
        (["tomorrow"], "tomorrow"),
        ([20261001], "20261001"),
        ("[1,", "[1,"),
    ],
)
def test_parse_dates_errors(value, named):
    with pytest.raises(ValueError, match=named.replace("[", r"\[")):
        parse_dates(value)
