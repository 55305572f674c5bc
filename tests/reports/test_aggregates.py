"""The SQL aggregates give exactly the figures the pandas computation gave, on generated data.

tests/reports/frame_oracle.py is the computation issue 14 replaced (whole tables read into DataFrames). The
data set mixes what the reports must get right: every task state and disposition, unfinished calls, several
applied-on answers per order (some not dates, some the acceptance day), satisfaction answers as numbers and
as text, orders accepted years before the calendar's usual start, cases and penalties in and out of the
period.
"""

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from callback.extensions import db
from callback.models import (
    Answer,
    CalendarDay,
    CallAttempt,
    CallbackTask,
    CaseCategory,
    CaseState,
    Disposition,
    Finding,
    Penalty,
    SupervisionCase,
    TaskKind,
    TaskState,
    WorkOrder,
)
from callback.reports.charts import chart_data, dashboard_data
from callback.reports.filters import ReportFilter
from callback.reports.summary import summary
from callback.workdays import WorkCalendar, day_start
from callback.worklist.attempts import note_stated_application
from tests.conftest import TEST_NOW
from tests.reports import frame_oracle

CENTERS = ("城关供电服务中心", "开发区供电服务中心", "东城供电服务中心")
START = datetime(2024, 12, 20, tzinfo=UTC)


def _moment(rng: random.Random, start: datetime = START, days: int = 400) -> datetime:
    return start + timedelta(minutes=rng.randrange(0, days * 24 * 60))


def generate(tz: ZoneInfo, orders: int = 240, seed: int = 3) -> None:
    """Insert orders with their tasks, calls, answers, findings, cases and penalties."""
    rng = random.Random(seed)
    rows, tasks, attempts, answers, findings, cases, penalties = [], [], [], [], [], [], []
    for n in range(1, orders + 1):
        accepted = _moment(rng)
        connected = accepted + timedelta(minutes=rng.randrange(-600, 60 * 24 * 30)) if n % 9 else None
        if n % 37 == 0:
            accepted -= timedelta(days=365 * 12)  # accepted long before the calendar's usual range
        order = {
            "id": n,
            "order_no": f"G-{n:05d}",
            "customer_name": f"客户{n}",
            "customer_phone": "+8613800138000",
            "customer_type": ("small_micro", "small_micro", "residential", "other")[n % 4],
            "service_center": CENTERS[rng.randrange(3)],
            "account_manager": f"经理{n % 5}",
            "has_engineering": rng.random() < 0.45,
            "status": "connected" if connected else "accepted",
            "accepted_at": accepted,
            "due_at": accepted + timedelta(days=rng.randrange(1, 20)),
            "connected_at": connected,
            "source_updated_at": accepted,
            "created_at": accepted,
            "updated_at": accepted,
        }
        rows.append(order)
        for kind in rng.sample(list(TaskKind), rng.randrange(0, 3)):
            task_id = len(tasks) + 1
            created = _moment(rng)
            tasks.append(
                {
                    "id": task_id,
                    "order_id": n,
                    "kind": kind.value,
                    "state": rng.choice(list(TaskState)).value,
                    "channel": "operator",
                    "not_before": created,
                    "due_by": created + timedelta(hours=rng.randrange(1, 72)),
                    "created_at": created,
                    "updated_at": created,
                }
            )
            for _ in range(rng.randrange(0, 4)):
                attempt_id = len(attempts) + 1
                started = created + timedelta(minutes=rng.randrange(0, 60 * 24 * 4))
                disposition = rng.choice([*(d.value for d in Disposition), None])
                attempts.append(
                    {
                        "id": attempt_id,
                        "task_id": task_id,
                        "channel": "operator",
                        "disposition": disposition,
                        "started_at": started,
                    }
                )
                if rng.random() < 0.6:
                    score = rng.choice([1, 2, 3, 4, 5, 5, 4, "4", "5", "2", "很好", 4.0])
                    answers.append(
                        {
                            "attempt_id": attempt_id,
                            "question": "satisfaction",
                            "value": score,
                            "answered_at": started,
                        }
                    )
                if rng.random() < 0.5:
                    local_accepted = accepted.astimezone(tz).date()
                    applied = rng.choice(
                        [
                            (local_accepted - timedelta(days=rng.randrange(0, 30))).isoformat(),
                            local_accepted.isoformat(),
                            f"{local_accepted.isoformat()}T10:00:00",
                            "2025-02-30",
                            "不记得了",
                            20250301,
                            (local_accepted - timedelta(days=365 * 3)).isoformat(),
                        ]
                    )
                    answers.append(
                        {
                            "attempt_id": attempt_id,
                            "question": "applied_on",
                            "value": applied,
                            "answered_at": started,
                        }
                    )
                if rng.random() < 0.2:
                    findings.append(
                        {
                            "attempt_id": attempt_id,
                            "category": rng.choice(list(CaseCategory)).value,
                            "reason": "test",
                            "found_at": started,
                        }
                    )
        if rng.random() < 0.3:
            opened = _moment(rng)
            case_id = len(cases) + 1

            def later(moment: datetime) -> datetime | None:
                return moment + timedelta(days=rng.randrange(1, 90)) if rng.random() < 0.6 else None

            letter = later(opened)
            cases.append(
                {
                    "id": case_id,
                    "order_id": n,
                    "category": rng.choice(list(CaseCategory)).value,
                    "state": rng.choice(list(CaseState)).value,
                    "service_center": order["service_center"],  # the case's copy of its order's
                    "account_manager": order["account_manager"],
                    "opened_at": opened,
                    "due_at": opened + timedelta(days=rng.randrange(1, 30)),
                    "letter_no": f"JD-{case_id:05d}" if letter else None,
                    "letter_issued_at": letter,
                    "referred_to_discipline": rng.random() < 0.2,
                    "referred_at": later(opened),
                    "closed_at": later(opened),
                    "updated_at": opened,
                }
            )
            for _ in range(rng.randrange(0, 3)):
                penalties.append(
                    {
                        "case_id": case_id,
                        "person": "员工",
                        "amount_yuan": Decimal(rng.choice(["200", "150.50", "99.99", "1000"])),
                        "reason": "考核",
                        "recorded_at": _moment(rng),
                    }
                )
    for model, data in (
        (WorkOrder, rows),
        (CallbackTask, tasks),
        (CallAttempt, attempts),
        (Answer, answers),
        (Finding, findings),
        (SupervisionCase, cases),
        (Penalty, penalties),
    ):
        if data:
            db.session.execute(insert(model), data)
    # Inserted in bulk, past the worklist: give each order its latest stated application date as the
    # worklist does when it stores an answer.
    asked = {attempt_id for attempt_id in (a["attempt_id"] for a in answers if a["question"] == "applied_on")}
    for task_id in sorted({a["task_id"] for a in attempts if a["id"] in asked}):
        note_stated_application(db.session, task_id)
    db.session.commit()


