"""tick-loop: tick again and again until stopped; a failed pass is reported and retried, never the end."""

import os
import signal
import subprocess
import sys

from callback import PROJECT_ROOT
from tests.deploy.stack import log_lines


def test_tick_loop_reports_a_failed_pass_retries_and_stops_cleanly_on_sigterm(tmp_path):
    log = tmp_path / "tick-loop.log"
    env = {
        **os.environ,
        "CALLBACK_INSTANCE_PATH": str(tmp_path / "instance"),
        "CALLBACK_SECRET_KEY": "tick-loop",
        # A database that cannot be opened: its folder does not exist.
        "CALLBACK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'callback.sqlite'}",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as output:
        loop = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "callback", "tick-loop", "--every", "1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        failures = log_lines(log, "failed (", more_than=1, seconds=60)
        assert loop.poll() is None, log.read_text()  # still running after two failed passes
    finally:
        loop.send_signal(signal.SIGTERM)
        code = loop.wait(timeout=30)
    assert code == 0
    assert "tick-loop: pass 1 failed (cannot reach the database); trying again in 1 s" in failures[0]
    assert "tick: cannot reach the database (unable to open database file)" in log.read_text()
    assert "pass 2 failed" in failures[1]
