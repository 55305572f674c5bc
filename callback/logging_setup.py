"""Logging for the web app, the CLI commands and the dialer: one format, a request id, nothing personal.

`configure_logging` installs one handler on the root logger through `logging.config.dictConfig`: text lines
(`2026-11-27T02:00:00.123+00:00 INFO callback.telephony.dialer [req=… user=7] message`) or one JSON object a
line (`LOG_FORMAT=json`), with ISO 8601 UTC times. Both formatters pass their output through `redact`, a
safety net that blanks phone numbers, bearer and API tokens and password-like values even if a message or a
traceback carries them. It works on the formatted text, not as a filter that rewrites the record: the
record stays as logged, so tests/test_logging.py (which reads the records) still sees a leak and fails on
it. The code itself never logs these values.
"""

import logging
import logging.config
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import pythonjsonlogger.json
from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect as sa_inspect

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REQUEST_ID_HEADER = "X-Request-ID"
# An incoming request id is kept when it is short and plain (a proxy's or a client's correlation id).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(user_id)s] %(message)s"
# Libraries whose DEBUG/INFO lines carry SQL parameters or request bodies (phone numbers): WARNING at least.
QUIET_LOGGERS = ("sqlalchemy", "twilio.http_client", "urllib3", "alembic.runtime.migration")

_REDACTIONS = (
    # Authorization headers and our API tokens ("cb_" + 43 URL-safe characters).
    (re.compile(r"(?i)\bbearer\s+[^\s\"',;]+"), "Bearer " + REDACTED),
    (re.compile(r"\bcb_[A-Za-z0-9_-]{16,}"), REDACTED),
    # password=…, "token": "…", secret: … (also Twilio's AuthToken).
    (
        re.compile(
            r"(?i)(\b(?:password|passwd|auth_?token|token|secret)\b[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
        ),
        r"\1" + REDACTED,
    ),
    # Phone numbers: E.164, mainland mobiles (with or without 86), landlines with an area code.
    (re.compile(r"\+\d{7,15}(?!\d)"), REDACTED),
    (re.compile(r"(?<!\d)(?:86)?1[3-9]\d{9}(?!\d)"), REDACTED),
    (re.compile(r"(?<![\d-])0\d{2,3}-?\d{7,8}(?![\d-])"), REDACTED),
)


def redact(text: str) -> str:
    """Blank phone numbers, tokens and password-like values in a text."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Add `request_id` and `user_id` to every record ("-" outside a request or when nobody signed in)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.user_id = "-", "-"
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            record.user_id = _user_id()
        return True


def _user_id() -> str:
    """Return the id of the request's user without a database query: API token user, else the signed-in one.

    Never the session cookie's `_user_id`: it holds the server-side session's secret, a credential.
    """
    api_user = g.get("api_user")
    if api_user is not None:
        return str(api_user.id)
    user = g.get("_login_user")  # Flask-Login's user of this request, once loaded
    # The primary key from the identity map: reading an attribute could load it (a query, in a log call).
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    identity = getattr(state, "identity", None)
    return str(identity[0]) if identity else "-"


class TextFormatter(logging.Formatter):
    """Text lines with ISO 8601 UTC times to the millisecond, redacted."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    """One JSON object a line, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class StderrHandler(logging.StreamHandler[Any]):
    """Write to whatever `sys.stderr` is at the moment (test runners swap it)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)

    @property
    def stream(self) -> Any:
        return sys.stderr


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    """Return the dictConfig for a level and a format (text or json)."""
    formatter: dict[str, Any] = (
        {
            "()": JsonFormatter,
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
        if fmt == "json"
        else {"()": TextFormatter, "fmt": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"callback": formatter},
        "handlers": {"callback": {"()": StderrHandler, "formatter": "callback", "filters": ["context"]}},
        "loggers": {name: {"level": "WARNING"} for name in QUIET_LOGGERS},
        "root": {"level": level, "handlers": ["callback"]},
    }


def configure_logging(level: str, fmt: str) -> None:
    """Install the handler on the root logger, keeping handlers others installed there (pytest's, say)."""
    root = logging.getLogger()
    foreign = [handler for handler in root.handlers if not isinstance(handler, StderrHandler)]
    logging.config.dictConfig(logging_config(level, fmt))
    for handler in foreign:
        root.addHandler(handler)


def assign_request_id() -> None:
    """Take the caller's X-Request-ID when it is sane, else make one."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def return_request_id(response: Response) -> Response:
    """Send the request id back, so a user's report can be matched to the log lines."""
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or uuid.uuid4().hex
    return response


def register_logging(app: Flask) -> None:
    """Configure logging from LOG_LEVEL and LOG_FORMAT and give every request an id."""
    configure_logging(str(app.config["LOG_LEVEL"]).upper(), str(app.config["LOG_FORMAT"]).lower())
    # A database error's message carries the statement, never the row's values (phone numbers), even when an
    # instance sets its own engine options (it may still set hide_parameters to False on purpose).
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True, **options}
    app.before_request(assign_request_id)
    app.after_request(return_request_id)