FILTERS = [
    ReportFilter(start=date(2025, 1, 1), end=date(2025, 12, 31), customer_type="all"),
    ReportFilter(start=date(2025, 1, 1), end=date(2025, 12, 31)),
    ReportFilter(start=date(2025, 3, 1), end=date(2025, 3, 31), customer_type="all"),
    ReportFilter(
        start=date(2025, 2, 10), end=date(2025, 6, 20), service_center=CENTERS[1], customer_type="all"
    ),
    ReportFilter(
        start=date(2024, 12, 1), end=date(2026, 1, 31), account_manager="经理2", customer_type="all"
    ),
]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])  # Berlin: days of 23 and 25 hours
def test_the_figures_match_the_pandas_computation(app, settings, zone):
    tz = ZoneInfo(zone)
    settings = replace(settings, tz=tz, calendar=WorkCalendar(extra_holidays=[date(2025, 3, 4)]))
    generate(tz)
    for filters in FILTERS:
        expected = frame_oracle.summary(db.session, filters, settings, TEST_NOW)
        assert summary(db.session, filters, settings, TEST_NOW) == expected, filters
        expected_charts = frame_oracle.chart_data(db.session, filters, settings, TEST_NOW)
        assert chart_data(db.session, filters, settings, TEST_NOW) == expected_charts, filters
        # The dashboard page: both from the same grouped queries.
        assert dashboard_data(db.session, filters, settings, TEST_NOW) == (expected, expected_charts), filters


def test_the_data_set_reaches_every_branch(app, settings):
    tz = settings.tz
    generate(tz)
    figures = summary(db.session, FILTERS[0], settings, TEST_NOW)
    connections, callbacks = figures["connections"], figures["callbacks"]
    assert 0 < connections["customer_reported_count"] < connections["count"]
    assert connections["avg_workdays"] < connections["avg_days"]
    assert connections["customer_reported_avg_days"] != connections["avg_days"]
    assert 0 < callbacks["unreachable"] < callbacks["done"] < callbacks["tasks"] < callbacks["attempts"]
    assert figures["penalties"]["amount_yuan"] != int(figures["penalties"]["amount_yuan"])
    assert len(figures["utility"]["by_center_month"]) > 12


def test_the_calendar_table_agrees_with_the_working_day_calendar(app, settings):
    generate(settings.tz, orders=40)
    summary(db.session, FILTERS[0], settings, TEST_NOW)
    key = settings.calendar.key(settings.tz)
    days = db.session.scalars(
        select(CalendarDay).where(CalendarDay.calendar == key).order_by(CalendarDay.day)
    ).all()
    assert days[0].day <= date(2013, 1, 1) and days[-1].day >= date(
        2025, 12, 31
    )  # extended back for old orders
    for earlier, later in pairwise(days):
        assert later.day == earlier.day + timedelta(days=1)
        assert later.is_workday == settings.calendar.is_workday(later.day)
        assert later.prev_is_workday == earlier.is_workday
        assert later.starts_at == earlier.ends_at == day_start(later.day, settings.tz)
        worked = (earlier.ends_at - earlier.starts_at).total_seconds() if earlier.is_workday else 0
        assert later.work_seconds_before == earlier.work_seconds_before + worked


def test_a_change_of_holidays_in_the_config_makes_a_calendar_of_its_own(app, settings, add_orders):
    add_orders(
        {
            "order_no": "HOL-1",
            "status": "connected",
            "accepted_at": "2026-03-03T09:00:00+08:00",  # Tuesday
            "due_at": "2026-03-27T17:00:00+08:00",
            "connected_at": "2026-03-05T09:00:00+08:00",  # Thursday
        }
    )
    march = ReportFilter(start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert summary(db.session, march, settings, TEST_NOW)["connections"]["avg_workdays"] == 2.0
    db.session.commit()
    with_holiday = replace(settings, calendar=WorkCalendar(extra_holidays=[date(2026, 3, 4)]))
    assert summary(db.session, march, with_holiday, TEST_NOW)["connections"]["avg_workdays"] == 1.0
    assert summary(db.session, march, settings, TEST_NOW)["connections"]["avg_workdays"] == 2.0
