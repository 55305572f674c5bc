"""create-user and create-token."""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from callback.clock import utcnow
from callback.extensions import db
from callback.models import Role, User
from callback.users import UserError, create_api_token
from callback.users import create_user as create_user_service


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
@with_appcontext
def create_user(name: str, role: str, password_stdin: bool) -> None:
    """Create a user with a role; without --password-stdin the password is asked for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif role == Role.INTEGRATION:
        password = None  # an integration account signs in with tokens only
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user_service(db.session, name, role, password, now=utcnow())
    except UserError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"created user {user.username} ({user.role})")


@click.command("create-token")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@with_appcontext
def create_token(username: str) -> None:
    """Print a new API token for the user, once; only its hash is stored."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    token = create_api_token(db.session, user, now=utcnow())
    db.session.commit()
    click.echo(token)
