"""REST API v1 (contract 4): JSON in and out, bearer tokens, the contract's error shape."""

# The modules' routes register on bp when they are imported.
from callback.web.api import audit, cases, description, donotcall, orders, reports, tasks  # noqa: F401
from callback.web.api.blueprint import bp

__all__ = ["bp"]
