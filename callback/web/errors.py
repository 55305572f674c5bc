"""Error responses: the contract's JSON shape under /api, friendly pages elsewhere."""

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import gettext as _
from flask_login import current_user, login_url
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response as BaseResponse

log = logging.getLogger(__name__)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


class ApiError(HTTPException):
    """An API failure with the contract's error body."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.details = details or []


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Build the contract's error object."""
    return {"error": {"code": code, "message": message, "details": details or []}}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def handle_http_error(error: HTTPException) -> tuple[Response | str, int]:
    """Answer an HTTP error as JSON under /api, as a page elsewhere."""
    status = error.code or 500
    if _wants_json():
        if isinstance(error, ApiError):
            body = error_body(error.error_code, str(error.description), error.details)
        else:
            body = error_body(ERROR_CODES.get(status, "error"), _describe(status, error))
        response = jsonify(body)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        allowed = getattr(error, "valid_methods", None)
        if status == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response, status
    return (
        render_template("error.html", status=status, title=_title(status), message=_describe(status, error)),
        status,
    )


def _title(status: int) -> str:
    """Name an error page in words: what happened, not its code."""
    titles = {
        400: _("The request could not be understood"),
        403: _("You may not open this page"),
        404: _("Page not found"),
        405: _("This action is not possible here"),
        409: _("This has changed in the meantime"),
        413: _("Too much at once"),
        415: _("This page takes form data"),
        422: _("Some input needs correcting"),
        429: _("Too many tries"),
        500: _("Something went wrong on our side"),
    }
    return titles.get(status, _("Something went wrong"))


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    """Log an unexpected failure and answer without leaking internals."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return handle_http_error(InternalServerError())


def _describe(status: int, error: HTTPException) -> str:
    messages = {
        400: _("The request is malformed."),
        401: _("Authentication is required: send Authorization: Bearer <token>."),
        403: _("Your role may not do this."),
        404: _("Nothing was found at this address."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        415: _("Send JSON with Content-Type: application/json.")
        if _wants_json()
        else _("This page takes form data, not JSON."),
        409: _("Someone or something changed this meanwhile; reload the page to see where it stands."),
        422: _("Some of what was sent is not valid; go back, correct it and send it again."),
        429: _("Wait a moment before trying again."),
        500: _("An unexpected error occurred; it has been logged."),
    }
    return messages.get(status, str(error.description or error.name))


def return_url() -> str:
    """Return the local page the user was on (the form's page), to come back to after signing in."""
    referrer = urlsplit(request.referrer or "")
    local = referrer.path.startswith("/") and not referrer.path.startswith("//")
    if referrer.netloc == request.host and local:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return request.full_path.rstrip("?") if request.method == "GET" else "/"


def handle_csrf_error(error: CSRFError) -> tuple[Response | str, int] | BaseResponse:
    """Answer a form whose CSRF token expired with the way back, never a bare 400 page.

    A signed-out user (the session ended while the form was open) is sent to sign in and then back to the
    form's page, where the browser's draft fills the form again (static/forms.js); a signed-in user whose
    token expired goes straight back to the form. Nothing was saved either way, and the message says so.
    """
    if _wants_json() or request.path.startswith("/twilio/"):
        return handle_http_error(error)
    back = return_url()
    if request.endpoint == "auth.login":  # the sign-in form itself was stale: show it afresh, same next
        flash(_("The form had expired, so nothing was saved: check it and send it again."), "warning")
        return redirect(request.full_path.rstrip("?"))
    if current_user.is_authenticated:
        flash(_("The form had expired, so nothing was saved: check it and send it again."), "warning")
        return redirect(back)
    message = _("Your session ended, so nothing was saved: sign in again to carry on where you left off.")
    flash(message, "warning")
    return redirect(login_url("auth.login", next_url=back))


def favicon() -> Response:
    """Serve the site's icon where browsers look for it."""
    static = Path(current_app.static_folder or "static")
    return send_from_directory(static, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


def refuse_json_to_pages() -> None:
    """Answer 415 to a JSON body sent to a page: its forms take form data (Flask-WTF would read the JSON)."""
    api_or_webhook = request.path.startswith(("/api/", "/twilio/", "/aliyun/"))
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json and not api_or_webhook:
        abort(415)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.before_request(refuse_json_to_pages)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_template_global(_title, "error_title")
    app.register_error_handler(Exception, handle_unexpected)
