"""The clock, read only at the edges (requests, commands); services take `now` as an argument."""

from datetime import UTC, datetime

from flask import current_app


def utcnow() -> datetime:
    """Return the current time in UTC, or the app's fixed CLOCK when one is configured (tests, demos)."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock is not None else datetime.now(UTC)
