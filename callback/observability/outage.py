"""While the database cannot be reached: 503 with Retry-After and a sentence in the user's language."""

import logging

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from callback.extensions import db, login_manager
from callback.observability.database_errors import UNAVAILABLE_ERRORS, first_line, quiet_rollback
from callback.web.errors import error_body

log = logging.getLogger(__name__)
# Endpoints that answer without a signed-in user, and must keep answering during an outage.
SKIP_USER_LOOKUP = frozenset({"health.healthz", "metrics.metrics", "static"})

def handle_database_unavailable(error: SQLAlchemyError) -> tuple[Response | str, int, dict[str, str]]:
    """Answer 503 with Retry-After: the contract's JSON error under /api, a page elsewhere."""
    log.warning(
        "database unavailable on %s %s: %s: %s",
        request.method,
        request.path,
        type(error).__name__,
        first_line(error),
    )
    quiet_rollback(db.session)
    # The error page shows the menu for the signed-in user: do not ask the database who that is.
    g._login_user = login_manager.anonymous_user()
    headers = {"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])}
    message = _("The database cannot be reached right now; please try again in a minute.")
    if request.path.startswith("/api/"):
        return jsonify(error_body("database_unavailable", message)), 503, headers
    return render_template("error.html", status=503, message=message), 503, headers


def load_user_first() -> None:
    """Look up the signed-in user before anything else, so an outage is met here with a 503.

    Otherwise the first lookup could come from drawing an error page (a 404's menu), which would fail again.
    """
    if request.endpoint not in SKIP_USER_LOOKUP:
        current_user.is_authenticated  # noqa: B018  (the lookup is the point)


def init_app(app: Flask) -> None:
    """Register the outage handler for the database errors that mean "unreachable"."""
    app.before_request(load_user_first)
    for error_class in UNAVAILABLE_ERRORS:
        app.register_error_handler(error_class, handle_database_unavailable)
