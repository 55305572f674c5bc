"""Supervisor workspace: cases, evidence, transitions, letters, penalties, referrals (issue 4)."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")
