"""The demo's processes on one SQLite file: web, dialer and tick together, never "database is locked"."""

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade

from callback import PROJECT_ROOT, create_app
from callback.extensions import db
from callback.users import create_api_token, create_user
from tests.conftest import POSTGRES_URL
from tests.deploy.stack import free_port, log_lines, start_gunicorn, stop
from tests.factories import order_payload

pytestmark = pytest.mark.skipif(POSTGRES_URL is not None, reason="about SQLite: runs in the SQLite pass")

ORDERS = 12  # pushed while the dialer and tick write the same file: a count, not a time window
TROUBLE = ("database is locked", "Traceback", "OperationalError", "failed")


def connected_order(order_no: str, now: datetime) -> dict:
    """An order connected a day ago (real clock): its completion callback goes to the dialer."""
    moment = lambda days: (now - timedelta(days=days)).isoformat(timespec="seconds")  # noqa: E731
    return order_payload(
        order_no,
        status="connected",
        accepted_at=moment(4),
        surveyed_at=moment(3),
        connected_at=moment(1),
        due_at=(now + timedelta(days=6)).isoformat(timespec="seconds"),
    )


def put_order(port: int, token: str, order: dict) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/work-orders/{order['order_no']}",
        data=json.dumps(order).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (our own local server)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_for_finished_call(database: Path, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sqlite3.connect(database, timeout=30) as connection:
            (calls,) = connection.execute(
                "SELECT count(*) FROM call_attempts WHERE channel = 'auto' AND disposition IS NOT NULL"
            ).fetchone()
        if calls:
            return
        time.sleep(0.2)


def test_web_dialer_and_tick_share_one_sqlite_file_without_locking_errors(tmp_path, monkeypatch):
    environment = {
        "CALLBACK_INSTANCE_PATH": str(tmp_path / "instance"),
        "CALLBACK_SECRET_KEY": "processes-secret",
        "CALLBACK_CALLING_HOURS": "00:00-24:00",
        "CALLBACK_DIALER_CALLS_PER_SECOND": "20",
        "CALLBACK_DIALER_IDLE_SECONDS": "0.2",
        "CALLBACK_SIMULATION_SEED": "7",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CALLBACK_SQLALCHEMY_DATABASE_URI", raising=False)
    app = create_app()
    with app.app_context():
        upgrade()
        user = create_user(db.session, "marketing", "integration", None, now=datetime.now(UTC))
        token = create_api_token(db.session, user, now=datetime.now(UTC))
        db.session.commit()
        database = Path(str(db.engine.url.database))
        db.session.remove()
        db.engine.dispose()

    port = free_port()
    web, web_log = start_gunicorn(tmp_path, port, {**environment, "GUNICORN_WORKERS": "2"})
    flask = [sys.executable, "-m", "flask", "--app", "callback"]
    env = {**os.environ, **environment, "PYTHONUNBUFFERED": "1"}
    dialer_log, tick_log = tmp_path / "dialer.log", tmp_path / "tick.log"
    with dialer_log.open("wb") as dialer_out, tick_log.open("wb") as tick_out:
        dialer = subprocess.Popen(
            [*flask, "dialer"], cwd=PROJECT_ROOT, env=env, stdout=dialer_out, stderr=subprocess.STDOUT
        )
        tick = subprocess.Popen(
            [*flask, "tick-loop", "--every", "1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=tick_out,
            stderr=subprocess.STDOUT,
        )
    statuses: list[int] = []
    try:
        # All three at work before the orders arrive (each takes a moment to import the app).
        log_lines(dialer_log, "dialer running", seconds=60)
        log_lines(tick_log, "tick-loop: pass 1 done", seconds=60)
        now = datetime.now(UTC)
        for number in range(1, ORDERS + 1):
            statuses.append(put_order(port, token, connected_order(f"WAL-{number:04d}", now)))
            statuses.append(get(port, "/login"))
        # Keep all three writing until tick has passed again and again and the dialer has finished a call
        # (each wait is a hang guard, not a measure: a loaded machine only makes them take longer).
        log_lines(tick_log, "tick-loop: pass", more_than=3, seconds=120)
        wait_for_finished_call(database, seconds=120)
    finally:
        for process in (dialer, tick, web):
            stop(process)

    logs = {
        name: log.read_text() for name, log in (("web", web_log), ("dialer", dialer_log), ("tick", tick_log))
    }
    for name, text in logs.items():
        trouble = [line for line in text.splitlines() if any(word in line for word in TROUBLE)]
        assert trouble == [], f"{name}:\n{text}"
    assert set(statuses) == {200}
    assert logs["tick"].count("tick-loop: pass") >= 3  # tick ran again and again
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        (calls,) = connection.execute(
            "SELECT count(*) FROM call_attempts WHERE channel = 'auto' AND disposition IS NOT NULL"
        ).fetchone()
        (orders,) = connection.execute("SELECT count(*) FROM work_orders").fetchone()
    assert orders == ORDERS
    assert calls > 0  # the dialer called customers while orders arrived


def test_every_sqlite_connection_of_the_app_waits_for_a_writer_instead_of_failing(tmp_path, monkeypatch):
    from sqlalchemy import text

    from tests.conftest import make_app

    app = make_app(tmp_path, monkeypatch, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'demo.sqlite'}")
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        db.engine.dispose()
