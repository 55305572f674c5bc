"""GET /healthz: is this web process able to serve? For load balancers and monitoring, no sign-in."""

import logging
from datetime import datetime
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callback.clock import utcnow
from callback.extensions import csrf, db
from callback.observability.database_errors import first_line, quiet_rollback
from callback.settings import current_settings
from callback.telephony.heartbeat import heartbeats

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@cache
def script_heads(directory: str) -> frozenset[str]:
    """Return the head revisions of the migration scripts shipped with this code."""
    return frozenset(ScriptDirectory(directory).get_heads())


def migration_state(connection: Connection, directory: str) -> str:
    """Compare the database's alembic_version with the scripts: head, behind, ahead or none."""
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    heads = script_heads(directory)
    if current == heads:
        return "head"
    if not current:
        return "none"  # never migrated: `flask --app callback db upgrade`
    script = ScriptDirectory(directory)
    known = all(_is_known(script, revision) for revision in current)
    return "behind" if known else "ahead"  # ahead: a newer release migrated it


def _is_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:
        return False


def dialer_rows(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Describe each dialer's heartbeat: name, start, last pass, seconds since it, calls in flight."""
    tz = current_settings().tz
    return [
        {
            "name": row.name,
            "started_at": row.started_at.astimezone(tz).isoformat(),
            "last_pass_at": row.last_pass_at.astimezone(tz).isoformat(),
            "seconds_since_last_pass": max(0, round((now - row.last_pass_at).total_seconds())),
            "calls_in_flight": row.calls_in_flight,
        }
        for row in heartbeats(session)
    ]


@bp.get("/healthz")
def healthz() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    """Answer 200 when the database answers and its schema is at head; 503 otherwise, saying which."""
    directory = current_app.extensions["migrate"].directory
    body: dict[str, Any] = {"status": "ok", "database": "ok", "migrations": "head", "dialers": []}
    try:
        connection = db.session.connection()
        connection.execute(text("SELECT 1"))
        body["migrations"] = migration_state(connection, directory)
        if body["migrations"] == "head":
            body["dialers"] = dialer_rows(db.session, utcnow())
        db.session.rollback()
    except SQLAlchemyError as error:
        log.warning("health check: the database cannot be reached: %s", first_line(error))
        quiet_rollback(db.session)
        body.update(status="unavailable", database="unreachable", migrations="unknown")
    else:
        if body["migrations"] == "head":
            return jsonify(body), 200
        body["status"] = "unavailable"
    return jsonify(body), 503, {"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])}


def init_app(app: Flask) -> None:
    """Mount /healthz: no sign-in, no CSRF."""
    app.register_blueprint(bp)
    csrf.exempt(bp)
