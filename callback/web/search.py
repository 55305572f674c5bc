"""The search box in the top bar and its results page, grouped by orders, callback tasks and cases."""

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.search import GROUP_LIMIT, SEARCHERS, TEXT_MIN_LENGTH, TEXT_SCAN_LIMIT, SearchError, parse_query
from callback.search import search as run_search
from callback.web.auth import roles_required

bp = Blueprint("search", __name__)


def _message(error: SearchError) -> str:
    reason = str(error)
    if reason == "too_long":
        return _("The search is too long; type a phone number, an order number, a name or an address.")
    if reason == "too_short":
        return _("Type at least %(num)d characters, or a whole phone number.", num=TEXT_MIN_LENGTH)
    if reason == "control":
        return _("The search holds characters that cannot be searched.")
    return _("Type a phone number, an order number, a customer's name or an address.")


@bp.get("/search")
@roles_required(*SEARCHERS)
def results() -> tuple[str, int]:
    """Search orders, tasks and cases for what the box holds, as the user's role may see them."""
    raw = request.args.get("q", "")
    try:
        query = parse_query(raw)
    except SearchError as error:
        status = 200 if str(error) == "empty" else 400
        return render_template("search/results.html", q=raw, results=None, message=_message(error)), status
    found = run_search(
        db.session, query, role=current_user.role, actor=Actor(user_id=current_user.id), now=utcnow()
    )
    db.session.commit()  # the audit of a search by phone
    return render_template(
        "search/results.html",
        q=query.text,
        results=found,
        message=None,
        group_limit=GROUP_LIMIT,
        scan_limit=TEXT_SCAN_LIMIT,
        now=utcnow(),
    ), 200
