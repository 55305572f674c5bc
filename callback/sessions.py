"""Server-side sessions of people signed in to the web interface: start, resume, end.

The browser holds a random secret (in Flask's signed session cookie and, with "stay signed in", in
Flask-Login's remember-me cookie); the database holds its hash with the times that decide whether it still
counts. Ending a user's sessions (sign-out, a password or role change, deactivation) therefore signs out every
browser of that user at its next request, whichever cookie it presents.
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from callback.models import User, UserSession, hash_token
from callback.settings import Settings

# last_seen_at is written at most this often per session, so a page view costs no write in general;
# the idle timeout is therefore exact to this interval.
TOUCH_INTERVAL = timedelta(minutes=1)


def start_session(session: Session, user: User, *, now: datetime, settings: Settings) -> str:
    """Open a session for the user; return the secret the browser keeps, and bind it to `user`."""
    secret = secrets.token_urlsafe(32)
    # The user's sessions that can no longer be resumed are of no use to anyone: drop them.
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(
                UserSession.ended_at.is_not(None),
                UserSession.created_at < now - settings.session_max,
                UserSession.last_seen_at < now - settings.session_idle,
            ),
        )
    )
    session.add(
        UserSession(user_id=user.id, secret_hash=hash_token(secret), created_at=now, last_seen_at=now)
    )
    session.flush()
    user.session_secret = secret
    return secret


def resume_session(
    session: Session, secret: str, *, now: datetime, settings: Settings
) -> tuple[User | None, bool]:
    """Return the user of a live session and whether its last_seen_at was just moved (commit it then).

    A session counts while it has not been ended, was last used less than the idle timeout ago, was opened
    less than the absolute lifetime ago, and its user is active.
    """
    row = session.execute(
        select(UserSession, User)
        .join(User, UserSession.user_id == User.id)
        .where(UserSession.secret_hash == hash_token(secret), UserSession.ended_at.is_(None))
    ).first()
    if row is None:
        return None, False
    user_session, user = row
    if (
        not user.active
        or now - user_session.last_seen_at >= settings.session_idle
        or now - user_session.created_at >= settings.session_max
    ):
        return None, False
    touched = now - user_session.last_seen_at >= TOUCH_INTERVAL
    if touched:
        user_session.last_seen_at = now
    user.session_secret = secret
    return user, touched


def end_sessions(session: Session, user_id: int, *, now: datetime) -> int:
    """End every open session of the user; return how many were open."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def live_session_count(session: Session, user_id: int, *, now: datetime, settings: Settings) -> int:
    """Count the user's sessions that a browser could still resume."""
    return (
        session.scalar(
            select(func.count()).where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > now - settings.session_idle,
                UserSession.created_at > now - settings.session_max,
            )
        )
        or 0
    )
