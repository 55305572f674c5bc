"""backup FILE: a consistent copy taken while orders keep arriving, restored and found complete."""

import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from sqlalchemy import create_engine, func, make_url, select

from callback.backup import BackupError, backup_database, pg_environment
from callback.extensions import db
from callback.models import CallbackTask, WorkOrder
from tests.conftest import POSTGRES_URL, make_app
from tests.factories import store_order


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch) -> Iterator[Flask]:
    """An app on its own SQLite file, whichever database the suite runs on."""
    app = make_app(tmp_path, monkeypatch, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.sqlite'}")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


class OrderWriter(threading.Thread):
    """Store orders one after the other, as the marketing system's pushes do, noting when each committed."""

    def __init__(self, app: Flask) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.committed: list[tuple[str, float]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.app.app_context():
                number = 0
                while not self.stop.is_set():
                    number += 1
                    order_no = f"BK-{number:05d}"
                    store_order(order_no)
                    self.committed.append((order_no, time.monotonic()))
                db.session.remove()
        except BaseException as error:  # reported by the test
            self.error = error

    def wait_for(self, count: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while len(self.committed) < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"only {len(self.committed)} orders stored in {seconds} s"
            time.sleep(0.01)


def test_a_sqlite_backup_taken_during_writes_restores_every_order_committed_before_it(
    sqlite_app, tmp_path, monkeypatch
):
    writer = OrderWriter(sqlite_app)
    writer.start()
    try:
        writer.wait_for(30)
        backup = tmp_path / "backups" / "callback-backup.sqlite"
        backup.parent.mkdir()
        started = time.monotonic()
        result = sqlite_app.test_cli_runner().invoke(args=["backup", str(backup)])
        assert result.exit_code == 0, result.output
        assert f"backup written to {backup}" in result.output
        assert backup.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
        writer.wait_for(len(writer.committed) + 10)  # the app kept taking orders
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error

    # Restore: the copy becomes the database of a fresh instance, as the restore drill does.
    restored = tmp_path / "restored" / "callback.sqlite"
    restored.parent.mkdir()
    shutil.copy(backup, restored)
    with sqlite3.connect(restored) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    restored_app = make_app(
        tmp_path / "restored", monkeypatch, SQLALCHEMY_DATABASE_URI=f"sqlite:///{restored}"
    )
    with restored_app.app_context():
        in_backup = set(db.session.scalars(select(WorkOrder.order_no)))
        orders_without_intake_task = db.session.scalar(
            select(func.count())
            .select_from(WorkOrder)
            .where(~select(CallbackTask.id).where(CallbackTask.order_id == WorkOrder.id).exists())
        )
        db.engine.dispose()

    committed_before = {order_no for order_no, at in writer.committed if at < started}
    assert committed_before, "the writer stored nothing before the backup"
    assert committed_before <= in_backup
    # A snapshot: exactly the first N orders committed, never a later one without an earlier one ...
    in_commit_order = [order_no for order_no, _ in writer.committed]
    assert in_backup == set(in_commit_order[: len(in_backup)])
    # ... and never half a transaction: each order came with its intake task.
    assert orders_without_intake_task == 0


def test_backup_refuses_to_overwrite_a_file_unless_told(sqlite_app, tmp_path):
    with sqlite_app.app_context():
        store_order("BK-KEEP")
    existing = tmp_path / "yesterday.sqlite"
    existing.write_text("yesterday's backup")
    runner = sqlite_app.test_cli_runner()
    refused = runner.invoke(args=["backup", str(existing)])
    assert refused.exit_code == 1
    assert "already exists" in refused.output
    assert existing.read_text() == "yesterday's backup"
    replaced = runner.invoke(args=["backup", "--overwrite", str(existing)])
    assert replaced.exit_code == 0, replaced.output
    with sqlite3.connect(existing) as connection:
        assert connection.execute("SELECT order_no FROM work_orders").fetchall() == [("BK-KEEP",)]


def test_backup_into_a_missing_folder_says_so_and_writes_nothing(sqlite_app, tmp_path):
    result = sqlite_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "nowhere" / "b.sqlite")])
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert not (tmp_path / "nowhere").exists()


# --- PostgreSQL ---------------------------------------------------------------------------------------


def test_libpq_environment_carries_the_password_outside_the_command_line():
    url = make_url("postgresql+psycopg://callback:s3cret@db.internal:5433/callback?sslmode=require")
    environment = pg_environment(url, base={})
    assert environment == {
        "PGHOST": "db.internal",
        "PGPORT": "5433",
        "PGUSER": "callback",
        "PGPASSWORD": "s3cret",
        "PGDATABASE": "callback",
        "PGSSLMODE": "require",
    }


def _pg_dump_needed() -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pg_dump/pg_restore are missing; CI needs them (apt-get install postgresql-client)")
        pytest.skip("pg_dump/pg_restore are missing (apt-get install postgresql-client)")


def test_a_failed_pg_dump_says_why_leaves_no_file_and_never_shows_the_password(tmp_path):
    _pg_dump_needed()
    with socket_port() as closed_port:
        url = make_url(f"postgresql+psycopg://callback:hunter22@127.0.0.1:{closed_port}/callback")
        engine = create_engine(url)
        with pytest.raises(BackupError) as failed:
            backup_database(engine, tmp_path / "pg.dump")
        engine.dispose()
    assert "pg_dump failed" in str(failed.value)
    assert "hunter22" not in str(failed.value)
    assert list(tmp_path.iterdir()) == []


class socket_port:
    """A local port nothing listens on, for as long as the block runs."""

    def __enter__(self) -> int:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        return self.socket.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.socket.close()


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL (CALLBACK_TEST_DATABASE_URL)")
def test_a_postgresql_backup_restores_into_a_scratch_database(app, runner, tmp_path):
    _pg_dump_needed()
    for number in range(1, 6):
        store_order(f"PG-{number:03d}")
    backup = tmp_path / "callback.dump"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert "pg_dump -Fc" in result.output

    url = db.engine.url
    scratch = f"cb_restore_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{scratch}"')
    try:
        # The documented restore command (docs/operations.md).
        restore = subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={scratch}", str(backup)],
            env=pg_environment(url.set(database=scratch)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert restore.returncode == 0, restore.stderr
        restored = url.set(drivername="postgresql", database=scratch).render_as_string(hide_password=False)
        with psycopg.connect(restored) as connection:
            orders = [row[0] for row in connection.execute("SELECT order_no FROM work_orders ORDER BY 1")]
            tasks = connection.execute("SELECT count(*) FROM callback_tasks").fetchone()[0]
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    assert orders == [f"PG-{number:03d}" for number in range(1, 6)]
    assert tasks == 5
