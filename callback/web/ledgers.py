"""The three ledgers: 先接入后改造, 系统流程在途, 预推进工程 (issue 4)."""

from flask import Blueprint

bp = Blueprint("ledgers", __name__, url_prefix="/ledgers")
