"""Database errors as every process sees them (web, CLI, dialer): unreachable or a bug, and their first line.

Apart from outage.py (the web's 503 answer), so the dialer and the commands need not import the web layer.
"""

import contextlib

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, scoped_session

# Connection refused or lost, server shutting down, "database is locked", a pool with no free connection;
# on SQLite also "unable to open database file" and "no such table" (a schema not yet upgraded).
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, PoolTimeoutError)


def first_line(error: BaseException) -> str:
    """Return the first line of a database error (later lines carry the SQL statement)."""
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [""])[0][:300]


def quiet_rollback(session: Session | scoped_session[Session]) -> None:
    """Roll back, ignoring a connection that is already gone (the session is discarded anyway)."""
    with contextlib.suppress(SQLAlchemyError):
        session.rollback()


def is_unavailable(error: BaseException) -> bool:
    """Tell whether a database error means "cannot reach the database" rather than a bug in a query."""
    if isinstance(error, UNAVAILABLE_ERRORS):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
