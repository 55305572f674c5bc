"""Operator workspace: the callback queue, the call screen and the questionnaire (issue 3)."""

from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/operator")
