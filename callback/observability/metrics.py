"""GET /metrics: Prometheus text, off unless METRICS_ENABLED.

Two kinds of figures:
- the request latency histogram, observed in each web process (with PROMETHEUS_MULTIPROC_DIR set, as under
  gunicorn, every worker writes its own file in that folder and a scrape adds them up);
- the state of the work, counted from the database at scrape time with grouped counts over indexed columns,
  so every process answers the same and nothing is lost when one restarts.
"""

import os
import time
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callback.clock import utcnow
from callback.extensions import csrf, db
from callback.models import (
    ENDED_CASE_STATES,
    CallAttempt,
    CallbackTask,
    DialerHeartbeat,
    SupervisionCase,
    TaskChannel,
    TaskState,
)
from callback.observability.database_errors import is_unavailable, quiet_rollback
from callback.settings import Settings, current_settings
from callback.worklist import workable_condition

bp = Blueprint("metrics", __name__)
EXTENSION = "callback.metrics"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _latency_histogram() -> Histogram:
    # Not in the global registry: each app (tests make many) has its own, added to the scrape's registry.
    return Histogram(
        "callback_http_request_duration_seconds",
        "Time to answer an HTTP request (to the first byte of a streamed download), by endpoint.",
        ["endpoint", "method", "status"],
        buckets=LATENCY_BUCKETS,
        registry=None,
    )


def start_timer() -> None:
    if current_app.config.get("METRICS_ENABLED"):
        g.metrics_started = time.perf_counter()


def observe_latency(response: Response) -> Response:
    """Add the request's duration to the histogram, labelled by endpoint (not path: bounded labels)."""
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        current_app.extensions[EXTENSION].labels(endpoint, method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


class WorkCollector(Collector):
    """Count the queue, the calls and the cases in the database when scraped."""

    def __init__(self, session: Session, settings: Settings, now: datetime) -> None:
        self.session = session
        self.settings = settings
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("callback_database_up", "1 when the database answered this scrape, else 0.")
        try:
            metrics = list(self._work())
        except SQLAlchemyError as error:
            if not is_unavailable(error):
                raise  # a bug in a query, not an outage: let it be a logged 500
            metrics = None
        quiet_rollback(self.session)
        up.add_metric([], 0 if metrics is None else 1)
        yield up
        yield from metrics or []

    def _work(self) -> Iterator[Metric]:
        session, now = self.session, self.now
        tasks = GaugeMetricFamily(
            "callback_tasks",
            "Callback tasks by kind, state and channel.",
            labels=["kind", "state", "channel"],
        )
        for kind, state, channel, count in session.execute(
            select(CallbackTask.kind, CallbackTask.state, CallbackTask.channel, func.count()).group_by(
                CallbackTask.kind, CallbackTask.state, CallbackTask.channel
            )
        ):
            tasks.add_metric([kind, state, channel], count)
        yield tasks

        workable = GaugeMetricFamily(
            "callback_tasks_workable",
            "Open tasks whose time has come (the queue operators and dialers work), by channel.",
            labels=["channel"],
        )
        for channel in TaskChannel:
            workable.add_metric(
                [channel.value],
                session.scalar(
                    select(func.count()).select_from(CallbackTask).where(*workable_condition(now, channel))
                )
                or 0,
            )
        yield workable

        claimed = CallbackTask.state == TaskState.CLAIMED.value
        expired = session.scalar(
            select(func.count()).select_from(CallbackTask).where(claimed, CallbackTask.lease_expires_at < now)
        )
        held = session.scalar(select(func.count()).select_from(CallbackTask).where(claimed))
        claims = GaugeMetricFamily(
            "callback_claims",
            "Tasks claimed by operators; expired=true are leases past their end that tick has not returned.",
            labels=["expired"],
        )
        claims.add_metric(["false"], (held or 0) - (expired or 0))
        claims.add_metric(["true"], expired or 0)
        yield claims

        attempts = CounterMetricFamily(
            "callback_call_attempts",
            "Calls that ended, by channel and disposition (counted from the database).",
            labels=["channel", "disposition"],
        )
        for channel, disposition, count in session.execute(
            select(CallAttempt.channel, CallAttempt.disposition, func.count())
            .where(CallAttempt.disposition.is_not(None))
            .group_by(CallAttempt.channel, CallAttempt.disposition)
        ):
            attempts.add_metric([channel, str(disposition)], count)  # never None: see the where
        yield attempts

        in_flight = session.scalar(
            select(func.count())
            .select_from(CallbackTask)
            .where(CallbackTask.state == TaskState.DIALING.value)
        )
        yield GaugeMetricFamily(
            "callback_calls_in_flight", "Automated calls placed and not yet ended.", value=in_flight or 0
        )

        oldest = session.scalar(
            select(func.min(CallbackTask.not_before)).where(*workable_condition(now, TaskChannel.AUTO))
        )
        lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "callback_dialer_lag_seconds",
            "How long the oldest workable automated task has waited (0 when none waits). Outside calling "
            "hours it grows by design: alert on it only while callback_calling_hours_open is 1.",
            value=lag,
        )
        yield GaugeMetricFamily(
            "callback_calling_hours_open",
            "1 while customers may be called (CALLING_HOURS), else 0.",
            value=1 if self.settings.calling_hours.contains(now, self.settings.tz) else 0,
        )

        since = GaugeMetricFamily(
            "callback_dialer_seconds_since_last_pass",
            "Seconds since each dialer last finished a pass (its heartbeat).",
            labels=["dialer"],
        )
        dialer_calls = GaugeMetricFamily(
            "callback_dialer_calls_in_flight", "Calls in flight per dialer.", labels=["dialer"]
        )
        for name, last_pass_at, calls in session.execute(
            select(DialerHeartbeat.name, DialerHeartbeat.last_pass_at, DialerHeartbeat.calls_in_flight)
        ):
            since.add_metric([name], max(0.0, (now - last_pass_at).total_seconds()))
            dialer_calls.add_metric([name], calls)
        yield since
        yield dialer_calls

        cases = GaugeMetricFamily("callback_cases", "Supervision cases by state.", labels=["state"])
        for state, count in session.execute(
            select(SupervisionCase.state, func.count()).group_by(SupervisionCase.state)
        ):
            cases.add_metric([state], count)
        yield cases
        overdue = session.scalar(
            select(func.count())
            .select_from(SupervisionCase)
            .where(
                SupervisionCase.state.not_in([state.value for state in ENDED_CASE_STATES]),
                SupervisionCase.due_at < now,
            )
        )
        yield GaugeMetricFamily(
            "callback_cases_overdue",
            "Cases still open past their SLA (CASE_SLA_WORKDAYS).",
            value=overdue or 0,
        )


def scrape_registry(app: Flask) -> CollectorRegistry:
    """Gather the latency histogram (every worker's, in multiprocess mode) and the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(app.extensions[EXTENSION])
    registry.register(WorkCollector(db.session, current_settings(), utcnow()))
    return registry


@bp.get("/metrics")
def metrics() -> Response:
    """Answer the Prometheus text format (404 unless METRICS_ENABLED)."""
    if not current_app.config.get("METRICS_ENABLED"):
        abort(404)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return Response(generate_latest(scrape_registry(app)), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Mount /metrics (no sign-in) and time every request when metrics are on."""
    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.extensions[EXTENSION] = _latency_histogram()
    app.before_request(start_timer)
    app.after_request(observe_latency)
