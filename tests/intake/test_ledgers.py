"""Putting orders on the three ledgers by hand: the service, its audit trail and its refusals."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callback.audit import Actor
from callback.extensions import db
from callback.intake.ledgers import LedgerError, ledger_history, recent_hand_changes, set_ledger
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from callback.models import AuditEvent, WorkOrder
from tests.factories import order_payload, store_order

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
SUPERVISOR = Actor(user_id=None, source="test-supervisor")


@pytest.fixture
def order(app, settings) -> WorkOrder:
    return store_order("GD-LEDGER", now=NOW)


def test_putting_an_order_on_a_ledger_records_who_why_and_from_where(order: WorkOrder) -> None:
    set_ledger(db.session, "GD-LEDGER", "connect_first", note="先行接入，后续改造", now=NOW, actor=SUPERVISOR)
    db.session.commit()
    assert order.ledger == "connect_first"
    assert order.updated_at == NOW
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "order.ledger"))
    assert event.entity_type == "work_order"
    assert event.entity_id == order.id
    assert event.source == "test-supervisor"
    assert event.details == {"from": None, "to": "connect_first", "note": "先行接入，后续改造"}


def test_taking_it_off_and_the_history_newest_first(order: WorkOrder) -> None:
    set_ledger(db.session, "GD-LEDGER", "in_transit", note="系统流程未走完", now=NOW, actor=SUPERVISOR)
    later = NOW + timedelta(hours=2)
    set_ledger(db.session, " GD-LEDGER ", None, note="流程已补录", now=later, actor=SUPERVISOR)
    db.session.commit()
    assert order.ledger is None
    history = ledger_history(db.session, order.id)
    assert [(c.from_ledger, c.to_ledger, c.note, c.by_hand) for c in history] == [
        ("in_transit", None, "流程已补录", True),
        (None, "in_transit", "系统流程未走完", True),
    ]
    assert [c.note for c in recent_hand_changes(db.session, "in_transit")] == ["流程已补录", "系统流程未走完"]
    assert recent_hand_changes(db.session, "pre_advanced") == []


def test_the_marketing_systems_next_update_replaces_a_hand_set_ledger(order: WorkOrder, settings) -> None:
    set_ledger(db.session, "GD-LEDGER", "connect_first", note="先接入", now=NOW, actor=SUPERVISOR)
    db.session.commit()
    update = order_payload("GD-LEDGER", status="surveyed", surveyed_at="2026-11-26T10:00:00")
    update["updated_at"] = "2026-11-27T11:00:00"
    later = NOW + timedelta(hours=2)
    upsert_orders(
        db.session,
        [validate_order(update, settings.tz, later)],
        now=later,
        settings=settings,
        actor=Actor(source="api"),
    )
    db.session.commit()
    db.session.refresh(order)
    assert order.ledger is None
    newest = ledger_history(db.session, order.id)[0]
    assert (newest.from_ledger, newest.to_ledger, newest.by_hand) == ("connect_first", None, False)


@pytest.mark.parametrize(
    ("order_no", "ledger", "note", "fields"),
    [
        ("GD-NONE", "connect_first", "说明", {"order_no"}),
        ("GD-LEDGER", "somewhere", "说明", {"ledger"}),
        ("GD-LEDGER", "connect_first", "  ", {"note"}),
        ("GD-LEDGER", "connect_first", "长" * 501, {"note"}),
        (None, 3, None, {"order_no", "ledger", "note"}),
    ],
)
def test_bad_input_is_refused_field_by_field_and_changes_nothing(
    order: WorkOrder, order_no, ledger, note, fields
) -> None:
    with pytest.raises(LedgerError) as refused:
        set_ledger(db.session, order_no, ledger, note=note, now=NOW, actor=SUPERVISOR)
    assert refused.value.status == 422
    assert {detail["field"] for detail in refused.value.details} == fields
    db.session.rollback()
    assert db.session.get(WorkOrder, order.id).ledger is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "order.ledger")) is None


def test_putting_it_where_it_already_is_is_a_conflict(order: WorkOrder) -> None:
    set_ledger(db.session, "GD-LEDGER", "pre_advanced", note="预推进", now=NOW, actor=SUPERVISOR)
    db.session.commit()
    with pytest.raises(LedgerError) as refused:
        set_ledger(db.session, "GD-LEDGER", "pre_advanced", note="再次", now=NOW, actor=SUPERVISOR)
    assert refused.value.status == 409
    assert refused.value.code == "ledger_unchanged"
