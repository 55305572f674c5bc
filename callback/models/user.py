"""Users, their roles and their API tokens."""

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from callback.extensions import Model
from callback.models.types import UTCDateTime


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    DISCIPLINE = "discipline"
    ADMIN = "admin"
    INTEGRATION = "integration"


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # 供电服务中心 the user works for (optional): the case desk's "overdue in my centre".
    service_center: Mapped[str | None] = mapped_column(String(50))

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    # Flask-Login stores this in the session and the remember-me cookie: the signed-in session's own
    # random secret (a row of user_sessions), set by callback.sessions, never the user's id.
    # Not a column: only the type checker sees the annotation (SQLAlchemy would try to map an annotated one).
    if TYPE_CHECKING:
        session_secret: str | None = None
    else:
        session_secret = None

    def get_session_id(self) -> str | None:
        """Return the secret of the server-side session this user object was loaded or signed in with."""
        return self.session_secret

    def set_password(self, password: str, method: str = "scrypt") -> None:
        """Store a salted hash of the password, never the password (method: PASSWORD_HASH_METHOD)."""
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def has_role(self, *roles: str) -> bool:
        """Tell whether the user holds one of the roles."""
        return self.role in roles


def hash_token(token: str) -> str:
    """Hash an API token; tokens are long random strings, so a plain SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_secret() -> str:
    """Make a new random API token."""
    return "cb_" + secrets.token_urlsafe(32)


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Model):
    """One signed-in browser; ending it (sign-out, password or role change, deactivation) signs it out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the secret the browser holds (in the signed session and remember-me cookies).
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInFailure(Model):
    """A failed sign-in (kind `password`) or a bad API token (kind `token`): the brute-force counters."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    # The name typed (known or not) for a sign-in; none for a token.
    username: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )
