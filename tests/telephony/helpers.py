"""Helpers for automated calls: connected orders whose completion callbacks the dialer makes."""

from datetime import datetime
from xml.etree import ElementTree

from sqlalchemy import select

from callback.extensions import db
from callback.models import CallAttempt, CallbackTask, TaskKind
from callback.settings import Settings
from callback.worklist import start_automated_attempt
from tests.conftest import TEST_NOW
from tests.factories import order_payload, store_orders


def connected_order(order_no: str, **changes: object) -> dict:
    """Return an order connected yesterday: its completion callback goes to the dialer (AUTO_KINDS)."""
    return order_payload(
        order_no,
        status="connected",
        surveyed_at="2026-11-24T10:00:00",
        connected_at="2026-11-26T15:00:00",
        **changes,
    )


def store_connected_orders(settings: Settings, *order_nos: str, now: datetime = TEST_NOW) -> list[int]:
    """Store connected orders and return their completion tasks' ids."""
    store_orders(*(connected_order(order_no) for order_no in order_nos), now=now, settings=settings)
    return list(
        db.session.scalars(
            select(CallbackTask.id)
            .where(CallbackTask.kind == TaskKind.COMPLETION.value)
            .order_by(CallbackTask.id)
        )
    )


def start_automated_call(settings: Settings, order_no: str, now: datetime = TEST_NOW) -> CallAttempt:
    """Store a connected order and start its automated call (task dialing, attempt recorded)."""
    store_connected_orders(settings, order_no, now=now)
    attempt = start_automated_attempt(db.session, now=now, settings=settings)
    assert attempt is not None
    db.session.commit()
    return attempt


def parse_twiml(document: str) -> ElementTree.Element:
    """Parse TwiML our own app produced."""
    return ElementTree.fromstring(document)  # noqa: S314  (the app's own output, in a test)
