"""Helpers for the report tests: orders through intake, calls through the worklist."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import order_payload, store_orders


@pytest.fixture
def add_orders(app, settings) -> Callable[..., None]:
    """Store orders (API payloads, or order numbers with changes) through intake at TEST_NOW."""

    def add(*orders: dict[str, Any]) -> None:
        store_orders(*(order_payload(**order) for order in orders), settings=settings)

    return add
