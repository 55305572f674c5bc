"""Valid input to start from, and the one way tests store orders; each test changes only what it is about."""

from datetime import datetime
from typing import Any

from sqlalchemy import select

from callback.audit import Actor
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import ValidOrder, validate_order
from callback.models import CallbackTask, WorkOrder
from callback.settings import Settings, current_settings

# Requests and commands read this fixed clock: Friday 2026-11-27 10:00 in Beijing (tests.conftest.TEST_NOW).
from tests.conftest import TEST_NOW

TEST_ACTOR = Actor(source="test")


def order_payload(order_no: str = "GD-2026-0001", **overrides: Any) -> dict[str, Any]:
    """Return a valid API work order, accepted on a working day, as the marketing system sends it."""
    payload: dict[str, Any] = {
        "order_no": order_no,
        "customer_name": "宏达五金店",
        "customer_phone": "13800138000",
        "address": "城关镇人民路 12 号",
        "customer_type": "small_micro",
        "service_center": "城关供电服务中心",
        "account_manager": "王磊",
        "has_engineering": False,
        "ledger": None,
        "status": "accepted",
        "accepted_at": "2026-11-23T09:30:00",
        "due_at": "2026-12-03T17:00:00",
    }
    payload.update(overrides)
    return payload


def valid_order(
    order_no: str = "GD-2026-0001",
    *,
    now: datetime = TEST_NOW,
    settings: Settings | None = None,
    **overrides: Any,
) -> ValidOrder:
    """Return `order_payload(order_no, **overrides)` checked as intake checks it (it must be valid)."""
    settings = settings or current_settings()
    valid = validate_order(order_payload(order_no, **overrides), settings.tz, now)
    assert isinstance(valid, ValidOrder), valid
    return valid


def store_orders(
    *payloads: dict[str, Any], now: datetime = TEST_NOW, settings: Settings | None = None
) -> list[WorkOrder]:
    """Take orders (API payloads) in as the API does, in one transaction, and commit; return them."""
    settings = settings or current_settings()
    items = [validate_order(payload, settings.tz, now) for payload in payloads]
    invalid = [item for item in items if not isinstance(item, ValidOrder)]
    assert not invalid, invalid
    upsert_orders(db.session, items, now=now, settings=settings, actor=TEST_ACTOR)
    db.session.commit()
    numbers = [item.order_no for item in items if isinstance(item, ValidOrder)]
    stored = {
        order.order_no: order
        for order in db.session.scalars(select(WorkOrder).where(WorkOrder.order_no.in_(numbers)))
    }
    return [stored[number] for number in numbers]


def store_order(
    order_no: str = "GD-2026-0001",
    *,
    now: datetime = TEST_NOW,
    settings: Settings | None = None,
    **overrides: Any,
) -> WorkOrder:
    """Take one order in as the API does (with its tasks and audit rows); keywords change the payload."""
    return store_orders(order_payload(order_no, **overrides), now=now, settings=settings)[0]


def newest_task(order: WorkOrder | None = None) -> CallbackTask:
    """Return the task made last (of the order, when given): what storing or changing an order just made."""
    query = select(CallbackTask).order_by(CallbackTask.id.desc()).limit(1)
    if order is not None:
        query = query.where(CallbackTask.order_id == order.id)
    task = db.session.scalar(query)
    assert task is not None
    return task
