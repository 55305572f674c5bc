"""Which tasks an order gets, and when (contract 4.2 creation rules)."""

from datetime import UTC, datetime, timedelta

import pytest

from callback.task_plans import completion_plan, due_date_plan, intake_plan, plans_on_arrival
from tests.factories import valid_order

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Beijing


def order(settings, **changes):
    return valid_order(now=NOW, settings=settings, **changes).values


def test_intake_window_is_one_working_day_so_friday_runs_to_monday(settings):
    plan = intake_plan(order(settings), NOW, settings)
    assert plan is not None
    assert plan.kind == "intake"
    assert plan.not_before == NOW
    assert plan.due_by.astimezone(settings.tz).isoformat() == "2026-11-30T10:00:00+08:00"


def test_completion_window_is_two_working_days_and_goes_to_the_dialer_by_default(settings):
    connected = order(settings, status="connected", connected_at="2026-11-26T16:00:00")
    plan = completion_plan(connected, NOW, settings)
    assert plan is not None
    assert plan.channel == "auto"
    assert plan.due_by.astimezone(settings.tz).isoformat() == "2026-12-01T10:00:00+08:00"


def test_archived_without_connected_time_still_gets_a_completion_call(settings):
    archived = order(settings, status="archived", archived_at="2026-11-26T16:00:00")
    assert completion_plan(archived, NOW, settings) is not None


def test_due_date_task_opens_at_the_local_start_of_the_due_day(settings):
    due_today = order(settings, due_at="2026-11-27T17:00:00")
    plan = due_date_plan(due_today, NOW, settings)
    assert plan is not None
    assert plan.not_before.astimezone(settings.tz).isoformat() == "2026-11-27T00:00:00+08:00"
    assert plan.due_by.astimezone(settings.tz).isoformat() == "2026-11-28T00:00:00+08:00"
    assert plan.channel == "operator"


def test_due_date_uses_the_local_day_not_the_utc_day(settings):
    # 2026-11-27 23:30 UTC is already Saturday 28th in Beijing: not due yet on Friday.
    due_saturday = order(settings, due_at="2026-11-27T23:30:00Z")
    assert due_date_plan(due_saturday, NOW, settings) is None
    saturday_morning = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # Sat 00:30 Beijing
    assert due_date_plan(due_saturday, saturday_morning, settings) is not None


def test_cancelled_orders_get_no_intake_and_no_due_date_call(settings):
    cancelled = order(
        settings, status="cancelled", cancelled_at="2026-11-24T09:00:00", due_at="2026-11-26T09:00:00"
    )
    assert intake_plan(cancelled, NOW, settings) is None
    assert due_date_plan(cancelled, NOW, settings) is None


@pytest.mark.parametrize(("days_ago", "created"), [(29, True), (31, False)])
def test_callbacks_older_than_task_max_age_are_not_created(settings, days_ago, created):
    accepted = NOW - timedelta(days=days_ago)
    old = order(settings, accepted_at=accepted.isoformat(), due_at=NOW.isoformat())
    assert (intake_plan(old, NOW, settings) is not None) is created


def test_first_sight_of_a_connected_order_plans_intake_and_completion(settings):
    connected = order(settings, status="connected", connected_at="2026-11-26T16:00:00")
    kinds = [
        p.kind
        for p in plans_on_arrival(
            connected, first_seen=True, existing_kinds=set(), now=NOW, settings=settings
        )
    ]
    assert kinds == ["intake", "completion"]


def test_a_known_order_never_gets_a_second_intake_or_completion(settings):
    connected = order(settings, status="connected", connected_at="2026-11-26T16:00:00")
    plans = plans_on_arrival(
        connected, first_seen=False, existing_kinds={"intake", "completion"}, now=NOW, settings=settings
    )
    assert plans == []
