"""The product's commands under `flask --app callback`."""

from flask import Flask


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
