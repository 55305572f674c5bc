"""deploy/gunicorn.conf.py: sizes from the environment, defaults for 2–8 cores, bad values stop it."""

import runpy

import pytest

from callback import PROJECT_ROOT

CONF = str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py")


def load(monkeypatch, cores: int, **environment: str) -> dict:
    for name in (
        "GUNICORN_WORKERS",
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
        "GUNICORN_TIMEOUT",
        "GUNICORN_GRACEFUL_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    return runpy.run_path(CONF)


@pytest.mark.parametrize(("cores", "workers"), [(1, 2), (2, 3), (4, 5), (8, 9), (32, 9)])
def test_default_workers_follow_the_cores(monkeypatch, cores, workers):
    conf = load(monkeypatch, cores)
    assert conf["workers"] == workers
    assert conf["threads"] == 4
    assert conf["worker_class"] == "gthread"


def test_environment_sets_workers_threads_and_timeout(monkeypatch):
    conf = load(monkeypatch, 2, GUNICORN_WORKERS="6", GUNICORN_THREADS="8", GUNICORN_TIMEOUT="300")
    assert (conf["workers"], conf["threads"], conf["timeout"]) == (6, 8, 300)
    assert load(monkeypatch, 2, WEB_CONCURRENCY="7")["workers"] == 7


def test_graceful_restarts_and_worker_recycling(monkeypatch):
    conf = load(monkeypatch, 2)
    # A recycled or reloaded worker lets a million-row export in flight finish (minutes, bench_exports.py).
    assert conf["graceful_timeout"] >= 600
    assert load(monkeypatch, 2, GUNICORN_GRACEFUL_TIMEOUT="45")["graceful_timeout"] == 45
    assert conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    assert conf["accesslog"] == "-"


@pytest.mark.parametrize("value", ["many", "0", "-2"])
def test_a_bad_size_stops_gunicorn_with_a_clear_message(monkeypatch, value):
    with pytest.raises(SystemExit) as stopped:
        load(monkeypatch, 2, GUNICORN_WORKERS=value)
    assert "GUNICORN_WORKERS" in str(stopped.value)
