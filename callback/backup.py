"""Online backups: a consistent copy of the database while the web server and dialers keep writing.

SQLite is copied through its backup API in one step, which reads one snapshot (in WAL mode writers carry
on meanwhile); PostgreSQL through `pg_dump -Fc`, which dumps one repeatable-read snapshot. Either way the
copy holds exactly the transactions committed before it began: never half of one.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL


class BackupError(RuntimeError):
    """The backup could not be taken; the message says why, and no file was written."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    method: str


def backup_database(engine: Engine, destination: Path, *, overwrite: bool = False) -> BackupReport:
    """Write a consistent copy of the engine's database to `destination` (atomically: all or nothing)."""
    destination = destination.expanduser().absolute()
    if destination.is_dir():
        raise BackupError(f"{destination} is a folder; give the name of the backup file")
    if destination.exists() and not overwrite:
        raise BackupError(f"{destination} already exists; choose another name or pass --overwrite")
    if not destination.parent.is_dir():
        raise BackupError(f"the folder {destination.parent} does not exist")
    dialect = engine.dialect.name
    # Written beside the destination, then renamed over it: a failed backup leaves no partial file.
    fd, temporary_name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(fd)
    temporary = Path(temporary_name)
    try:
        if dialect == "sqlite":
            method = "sqlite backup API"
            _backup_sqlite(engine, temporary)
        elif dialect == "postgresql":
            method = "pg_dump -Fc"
            _backup_postgresql(engine.url, temporary)
        else:
            raise BackupError(f"backups of {dialect} databases are not supported (SQLite and PostgreSQL are)")
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    return BackupReport(destination, destination.stat().st_size, method)


def _backup_sqlite(engine: Engine, target_path: Path) -> None:
    if not engine.url.database or engine.url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    source = sqlite3.connect(engine.url.database, timeout=30)
    target = sqlite3.connect(target_path)
    try:
        # pages=-1: the whole database in one step, from one read snapshot.
        source.backup(target, pages=-1)
        # A self-contained file: no -wal beside it to lose when it is copied elsewhere.
        target.execute("PRAGMA journal_mode = DELETE")
        verdict = target.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not copy the database: {error}") from None
    finally:
        target.close()
        source.close()
    if verdict != "ok":
        raise BackupError(f"the copy failed SQLite's check: {verdict}")


def pg_environment(url: URL, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment that points libpq tools (pg_dump, pg_restore, psql) at the URL's database.

    The password goes in PGPASSWORD, never on the command line, where `ps` would show it.
    """
    environment = dict(os.environ if base is None else base)
    parts = {
        "PGHOST": url.host or _query(url, "host"),
        "PGPORT": str(url.port) if url.port else _query(url, "port"),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": _query(url, "sslmode"),
    }
    environment.update({name: str(value) for name, value in parts.items() if value})
    return environment


def _query(url: URL, name: str) -> str | None:
    value = url.query.get(name)
    if isinstance(value, tuple):
        value = value[0] if value else None
    return value


def _backup_postgresql(url: URL, target_path: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump was not found on PATH; install the PostgreSQL client (postgresql-client)")
    command = [pg_dump, "--format=custom", "--no-password", f"--file={target_path}"]
    completed = subprocess.run(  # noqa: S603  (a fixed program; the arguments are not a shell line)
        command, env=pg_environment(url), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise BackupError(f"pg_dump failed: {completed.stderr.strip() or completed.returncode}")
