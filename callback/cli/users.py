"""create-user, create-token and user administration: deactivate-user, set-password, set-role, revoke-token.

The commands speak English (the server's operators read them in runbooks), whatever the default locale.
"""

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.models import Role, User
from callback.users import (
    UserError,
    create_api_token,
    deactivate_user,
    revoke_tokens,
    set_password,
    set_role,
)
from callback.users import create_user as create_user_service

P = ParamSpec("P")
R = TypeVar("R")
CLI = Actor(source="cli")


def in_english(command: Callable[P, R]) -> Callable[P, R]:
    """Run the command with English messages, and turn a refused change into a clear error (exit 1)."""

    @wraps(command)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with force_locale("en"):
            try:
                return command(*args, **kwargs)
            except UserError as error:
                db.session.rollback()
                raise click.ClickException(str(error)) from None

    return wrapped


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
@with_appcontext
@in_english
def create_user(name: str, role: str, password_stdin: bool) -> None:
    """Create a user with a role; without --password-stdin the password is asked for."""
    if password_stdin:
        password: str | None = sys.stdin.readline().rstrip("\r\n")
    elif role == Role.INTEGRATION:
        password = None  # an integration account signs in with tokens only
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = create_user_service(db.session, name, role, password, now=utcnow())
    db.session.commit()
    click.echo(f"created user {user.username} ({user.role})")


@click.command("create-token")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@with_appcontext
@in_english
def create_token(username: str) -> None:
    """Print a new API token for the user, once; only its hash is stored."""
    token = create_api_token(db.session, _user(username), now=utcnow())
    db.session.commit()
    click.echo(token)


@click.command("deactivate-user")
@click.argument("name")
@with_appcontext
@in_english
def deactivate_user_command(name: str) -> None:
    """Stop a user signing in and their API tokens working; their sessions end at once."""
    user = _user(name)
    changed = deactivate_user(db.session, user, now=utcnow(), actor=CLI)
    db.session.commit()
    click.echo(f"deactivated {name}" if changed else f"{name} was already deactivated")


@click.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
@with_appcontext
@in_english
def set_password_command(name: str, password_stdin: bool) -> None:
    """Set a user's password (8+ characters); every session of the user ends."""
    user = _user(name)
    set_password(db.session, user, _read_password(password_stdin), now=utcnow(), actor=CLI)
    db.session.commit()
    click.echo(f"password of {name} set; their sessions have ended")


@click.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice([role.value for role in Role]))
@with_appcontext
@in_english
def set_role_command(name: str, role: str) -> None:
    """Give a user another role; every session of the user ends."""
    user = _user(name)
    changed = set_role(db.session, user, role, now=utcnow(), actor=CLI)
    db.session.commit()
    click.echo(f"{name} is now {role}" if changed else f"{name} already is {role}")


@click.command("revoke-token")
@click.option("--user", "username", required=True, help="The user whose tokens to revoke.")
@click.option(
    "--id",
    "token_id",
    type=click.IntRange(min=1, max=2**31 - 1),
    help="Revoke only this token (default: all).",
)
@with_appcontext
@in_english
def revoke_token_command(username: str, token_id: int | None) -> None:
    """Revoke one API token of a user (--id) or all of them."""
    user = _user(username)
    revoked = revoke_tokens(db.session, user, now=utcnow(), actor=CLI, token_id=token_id)
    db.session.commit()
    if revoked:
        click.echo(f"revoked token(s) {', '.join(str(token) for token in revoked)} of {username}")
    else:
        click.echo(f"{username} has no live token to revoke")
