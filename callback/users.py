"""Users and API tokens: creation, with every change audited."""

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.models import ApiToken, Role, User, hash_token, new_token_secret

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    """A user cannot be created as asked."""


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str | None,
    *,
    now: datetime,
    actor: Actor | None = None,
) -> User:
    """Create a user; a password is required for every role but integration."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserError("the name must be 1 to 64 letters, digits or . _ @ -")
    if role not in {r.value for r in Role}:
        raise UserError(f"unknown role {role!r}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"a user named {username!r} already exists")
    if password is None and role != Role.INTEGRATION:
        raise UserError("a password is required")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = User(username=username, role=role, created_at=now, active=True)
    if password is not None:
        user.set_password(password)
    session.add(user)
    session.flush()
    record(
        session,
        actor or Actor(source="cli"),
        now,
        [AuditEntry("user.created", "user", user.id, {"role": role})],
    )
    return user


def create_api_token(session: Session, user: User, *, now: datetime, actor: Actor | None = None) -> str:
    """Create a token for the user and return it; only its hash is kept."""
    secret = new_token_secret()
    token = ApiToken(user_id=user.id, token_hash=hash_token(secret), created_at=now)
    session.add(token)
    session.flush()
    record(
        session,
        actor or Actor(source="cli"),
        now,
        [AuditEntry("token.created", "api_token", token.id, {"user_id": user.id})],
    )
    return secret
