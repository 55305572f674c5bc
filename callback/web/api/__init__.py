"""REST API v1 (contract 4): JSON in and out, bearer tokens, the contract's error shape."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The modules' routes register on bp.
from callback.web.api import audit, cases, description, donotcall, orders, reports, tasks  # noqa: E402, F401
