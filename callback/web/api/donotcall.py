"""The do-not-call list (contract 6, issue 13): list, add and remove numbers. Admins and supervisors."""

from typing import Any

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from callback import donotcall
from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.labels import label
from callback.models import DoNotCallEntry, DoNotCallReason, DoNotCallSource, Role, User
from callback.settings import current_settings
from callback.web.api.blueprint import bp
from callback.web.api.common import MAX_PER_PAGE, choice_arg, int_arg, json_body, local_iso, roles_required
from callback.web.errors import ApiError
from callback.web.paging import paginate

DNC_KEEPERS = (Role.ADMIN, Role.SUPERVISOR)
MAX_PAGE = 10**9
MAX_SEARCH = 100


def entry_json(entry: DoNotCallEntry, names: dict[int, str]) -> dict[str, Any]:
    """Represent one listing, with who added and removed it."""
    return {
        "id": entry.id,
        "number": entry.number,
        "reason": entry.reason,
        "reason_label": label("dnc_reason", entry.reason),
        "source": entry.source,
        "note": entry.note,
        "added_by": names.get(entry.added_by_id or 0),
        "added_at": local_iso(entry.added_at),
        "expires_at": local_iso(entry.expires_at),
        "removed_by": names.get(entry.removed_by_id or 0),
        "removed_at": local_iso(entry.removed_at),
        "active": entry.is_live(utcnow()),
    }


def user_names(entries: list[DoNotCallEntry]) -> dict[int, str]:
    """Return the usernames of the people who added or removed these entries."""
    ids = {e.added_by_id for e in entries} | {e.removed_by_id for e in entries}
    ids.discard(None)
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


@bp.get("/do-not-call")
@roles_required(*DNC_KEEPERS)
def list_do_not_call() -> dict[str, Any]:
    """List the listings, newest first: ?q= (digits or note), ?reason=, ?state=live|expired|removed|all."""
    search = request.args.get("q") or None
    if search is not None and len(search) > MAX_SEARCH:
        message = _("must be at most %(limit)d characters", limit=MAX_SEARCH)
        raise ApiError(400, "bad_parameter", f"q: {message}", [{"field": "q", "message": message}])
    reason = choice_arg("reason", [r.value for r in DoNotCallReason])
    state = choice_arg("state", list(donotcall.ENTRY_STATES)) or "live"
    page = int_arg("page", 1, 1, MAX_PAGE)
    per_page = int_arg("per_page", 50, 1, MAX_PER_PAGE)
    query = donotcall.entries_query(utcnow(), search=search, reason=reason, state=state)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    entries = list(paginate(query, total=total, per_page=per_page, page=page).items)
    names = user_names(entries)
    return {
        "items": [entry_json(entry, names) for entry in entries],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@bp.post("/do-not-call")
@roles_required(*DNC_KEEPERS)
def add_do_not_call() -> tuple[dict[str, Any], int]:
    """List a number: {"number", "reason", "expires_at"?, "note"?}; 201 with the entry, 409 if listed."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", _("The body must be a JSON object."))
    now = utcnow()
    listing = donotcall.check_listing(
        body.get("number"),
        body.get("reason"),
        body.get("expires_at"),
        body.get("note"),
        now=now,
        tz=current_settings().tz,
    )
    entry = donotcall.add(
        db.session, listing, source=DoNotCallSource.API, actor=Actor(user_id=g.api_user.id), now=now
    )
    db.session.commit()
    return entry_json(entry, user_names([entry])), 201


@bp.delete("/do-not-call/<path:number>")
@roles_required(*DNC_KEEPERS)
def remove_do_not_call(number: str) -> dict[str, Any]:
    """Take a number off the list; its entry stays as history. 404 when it is not listed."""
    entry = donotcall.remove(db.session, number, actor=Actor(user_id=g.api_user.id), now=utcnow())
    db.session.commit()
    return entry_json(entry, user_names([entry]))
