"""The do-not-call list page (issue 13): supervisors and admins search, add and remove listed numbers."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from callback import donotcall
from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.models import DoNotCallEntry, DoNotCallReason, DoNotCallSource, Role
from callback.settings import current_settings
from callback.text import without_control_characters
from callback.web.api.donotcall import user_names
from callback.web.auth import roles_required
from callback.web.paging import paginate

bp = Blueprint("donotcall", __name__, url_prefix="/do-not-call")
DNC_KEEPERS = (Role.SUPERVISOR, Role.ADMIN)
PER_PAGE = 50
REASONS = [reason.value for reason in DoNotCallReason]


def _render(
    errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    """Render the list with the search of the request and the add form (with its errors)."""
    now = utcnow()
    search = without_control_characters(request.args.get("q") or "").strip()[:100] or None
    reason = request.args.get("reason") if request.args.get("reason") in REASONS else None
    state = request.args.get("state", "live")
    if state not in donotcall.ENTRY_STATES:
        state = "live"
    query = donotcall.entries_query(now, search=search, reason=reason, state=state)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    shown = paginate(query, total=total, per_page=PER_PAGE)
    entries = list(shown.items)
    return render_template(
        "donotcall/index.html",
        entries=entries,
        names=user_names(entries),
        total=total,
        page=shown.page,
        pages=shown.pages,
        params={"q": search or "", "reason": reason or "", "state": state},
        reasons=REASONS,
        states=donotcall.ENTRY_STATES,
        now=now,
        errors=errors or {},
        values=values or {},
    ), status


@bp.get("/")
@roles_required(*DNC_KEEPERS)
def index() -> tuple[str, int]:
    """List the numbers nobody may call, searchable by digits or note."""
    return _render()


@bp.post("/")
@roles_required(*DNC_KEEPERS)
def add() -> Response | tuple[str, int]:
    """List a number from the form; show the form again with each problem beside its field."""
    values = {key: request.form.get(key, "") for key in ("number", "reason", "expires_at", "note")}
    now = utcnow()
    try:
        listing = donotcall.check_listing(
            values["number"],
            values["reason"],
            values["expires_at"] or None,
            values["note"] or None,
            now=now,
            tz=current_settings().tz,
        )
        donotcall.add(
            db.session,
            listing,
            source=DoNotCallSource.SUPERVISOR,
            actor=Actor(user_id=current_user.id),
            now=now,
        )
    except donotcall.DoNotCallError as error:
        db.session.rollback()
        errors = {detail["field"]: detail["message"] for detail in error.details}
        errors.setdefault("form", error.message)
        return _render(errors=errors, values=values, status=error.status)
    db.session.commit()
    flash(_("The number is on the do-not-call list: nobody will call it."), "success")
    return redirect(url_for("donotcall.index"))


@bp.post("/<int:entry_id>/remove")
@roles_required(*DNC_KEEPERS)
def remove(entry_id: int) -> Response:
    """Take a number off the list (its entry stays as history)."""
    entry = db.session.get(DoNotCallEntry, entry_id)
    if entry is None or entry.removed_at is not None:
        flash(_("This entry is not on the list any more."), "warning")
        return redirect(url_for("donotcall.index"))
    donotcall.remove(db.session, entry.number, actor=Actor(user_id=current_user.id), now=utcnow())
    db.session.commit()
    flash(_("The number was taken off the do-not-call list."), "success")
    return redirect(url_for("donotcall.index"))


# Whistle-blower protection: who sees the identity of a customer listed with reason `integrity`.
IDENTITY_READERS = (Role.DISCIPLINE, Role.ADMIN)


def identity_hidden(order: object) -> bool:
    """Tell whether the page must hide this order's customer (name, phone, address) from the viewer.

    The service centre's staff (operators and supervisors: everyone but discipline inspectors and admins)
    never learn who reported requests for favours.
    """
    if current_user.is_authenticated and current_user.has_role(*IDENTITY_READERS):
        return False
    numbers = g.get("integrity_numbers")
    if numbers is None:
        numbers = g.integrity_numbers = set(
            db.session.scalars(
                select(DoNotCallEntry.number).where(
                    DoNotCallEntry.reason == DoNotCallReason.INTEGRITY.value,
                    donotcall.live_condition(utcnow()),
                )
            )
        )
    return getattr(order, "customer_phone", None) in numbers


@bp.app_context_processor
def identity_helpers() -> dict[str, object]:
    """Give every template `identity_hidden(order)`."""
    return {"identity_hidden": identity_hidden}
