"""Helpers for the report tests: orders through intake, calls through the worklist."""

from collections.abc import Callable
from typing import Any

import pytest

from callback.audit import Actor
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from tests.conftest import TEST_NOW
from tests.factories import order_payload


@pytest.fixture
def add_orders(app, settings) -> Callable[..., None]:
    """Store orders (API payloads, or order numbers with changes) through intake at TEST_NOW."""

    def add(*orders: dict[str, Any]) -> None:
        items = [validate_order(order_payload(**order), settings.tz, TEST_NOW) for order in orders]
        assert all(not isinstance(item, list) for item in items), items
        upsert_orders(db.session, items, now=TEST_NOW, settings=settings, actor=Actor(source="test"))
        db.session.commit()

    return add
