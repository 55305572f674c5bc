"""Reports, the dashboard and exports (issue 6)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
