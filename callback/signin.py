"""Signing in with a password, and the brute-force limits on it and on API tokens.

The counters are rows of `sign_in_failures` in the database, so every gunicorn worker and every host sees
the same ones. A username (known or not) is refused for LOGIN_LOCKOUT_MINUTES once it has failed
LOGIN_MAX_FAILURES times within that window; a client address once it has failed
LOGIN_MAX_FAILURES_PER_ADDRESS times (sign-ins and bad API tokens counted apart).
"""

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, ScalarSelect, String, bindparam, delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from callback.audit import Actor, AuditEntry, record
from callback.models import SignInFailure, User
from callback.models.types import UTCDateTime
from callback.settings import Settings

PASSWORD = "password"  # noqa: S105  (a kind of failure, not a secret)
TOKEN = "token"  # noqa: S105


@cache
def _dummy_hash(method: str = "scrypt") -> str:
    """A hash made like real ones (PASSWORD_HASH_METHOD), checked when the name is unknown so both cost
    the same time."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the user, or why not (`locked_until` set when the limits refuse it)."""

    user: User | None
    locked_until: datetime | None = None


def _limit_reached(
    session: Session, *, kind: str, now: datetime, settings: Settings, limit: int, **where: str
) -> datetime | None:
    """Return until when `limit` failures within the window refuse more, or None."""
    column, value = next(iter(where.items()))
    times = session.scalars(
        select(SignInFailure.at)
        .where(
            SignInFailure.kind == kind,
            getattr(SignInFailure, column) == value,
            SignInFailure.at > now - settings.login_lockout,
        )
        .order_by(SignInFailure.at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return times[-1] + settings.login_lockout  # when the oldest of those leaves the window


def sign_in_locked_until(
    session: Session, username: str, address: str, *, now: datetime, settings: Settings
) -> datetime | None:
    """Tell until when sign-ins for this username or from this address are refused, if they are."""
    limits = [
        _limit_reached(
            session,
            kind=PASSWORD,
            now=now,
            settings=settings,
            limit=settings.login_max_failures,
            username=username,
        ),
        _limit_reached(
            session,
            kind=PASSWORD,
            now=now,
            settings=settings,
            limit=settings.login_max_failures_per_address,
            address=address,
        ),
    ]
    reached = [until for until in limits if until is not None]
    return max(reached) if reached else None


def _add_failure(
    session: Session, kind: str, username: str | None, address: str, now: datetime, settings: Settings
) -> None:
    # Failures older than the window count for nothing any more.
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - settings.login_lockout))
    session.add(SignInFailure(at=now, kind=kind, username=username, address=address[:64]))
    session.flush()


def authenticate(
    session: Session, username: str, password: str, address: str, *, now: datetime, settings: Settings
) -> SignIn:
    """Check a username and password against the limits and the stored hash; audit the outcome.

    A refused sign-in (locked) is not checked at all: the right password does not get through either.
    """
    username = username[:64]
    locked = sign_in_locked_until(session, username, address, now=now, settings=settings)
    if locked is not None:
        return SignIn(None, locked_until=locked)
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else None
    checked = stored or _dummy_hash(settings.password_hash_method)
    matches = check_password_hash(checked, password) and stored is not None
    if user is not None and matches and user.active:
        session.execute(
            delete(SignInFailure).where(SignInFailure.kind == PASSWORD, SignInFailure.username == username)
        )
        record(session, Actor(user_id=user.id), now, [AuditEntry("auth.signed_in", "user", user.id)])
        return SignIn(user)
    _add_failure(session, PASSWORD, username, address, now, settings)
    reason = "unknown_user" if user is None else ("inactive" if not user.active else "wrong_password")
    entries = [
        AuditEntry(
            "auth.sign_in_failed", "user", user.id if user else None, {"username": username, "reason": reason}
        )
    ]
    locked = sign_in_locked_until(session, username, address, now=now, settings=settings)
    if locked is not None:
        entries.append(
            AuditEntry(
                "auth.locked_out",
                "user",
                user.id if user else None,
                {"username": username, "address": address, "until": locked.isoformat()},
            )
        )
    record(session, Actor(), now, entries)
    return SignIn(None, locked_until=None)


def token_locked_until(
    session: Session, address: str, *, now: datetime, settings: Settings
) -> datetime | None:
    """Tell until when API tokens from this address are refused after too many bad ones, if they are."""
    started = session.scalar(
        select(token_lockout_start()), token_lockout_values(address, now=now, settings=settings)
    )
    return token_lockout_end(started, settings)


@cache
def token_lockout_start() -> ScalarSelect[datetime]:
    """The time of the bad token that locks the address out now, or NULL: of the bad tokens from the address
    within the window, the LOGIN_MAX_FAILURES_PER_ADDRESS-th newest (`_limit_reached`'s rule).

    A subquery built once, so that the token's own lookup can carry it (one statement per API request);
    bound by `token_lockout_values`.
    """
    return (
        select(SignInFailure.at)
        .where(
            SignInFailure.kind == TOKEN,
            SignInFailure.address == bindparam("lockout_address", type_=String()),
            SignInFailure.at > bindparam("lockout_since", type_=UTCDateTime()),
        )
        .order_by(SignInFailure.at.desc())
        .offset(bindparam("lockout_offset", type_=Integer()))
        .limit(1)
        .scalar_subquery()
    )


def token_lockout_values(address: str, *, now: datetime, settings: Settings) -> dict[str, Any]:
    """Return the values `token_lockout_start` binds."""
    return {
        "lockout_address": address,
        "lockout_since": now - settings.login_lockout,
        "lockout_offset": settings.login_max_failures_per_address - 1,
    }


def token_lockout_end(started: datetime | None, settings: Settings) -> datetime | None:
    """Return until when the address is refused, given what `token_lockout_start` found (None: it is not)."""
    return None if started is None else started + settings.login_lockout


def record_bad_token(session: Session, address: str, *, now: datetime, settings: Settings) -> None:
    """Count a bad API token from this address; audit the moment the address gets locked out."""
    _add_failure(session, TOKEN, None, address, now, settings)
    until = token_locked_until(session, address, now=now, settings=settings)
    if until is not None:
        record(
            session,
            Actor(),
            now,
            [
                AuditEntry(
                    "auth.token_locked_out", "address", None, {"address": address, "until": until.isoformat()}
                )
            ],
        )


def minutes_until(moment: datetime, now: datetime) -> int:
    """Whole minutes from now until a moment, rounded up (at least 1): what a refusal tells the user."""
    return max(1, math.ceil((moment - now).total_seconds() / 60))
