"""Error responses: the contract's JSON shape under /api, friendly pages elsewhere."""

import logging
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

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
    return render_template("error.html", status=status, message=_describe(status, error)), status


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
        500: _("An unexpected error occurred; it has been logged."),
    }
    return messages.get(status, str(error.description or error.name))


def refuse_json_to_pages() -> None:
    """Answer 415 to a JSON body sent to a page: its forms take form data (Flask-WTF would read the JSON)."""
    api_or_webhook = request.path.startswith(("/api/", "/twilio/", "/aliyun/"))
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json and not api_or_webhook:
        abort(415)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.before_request(refuse_json_to_pages)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
