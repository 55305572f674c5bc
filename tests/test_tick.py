"""tick: due-date tasks and expired leases, idempotent (contract 3 and 4.2)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from callback.audit import Actor
from callback.extensions import db
from callback.models import CallbackTask
from callback.tick import run_tick
from tests.factories import order_payload, store_orders

ARRIVAL = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def kinds_of(order_no):
    return sorted(t.kind for t in db.session.scalars(select(CallbackTask)) if t.order.order_no == order_no)


def test_tick_creates_due_date_tasks_from_the_local_start_of_the_due_day_once(runner, settings):
    store_orders(
        order_payload("DUE-FRI", due_at="2026-11-27T17:00:00"),
        order_payload("DUE-SAT", due_at="2026-11-28T09:00:00"),
        order_payload(
            "GONE", due_at="2026-11-27T09:00:00", status="cancelled", cancelled_at="2026-11-24T09:00:00"
        ),
        now=ARRIVAL,
    )
    before = runner.invoke(args=["tick", "--now", "2026-11-26T23:59:00"])
    assert "due_date tasks created: 0" in before.output
    first = runner.invoke(args=["tick", "--now", "2026-11-27T00:00:00"])
    assert first.exit_code == 0, first.output
    assert "due_date tasks created: 1" in first.output
    again = runner.invoke(args=["tick", "--now", "2026-11-27T08:00:00"])
    assert "due_date tasks created: 0" in again.output
    assert kinds_of("DUE-FRI") == ["due_date", "intake"]
    assert kinds_of("DUE-SAT") == ["intake"]
    assert kinds_of("GONE") == []


def test_tick_returns_tasks_whose_lease_ran_out(app, settings, make_user):
    store_orders(order_payload("L-1"), now=ARRIVAL)
    operator = make_user("op", "operator")
    db.session.execute(
        update(CallbackTask).values(
            state="claimed", lease_owner_id=operator.id, lease_expires_at=ARRIVAL + timedelta(minutes=15)
        )
    )
    db.session.commit()
    report = run_tick(
        db.session, now=ARRIVAL + timedelta(minutes=14), settings=settings, actor=Actor(source="t")
    )
    assert report.leases_released == 0
    report = run_tick(
        db.session, now=ARRIVAL + timedelta(minutes=16), settings=settings, actor=Actor(source="t")
    )
    db.session.commit()
    assert report.leases_released == 1
    task = db.session.scalars(select(CallbackTask)).one()
    assert (task.state, task.lease_owner_id) == ("open", None)


def test_tick_rejects_a_bad_now(runner):
    result = runner.invoke(args=["tick", "--now", "tomorrow"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.output


def test_an_order_changed_after_tick_looked_at_it_is_looked_at_again(runner, settings):
    # Cancelled when its due day began, so tick makes no call; then the marketing system un-cancels it.
    store_orders(
        order_payload(
            "BACK", due_at="2026-11-27T17:00:00", status="cancelled", cancelled_at="2026-11-24T09:00:00"
        ),
        now=ARRIVAL,
    )
    first = runner.invoke(args=["tick", "--now", "2026-11-27T08:00:00"])
    assert "due_date tasks created: 0" in first.output
    store_orders(order_payload("BACK", due_at="2026-11-27T17:00:00"), now=ARRIVAL)
    second = runner.invoke(args=["tick", "--now", "2026-11-27T09:00:00"])
    assert "due_date tasks created: 1" in second.output
    assert "due_date" in kinds_of("BACK")


def test_a_due_date_moved_into_the_past_is_picked_up_by_the_next_tick(runner, settings):
    store_orders(order_payload("MOVED", due_at="2026-12-10T17:00:00"), now=ARRIVAL)
    runner.invoke(args=["tick", "--now", "2026-11-27T08:00:00"])
    assert "due_date" not in kinds_of("MOVED")
    store_orders(order_payload("MOVED", due_at="2026-11-26T17:00:00"), now=ARRIVAL)
    result = runner.invoke(args=["tick", "--now", "2026-11-27T09:00:00"])
    assert "due_date tasks created: 1" in result.output
