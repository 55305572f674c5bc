"""REST API v1 (contract 4): JSON in and out, bearer tokens, the contract's error shape."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from callback.web.api import audit, cases, donotcall, orders, reports, tasks  # noqa: E402, F401  (routes register on bp)
