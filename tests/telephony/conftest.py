"""Fixtures for automated calls."""

from collections.abc import Callable
from datetime import datetime

import pytest

from callback.models import CallAttempt
from tests.conftest import TEST_NOW
from tests.telephony.helpers import start_automated_call


@pytest.fixture
def start_call(app, settings) -> Callable[..., CallAttempt]:
    """Return a function that stores a connected order and starts its automated call (task dialing)."""
    counter = iter(range(1, 1000))

    def start(order_no: str | None = None, now: datetime = TEST_NOW) -> CallAttempt:
        return start_automated_call(settings, order_no or f"AUTO-{next(counter):03d}", now)

    return start
