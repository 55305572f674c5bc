"""SQLite as the embedded database of one machine: WAL and a busy timeout on every connection.

The web server, the dialer and `tick` are separate processes writing one file. In WAL mode readers never
block the writer nor the writer them, and the busy timeout makes a writer that finds another one mid-commit
wait for it instead of failing at once with "database is locked".
"""

import sqlite3
from typing import Any

from sqlalchemy import Engine, event

# How long a connection waits for another process's write to finish before giving up.
BUSY_TIMEOUT_MS = 30_000


def tune_sqlite(dbapi_connection: Any, _connection_record: Any = None) -> None:
    """Put a new SQLite connection in WAL mode with a busy timeout (nothing for other databases)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        # The timeout first: switching to WAL itself needs a moment of exclusive access.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # stays "memory" for an in-memory database
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a power cut loses no committed data
    finally:
        cursor.close()


def tune_engine(engine: Engine) -> None:
    """Tune every connection the engine opens, if it is a SQLite engine."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", tune_sqlite):
        event.listen(engine, "connect", tune_sqlite)
