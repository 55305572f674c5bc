"""Users and API tokens: creation and administration, with every change audited (never a password)."""

import re
from datetime import datetime, timedelta

from flask import has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.models import ApiToken, Role, User, hash_token, new_token_secret
from callback.sessions import end_sessions
from callback.settings import current_settings

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    """A user cannot be created or changed as asked; `field` names the input at fault when one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
        raise UserError(_("The name must be 1 to 64 letters, digits or . _ @ -."), field="username")
    _check_role(role)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(_("A user named %(name)s already exists.", name=repr(username)), field="username")
    if password is None and role != Role.INTEGRATION:
        raise UserError(_("A password is required."), field="password")
    if password is not None:
        _check_password(password)
    user = User(username=username, role=role, created_at=now, active=True)
    if password is not None:
        user.set_password(password, _hash_method())
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


def _hash_method() -> str:
    """PASSWORD_HASH_METHOD of the app (cheap under the test suite), or werkzeug's scrypt outside one."""
    return current_settings().password_hash_method if has_app_context() else "scrypt"


def _check_role(role: str) -> None:
    if role not in {r.value for r in Role}:
        raise UserError(_("Unknown role %(role)s.", role=repr(role)), field="role")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            _("The password must have at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if len(password) > 256:
        raise UserError(
            _("The password must have at most %(count)d characters.", count=256), field="password"
        )


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to take the last active admin away (their rows are locked until commit on PostgreSQL)."""
    if user.role != Role.ADMIN or not user.active:
        return
    admins = session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
    ).all()
    if len(admins) <= 1:
        raise UserError(_("%(name)s is the last active admin; make another admin first.", name=user.username))


def set_role(session: Session, user: User, role: str, *, now: datetime, actor: Actor) -> bool:
    """Give the user another role and end their sessions; return whether anything changed."""
    _check_role(role)
    if role == user.role:
        return False
    _keep_an_admin(session, user)
    before = user.role
    user.role = role
    end_sessions(session, user.id, now=now)
    record(
        session, actor, now, [AuditEntry("user.role_changed", "user", user.id, {"from": before, "to": role})]
    )
    return True


def set_password(session: Session, user: User, password: str, *, now: datetime, actor: Actor) -> None:
    """Set a new password and end every session of the user (an admin's reset, or the CLI)."""
    _check_password(password)
    user.set_password(password, _hash_method())
    end_sessions(session, user.id, now=now)
    record(session, actor, now, [AuditEntry("user.password_set", "user", user.id)])


def change_own_password(session: Session, user: User, current: str, new: str, *, now: datetime) -> None:
    """Let a user change their password, proving the current one; every session of theirs ends."""
    if not user.check_password(current):
        raise UserError(_("The current password is wrong."), field="current")
    if new == current:
        raise UserError(_("The new password must differ from the current one."), field="new")
    _check_password(new)
    user.set_password(new, _hash_method())
    end_sessions(session, user.id, now=now)
    record(session, Actor(user_id=user.id), now, [AuditEntry("user.password_changed", "user", user.id)])


def deactivate_user(session: Session, user: User, *, now: datetime, actor: Actor) -> bool:
    """Stop the user signing in or using tokens, ending their sessions; return whether anything changed."""
    if not user.active:
        return False
    _keep_an_admin(session, user)
    user.active = False
    end_sessions(session, user.id, now=now)
    record(session, actor, now, [AuditEntry("user.deactivated", "user", user.id)])
    return True


def reactivate_user(session: Session, user: User, *, now: datetime, actor: Actor) -> bool:
    """Let a deactivated user sign in (and their unrevoked tokens work) again."""
    if user.active:
        return False
    user.active = True
    record(session, actor, now, [AuditEntry("user.reactivated", "user", user.id)])
    return True


def revoke_tokens(
    session: Session, user: User, *, now: datetime, actor: Actor, token_id: int | None = None
) -> list[int]:
    """Revoke one token of the user (`token_id`) or all of them; return the ids revoked."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        if (
            session.scalar(select(ApiToken.id).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
            is None
        ):
            raise UserError(_("%(name)s has no token %(id)d.", name=user.username, id=token_id))
        query = query.where(ApiToken.id == token_id)
    tokens = session.scalars(query).all()
    for token in tokens:
        token.revoked_at = now
    record(
        session,
        actor,
        now,
        [AuditEntry("token.revoked", "api_token", token.id, {"user_id": user.id}) for token in tokens],
    )
    return [token.id for token in tokens]


# A token's last_used_at is written at most this often, so busy integrations do not write on every call.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def touch_token(session: Session, token: ApiToken, *, now: datetime) -> bool:
    """Note the token was used now, unless noted less than a minute ago; return whether it was written."""
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_INTERVAL:
        return False
    session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return True


def active_admin_count(session: Session) -> int:
    """Count the active admins."""
    return session.scalar(select(func.count()).where(User.role == Role.ADMIN, User.active.is_(True))) or 0


SERVICE_CENTER_MAX = 50


def set_service_center(
    session: Session, user: User, center: str | None, *, now: datetime, actor: Actor
) -> bool:
    """Set (or clear, with blank) the service centre a user works for; return whether anything changed."""
    value = (center or "").strip() or None
    if value is not None and (len(value) > SERVICE_CENTER_MAX or not value.isprintable()):
        raise UserError(
            _("A service centre is at most %(n)d characters of text.", n=SERVICE_CENTER_MAX), "service_center"
        )
    if value == user.service_center:
        return False
    before = user.service_center
    user.service_center = value
    record(
        session,
        actor,
        now,
        [AuditEntry("user.service_center_changed", "user", user.id, {"from": before, "to": value})],
    )
    return True
