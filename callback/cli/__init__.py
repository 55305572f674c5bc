"""The product's commands under `flask --app callback`."""

from datetime import UTC, datetime

import click
from flask import Flask

from callback.clock import utcnow


def parse_now(value: str | None) -> datetime:
    """Read a --now option: ISO 8601, naive meaning TIMEZONE; the real clock when absent."""
    from callback.fields import parse_datetime
    from callback.settings import current_settings

    if value is None:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date and time", param_hint="--now") from None
    moment = parse_datetime(parsed, current_settings().tz)
    assert moment is not None  # noqa: S101  (parsed is a datetime)
    return moment.astimezone(UTC)


def register_commands(app: Flask) -> None:
    """Add every command to the app's CLI."""
    from callback.cli import backup, demo, dialer, import_orders, retention, tick, tick_loop, users

    for command in (
        users.create_user,
        users.create_token,
        users.deactivate_user_command,
        users.set_password_command,
        users.set_role_command,
        users.revoke_token_command,
        import_orders.import_orders_command,
        tick.tick_command,
        demo.seed_demo,
        dialer.dialer_command,
        backup.backup_command,
        tick_loop.tick_loop_command,
        retention.purge_personal_data,
    ):
        app.cli.add_command(command)
