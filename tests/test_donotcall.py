"""The do-not-call list: listing, expiry, history, and listed numbers never claimed or dialled (issue 13)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from callback.audit import Actor
from callback.donotcall import DoNotCallError, Listing, add, check_listing, is_listed, remove
from callback.extensions import db
from callback.models import (
    AuditEvent,
    CallAttempt,
    CallbackTask,
    DoNotCallEntry,
    DoNotCallReason,
    DoNotCallSource,
    WorkOrder,
)
from callback.settings import current_settings
from callback.worklist import claim_next, record_attempt, start_automated_attempt
from callback.worklist.donotcall import stop_attempt_if_listed
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.factories import order_payload, store_orders
from tests.telephony.helpers import connected_order

LISTED = "+8613900139000"
ACTOR = Actor(source="test")


def listing(number=LISTED, reason="customer_asked", expires_at=None):
    return check_listing(number, reason, expires_at, None, now=TEST_NOW, tz=current_settings().tz)


def list_number(number=LISTED, reason="customer_asked", expires_at=None):
    entry = add(
        db.session,
        listing(number, reason, expires_at),
        source=DoNotCallSource.SUPERVISOR,
        actor=ACTOR,
        now=TEST_NOW,
    )
    db.session.commit()
    return entry


def task_of(order_no, kind="intake"):
    return db.session.scalar(
        select(CallbackTask).join(WorkOrder).where(WorkOrder.order_no == order_no, CallbackTask.kind == kind)
    )


def stopped_events(check):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "do_not_call.stopped")
    ).all(), check


def test_a_listing_is_normalised_expires_and_keeps_its_history(app):
    entry = list_number("139 0013 9000", expires_at="2026-12-01T00:00:00")
    assert entry.number == LISTED
    assert is_listed(db.session, LISTED, TEST_NOW) is not None
    assert is_listed(db.session, LISTED, TEST_NOW + timedelta(days=5)) is None  # expired
    with pytest.raises(DoNotCallError) as twice:
        list_number()
    assert twice.value.status == 409
    db.session.rollback()
    # Once expired, listing again closes the old entry and opens a new one.
    add(db.session, listing(), source=DoNotCallSource.API, actor=ACTOR, now=TEST_NOW + timedelta(days=5))
    remove(db.session, LISTED, actor=ACTOR, now=TEST_NOW + timedelta(days=6))
    db.session.commit()
    assert is_listed(db.session, LISTED, TEST_NOW + timedelta(days=6)) is None
    rows = db.session.scalars(select(DoNotCallEntry).order_by(DoNotCallEntry.id)).all()
    assert [row.removed_at is not None for row in rows] == [True, True]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "do_not_call_entry")
    )
    assert sorted(actions) == [
        "do_not_call.added",
        "do_not_call.added",
        "do_not_call.expired",
        "do_not_call.removed",
    ]


@pytest.mark.parametrize(
    ("number", "reason", "expires_at", "field"),
    [
        ("12345", "customer_asked", None, "number"),
        (None, "customer_asked", None, "number"),
        (["13900139000"], "customer_asked", None, "number"),
        (LISTED, "because", None, "reason"),
        (LISTED, {"x": 1}, None, "reason"),
        (LISTED, "legal", "2020-01-01T00:00:00", "expires_at"),
        (LISTED, "legal", "next tuesday", "expires_at"),
        (LISTED, "legal", 42, "expires_at"),
    ],
)
def test_bad_listings_name_the_field(app, number, reason, expires_at, field):
    with pytest.raises(DoNotCallError) as refused:
        listing(number, reason, expires_at)
    assert refused.value.status == 422
    assert field in {detail["field"] for detail in refused.value.details}


def test_a_listed_number_is_never_claimed_and_the_stop_is_audited(app, settings, make_user):
    operator = make_user("op", "operator")
    store_orders(order_payload("DNC-1", customer_phone="13900139000"), order_payload("OK-1"))
    list_number()
    task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
    db.session.commit()
    assert task.order.order_no == "OK-1"
    colleague = make_user("op2", "operator")  # the first operator holds OK-1 (one claim at a time)
    assert claim_next(db.session, colleague.id, now=TEST_NOW, settings=settings) is None
    stopped = task_of("DNC-1")
    assert stopped.state == "do_not_call" and stopped.attempt_count == 0
    events, _check = stopped_events("claim")
    assert [(e.entity_id, e.details["check"], e.actor_id) for e in events] == [
        (stopped.id, "claim", operator.id)
    ]


def test_a_claim_ends_every_listed_task_at_the_head_and_takes_the_next(app, settings, make_user):
    # More listed tasks at the head of the queue than a claim's retries for lost races: each one ends.
    operator = make_user("op", "operator")
    listed = [f"DNC-{n}" for n in range(7)]
    store_orders(
        *(order_payload(order_no, customer_phone="13900139000") for order_no in listed), order_payload("OK-1")
    )
    list_number()
    task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
    db.session.commit()
    assert task.order.order_no == "OK-1"
    assert {task_of(order_no).state for order_no in listed} == {"do_not_call"}
    claimed_events = db.session.scalars(
        select(AuditEvent.entity_id).where(AuditEvent.action == "task.claimed")
    )
    assert list(claimed_events) == [task.id]  # the listed tasks were never handed out


def test_an_appointment_with_a_number_listed_meanwhile_is_not_claimed(app, settings, make_user):
    operator = make_user("op", "operator")
    store_orders(order_payload("APPT-1", customer_phone="13900139000"))
    task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
    record_attempt(
        db.session,
        task.id,
        operator.id,
        disposition="callback_requested",
        answers=None,
        callback_at=(TEST_NOW + timedelta(hours=2)).isoformat(),
        note=None,
        now=TEST_NOW,
        settings=settings,
    )
    db.session.commit()
    list_number()
    later = TEST_NOW + timedelta(hours=3)
    assert claim_next(db.session, operator.id, now=later, settings=settings) is None
    db.session.commit()
    assert task_of("APPT-1").state == "do_not_call"


def test_the_dialer_rechecks_right_before_dialling(app, settings):
    store_orders(connected_order("AUTO-1", customer_phone="13900139000"))
    attempt = start_automated_attempt(db.session, now=TEST_NOW, settings=settings)
    db.session.commit()
    list_number()  # listed between the claim and the call
    assert stop_attempt_if_listed(db.session, attempt, now=TEST_NOW, actor=ACTOR) is True
    db.session.commit()
    assert task_of("AUTO-1", "completion").state == "do_not_call"
    assert db.session.scalar(select(func.count()).select_from(CallAttempt)) == 0  # no call, no attempt
    events, _check = stopped_events("dial")
    assert [e.details["check"] for e in events] == ["dial"]


def test_the_simulated_dialer_never_calls_a_listed_number(tmp_path, monkeypatch):
    app = make_app(
        tmp_path, monkeypatch, DIALER_CALLS_PER_SECOND=100, SIMULATION_MIX="agree=1", SIMULATION_SEED=3
    )
    with app.app_context():
        fresh_schema(app)
        store_orders(connected_order("SIM-1", customer_phone="13900139000"), connected_order("SIM-2"))
        list_number()
        result = app.test_cli_runner().invoke(args=["dialer", "--once"])
        assert result.exit_code == 0, result.output
        assert "calls placed: 1" in result.output
        db.session.expire_all()
        assert task_of("SIM-1", "completion").state == "do_not_call"
        assert task_of("SIM-2", "completion").state == "done"
        called = db.session.scalars(select(CallAttempt.task_id)).all()
        assert called == [task_of("SIM-2", "completion").id]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "do_not_call.stopped"))
        assert event.channel == "dialer" and event.entity_id == task_of("SIM-1", "completion").id
        db.session.remove()
        db.engine.dispose()


def test_the_customer_asking_on_the_phone_ends_the_task_and_lists_the_number(app, settings, make_user):
    operator = make_user("op", "operator")
    store_orders(order_payload("ASK-1", customer_phone="13900139000"))
    task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
    outcome = record_attempt(
        db.session,
        task.id,
        operator.id,
        disposition="do_not_call",
        answers=None,
        callback_at=None,
        note="客户明确表示不要再打电话",
        now=TEST_NOW,
        settings=settings,
    )
    db.session.commit()
    assert outcome.task.state == "do_not_call"
    assert (outcome.attempt.disposition, outcome.attempt.aapor_code) == ("do_not_call", "2.112")
    entry = is_listed(db.session, LISTED, TEST_NOW)
    assert (entry.reason, entry.source, entry.added_by_id) == (
        DoNotCallReason.CUSTOMER_ASKED.value,
        DoNotCallSource.CALL_SCREEN.value,
        operator.id,
    )
    assert entry.note == "客户明确表示不要再打电话"


def test_listing_objects_are_plain_data(app):
    assert listing().number == LISTED
    assert isinstance(listing(), Listing)
