"""The column-wise working-day count agrees with WorkCalendar.workdays_between, row by row."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from callback.reports.frames import workdays_between
from callback.workdays import WorkCalendar


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])  # Berlin: days of 23 and 25 hours
def test_workdays_between_matches_the_calendar(zone):
    tz, calendar, rng = ZoneInfo(zone), WorkCalendar(), random.Random(5)
    base = datetime(2025, 9, 20, tzinfo=UTC)
    starts = [base + timedelta(minutes=rng.randrange(0, 60 * 24 * 200)) for _ in range(300)]
    ends = [start + timedelta(minutes=rng.randrange(-60 * 24 * 3, 60 * 24 * 20)) for start in starts]
    got = workdays_between(
        pd.Series(pd.to_datetime(starts, utc=True)), pd.Series(pd.to_datetime(ends, utc=True)), calendar, tz
    )
    expected = [calendar.workdays_between(start, end, tz) for start, end in zip(starts, ends, strict=True)]
    assert got.tolist() == pytest.approx(expected, abs=1e-9)


def test_no_rows_no_work():
    empty = pd.Series(pd.to_datetime([], utc=True))
    assert workdays_between(empty, empty, WorkCalendar(), ZoneInfo("Asia/Shanghai")).empty
