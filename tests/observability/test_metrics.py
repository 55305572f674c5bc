"""GET /metrics: Prometheus text with the queue, the calls, the dialers, the cases and request latency."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from callback.extensions import db
from callback.models import CallbackTask
from callback.settings import current_settings
from callback.telephony.heartbeat import beat
from tests.conftest import TEST_NOW, make_app
from tests.factories import order_payload
from tests.telephony.helpers import store_connected_orders


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse the exposition into {(sample name, sorted labels): value}."""
    assert response.status_code == 200, response.text
    assert response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.fixture
def metrics_app(app):
    app.config["METRICS_ENABLED"] = True
    return app


def test_metrics_are_404_unless_enabled(client):
    assert client.get("/metrics").status_code == 404


def test_the_queue_calls_dialers_and_cases_are_counted_at_scrape_time(metrics_app, api_headers):
    client = metrics_app.test_client()
    integration, operator, supervisor = (
        api_headers("integration"),
        api_headers("operator"),
        api_headers("supervisor"),
    )
    for number in range(1, 4):
        client.put(f"/api/v1/work-orders/M-{number}", json=order_payload(f"M-{number}"), headers=integration)
    task = client.post("/api/v1/tasks/claim", headers=operator).json
    client.post(f"/api/v1/tasks/{task['id']}/attempts", json={"disposition": "busy"}, headers=operator)
    client.post("/api/v1/tasks/claim", headers=operator)  # holds a second one
    client.post(
        "/api/v1/cases", json={"order_no": "M-3", "category": "other", "description": "d"}, headers=supervisor
    )
    store_connected_orders(current_settings(), "M-AUTO")  # a completion task for the dialer, due since 10:00
    beat(db.session, "host-a:1", started_at=TEST_NOW, now=TEST_NOW - timedelta(seconds=42), calls_in_flight=3)
    db.session.commit()

    figures = samples(client.get("/metrics"))
    assert figures[("callback_database_up", ())] == 1
    # M-1 waits to be retried after "busy", M-3 was never claimed, M-AUTO's intake callback is new.
    assert figures[("callback_tasks", (("channel", "operator"), ("kind", "intake"), ("state", "open")))] == 3
    assert (
        figures[("callback_tasks", (("channel", "operator"), ("kind", "intake"), ("state", "claimed")))] == 1
    )
    assert figures[("callback_tasks_workable", (("channel", "auto"),))] == 1
    assert figures[("callback_claims", (("expired", "false"),))] == 1
    assert figures[("callback_claims", (("expired", "true"),))] == 0
    assert figures[("callback_call_attempts_total", (("channel", "operator"), ("disposition", "busy")))] == 1
    assert figures[("callback_calls_in_flight", ())] == 0
    assert figures[("callback_calling_hours_open", ())] == 1
    assert figures[("callback_dialer_seconds_since_last_pass", (("dialer", "host-a:1"),))] == 42
    assert figures[("callback_dialer_calls_in_flight", (("dialer", "host-a:1"),))] == 3
    assert figures[("callback_cases", (("state", "open"),))] == 1
    assert figures[("callback_cases_overdue", ())] == 0
    # The completion task became workable at its not_before; the lag is how long it has waited.
    not_before = db.session.query(CallbackTask.not_before).filter(CallbackTask.channel == "auto").scalar()
    lag = figures[("callback_dialer_lag_seconds", ())]
    assert lag == (TEST_NOW - not_before).total_seconds()


def test_request_latency_is_a_histogram_by_endpoint(metrics_app):
    client = metrics_app.test_client()
    client.get("/login")
    client.get("/login")
    client.get("/no/such/page")
    figures = samples(client.get("/metrics"))
    login = (("endpoint", "auth.login"), ("method", "GET"), ("status", "200"))
    assert figures[("callback_http_request_duration_seconds_count", login)] == 2
    assert (
        figures[("callback_http_request_duration_seconds_bucket", (*login[:1], ("le", "+Inf"), *login[1:]))]
        == 2
    )
    unmatched = (("endpoint", "unmatched"), ("method", "GET"), ("status", "404"))
    assert figures[("callback_http_request_duration_seconds_count", unmatched)] == 1


def test_metrics_say_the_database_is_down_instead_of_failing(tmp_path, monkeypatch):
    app = make_app(
        tmp_path, monkeypatch, METRICS_ENABLED=True, SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent/x.sqlite"
    )
    figures = samples(app.test_client().get("/metrics"))
    assert figures[("callback_database_up", ())] == 0


def test_multiprocess_mode_adds_up_the_workers_latencies(tmp_path):
    """Two processes (as two gunicorn workers) each answer a request; a third scrapes both."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "CALLBACK_INSTANCE_PATH": str(tmp_path / "i"),
    }
    env["CALLBACK_METRICS_ENABLED"] = "true"
    env["CALLBACK_SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'm.sqlite'}"
    script = textwrap.dedent(
        """
        import sys
        from callback import create_app
        app = create_app()
        client = app.test_client()
        if sys.argv[1] == "serve":
            client.get("/login")
        else:
            sys.stdout.write(client.get("/metrics").text)
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script, "serve"], env=env, check=True, timeout=120)
    scraped = subprocess.run(
        [sys.executable, "-c", script, "scrape"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    counts = [
        sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "callback_http_request_duration_seconds_count"
        and sample.labels.get("endpoint") == "auth.login"
    ]
    assert counts == [2]
