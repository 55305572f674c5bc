"""The load test's users (bench/load/locustfile.py) walk their real flows once against the app, error-free.

`make load` itself is long and needs PostgreSQL; this runs the same locustfile for a few seconds, headless,
against the app served on a free loopback port over a fresh SQLite file seeded by bench/load/seed.py, so a
change to the login form, the operator's screens or the API that breaks the load test fails here first.
"""

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOAD = ROOT / "bench" / "load"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer")


def test_every_user_of_the_load_test_walks_its_flow_without_a_failure(tmp_path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CALLBACK_")},
        "CALLBACK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'load.sqlite'}",
        "CALLBACK_INSTANCE_PATH": str(tmp_path / "instance"),
        "CALLBACK_SECRET_KEY": "load-flow-test",
        "CALLBACK_CALLING_HOURS": "00:00-24:00",
        "CALLBACK_LOG_LEVEL": "WARNING",
        "LOAD_OPERATORS": "2",
        "LOAD_SUPERVISORS": "1",
        "LOAD_INTEGRATION_USERS": "1",
        "LOAD_SEEDED_ORDERS": "300",
        "LOAD_THINK_SCALE": "0.05",
    }
    flask = [str(BIN / "flask"), "--app", "callback"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    seeded = subprocess.run(
        [sys.executable, str(LOAD / "seed.py"), "--orders", "300", "--operators", "2", "--supervisors", "1"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    token = json.loads(seeded.stdout.strip().splitlines()[-1])["token"]
    port = free_port()
    server = subprocess.Popen(
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        locust = subprocess.run(
            [str(BIN / "locust"), "-f", str(LOAD / "locustfile.py"), "--headless", "-u", "4", "-r", "4",
             "--run-time", "12s", "--host", f"http://127.0.0.1:{port}", "--csv", str(tmp_path / "walk"),
             "--only-summary", "--stop-timeout", "10"],
            env={**env, "LOAD_TOKEN": token}, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)

    with open(tmp_path / "walk_stats.csv", newline="", encoding="utf-8") as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    assert stats["Aggregated"]["Failure Count"] == "0", locust.stderr[-3000:]
    walked = {name for name, row in stats.items() if int(row["Request Count"]) > 0}
    assert {
        "/login (sign in)",
        "/operator/next (claim)",
        "/operator/tasks/[id] (call screen)",
        "/operator/tasks/[id]/attempts (save)",
        "/operator/attempts/[id] (result)",
        "/api/v1/work-orders/[no] (new)",
        "/cases/ (list)",
        "/reports/ (dashboard)",
    } <= walked, sorted(walked)
