"""The summary of contract 4.4 against hand-computed data sets, the published year first."""

from datetime import date

import pytest

from callback.extensions import db
from callback.reports.filters import ReportFilter
from callback.reports.summary import summary
from tests.conftest import TEST_NOW
from tests.reports.published_year import EXPECTED, LETTERS, build_published_year


@pytest.fixture
def published_year(app, settings):
    build_published_year(db.session, settings)
    db.session.commit()


def year_2022(**changes) -> ReportFilter:
    return ReportFilter(start=date(2022, 1, 1), end=date(2022, 12, 31), **changes)


def test_the_published_year_comes_out_exactly(published_year, settings):
    figures = summary(db.session, year_2022(), settings, TEST_NOW)
    connections = figures["connections"]
    assert connections["count"] == EXPECTED["count"]
    assert connections["avg_days"] == EXPECTED["avg_days"]
    assert connections["overtime"] == 0
    assert connections["with_engineering"] == EXPECTED["with_engineering"]
    assert connections["without_engineering"] == EXPECTED["without_engineering"]
    assert figures["cases"]["letters_issued"] == 21
    assert {k: v for k, v in figures["cases"]["letters_by_category"].items() if v} == LETTERS
    assert figures["penalties"] == {"person_times": 9, "amount_yuan": 1590}


def test_the_published_year_counts_nothing_outside_the_year_or_the_customer_type(published_year, settings):
    everyone = summary(db.session, year_2022(customer_type="all"), settings, TEST_NOW)
    assert everyone["connections"]["count"] == 149  # the residential connection joins
    december = summary(
        db.session, ReportFilter(start=date(2021, 12, 1), end=date(2021, 12, 31)), settings, TEST_NOW
    )
    assert december["connections"]["count"] == 1
    assert december["cases"]["letters_by_category"]["offline_circulation"] == 1
    assert december["penalties"] == {"person_times": 1, "amount_yuan": 500}


def test_a_service_centre_filter_narrows_every_figure(published_year, settings):
    center = summary(db.session, year_2022(service_center="开发区供电服务中心"), settings, TEST_NOW)
    assert 0 < center["connections"]["count"] < 148
    assert center["cases"]["letters_issued"] < 21


def connected(order_no: str, connected_at: str) -> dict:
    return {
        "order_no": order_no,
        "status": "connected",
        "accepted_at": "2026-01-29T09:00:00+08:00",
        "due_at": "2026-02-27T17:00:00+08:00",
        "connected_at": connected_at,
    }


def month(year: int, number: int) -> ReportFilter:
    last = (date(year, number % 12 + 1, 1) if number < 12 else date(year + 1, 1, 1)).toordinal() - 1
    return ReportFilter(start=date(year, number, 1), end=date.fromordinal(last))


def test_periods_are_local_dates(add_orders, settings):
    add_orders(connected("EDGE-1", "2026-01-31T23:30:00+08:00"), connected("EDGE-2", "2026-01-31T16:30:00Z"))
    january = summary(db.session, month(2026, 1), settings, TEST_NOW)
    february = summary(db.session, month(2026, 2), settings, TEST_NOW)
    assert january["connections"]["count"] == 1
    assert february["connections"]["count"] == 1
    # EDGE-1: 29 Jan 09:00 → 31 Jan 23:30 is 2 days 14.5 hours.
    assert january["connections"]["avg_days"] == round((2 * 24 + 14.5) / 24, 2)


def test_overtime_counts_connections_after_the_due_date(add_orders, settings):
    add_orders(
        {**connected("LATE-1", "2026-03-02T09:00:00+08:00"), "due_at": "2026-03-02T09:00:00+08:00"},
        {**connected("LATE-2", "2026-03-02T09:00:00+08:00"), "due_at": "2026-03-01T17:00:00+08:00"},
    )
    figures = summary(db.session, month(2026, 3), settings, TEST_NOW)
    assert figures["connections"]["overtime"] == 1


def test_working_days_leave_out_weekends_and_holidays(add_orders, settings):
    # Thursday 2026-09-24 09:00 → Monday 2026-09-28 09:00 is 4 days; Friday the 25th is the Mid-Autumn
    # Festival, so only Thursday from 09:00 (0.625) and Monday until 09:00 (0.375) are working time.
    add_orders(
        {
            **connected("WD-1", "2026-09-28T09:00:00+08:00"),
            "accepted_at": "2026-09-24T09:00:00+08:00",
            "due_at": "2026-10-30T17:00:00+08:00",
        }
    )
    figures = summary(db.session, month(2026, 9), settings, TEST_NOW)
    assert figures["connections"]["avg_days"] == 4.0
    assert figures["connections"]["avg_workdays"] == 1.0
