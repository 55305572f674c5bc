"""What an ops team watches: logs (callback.logging_setup), /healthz, /metrics, the answer during a database
outage, the dialers' page, and static files served compressed with long cache lifetimes."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the health check, the metrics, the outage handler, the dialers' page and the static files."""
    from callback.observability import health, metrics, outage, static_files
    from callback.web import ops

    outage.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(ops.bp)
    static_files.init_app(app)
