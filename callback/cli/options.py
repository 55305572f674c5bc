"""Options that several commands share."""

from datetime import UTC, datetime

import click

from callback.clock import utcnow
from callback.fields import parse_datetime
from callback.settings import current_settings


def parse_now(value: str | None) -> datetime:
    """Read a --now option: ISO 8601, naive meaning TIMEZONE; the real clock when absent."""
    if value is None:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date and time", param_hint="--now") from None
    moment = parse_datetime(parsed, current_settings().tz)
    assert moment is not None  # noqa: S101  (parsed is a datetime)
    return moment.astimezone(UTC)
