"""The three ledgers: 先接入后改造, 系统流程在途, 预推进工程 (issue 4).

Supervisors see the orders on each ledger and put an order on one or take it off, with a note, through
callback.intake.ledgers; the ledger history of an order is read from the audit trail.
"""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.intake.ledgers import LedgerChange, LedgerError, ledger_history, recent_hand_changes, set_ledger
from callback.labels import label
from callback.models import ENDED_CASE_STATES, Ledger, OrderStatus, Role, SupervisionCase, User, WorkOrder
from callback.settings import current_settings
from callback.web.auth import roles_required
from callback.web.case_forms import LedgerForm, show_refusal
from callback.web.paging import paginate

bp = Blueprint("ledgers", __name__, url_prefix="/ledgers")
PER_PAGE = 50
LEDGER_KEEPERS = (Role.SUPERVISOR, Role.ADMIN)
LEDGERS = [ledger.value for ledger in Ledger]
# The form value that takes an order off the ledgers (an empty value is refused as "not chosen").
TAKE_OFF = "none"
# Stages in which the order is still waiting for power.
WAITING = [OrderStatus.ACCEPTED.value, OrderStatus.SURVEYED.value, OrderStatus.CONSTRUCTION.value]


def _open_cases() -> Any:
    return (
        select(SupervisionCase.order_id, func.count().label("open_cases"))
        .where(SupervisionCase.state.not_in([state.value for state in ENDED_CASE_STATES]))
        .group_by(SupervisionCase.order_id)
        .subquery()
    )


def _usernames(changes: list[LedgerChange]) -> dict[int, str]:
    ids = {change.actor_id for change in changes if change.actor_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


@bp.get("/")
@roles_required(*LEDGER_KEEPERS)
def index() -> str:
    """Show the three ledgers with their counts, and the form to put an order on one."""
    rows = db.session.execute(
        select(
            WorkOrder.ledger,
            func.count(),
            func.count().filter(WorkOrder.status.in_(WAITING)),
        )
        .where(WorkOrder.ledger.is_not(None))
        .group_by(WorkOrder.ledger)
    ).all()
    counts = {ledger: {"total": total, "waiting": waiting} for ledger, total, waiting in rows}
    changes: list[LedgerChange] = []
    for ledger in LEDGERS:
        changes.extend(recent_hand_changes(db.session, ledger, limit=10))
    changes = sorted(set(changes), key=lambda change: change.at, reverse=True)[:15]
    return render_template(
        "ledgers/index.html",
        ledgers=LEDGERS,
        counts=counts,
        changes=changes,
        orders_by_id=_order_numbers(changes),
        usernames=_usernames(changes),
        form=LedgerForm(),
    )


def _order_numbers(changes: list[LedgerChange]) -> dict[int, str]:
    ids = {change.order_id for change in changes}
    if not ids:
        return {}
    return dict(
        db.session.execute(select(WorkOrder.id, WorkOrder.order_no).where(WorkOrder.id.in_(ids))).all()
    )


def days_open(order: WorkOrder, now: datetime) -> tuple[int, float]:
    """Return how long the order has been open (to its connection, else to now): calendar and working days."""
    settings = current_settings()
    end = order.connected_at or order.cancelled_at or now
    calendar_days = (
        end.astimezone(settings.tz).date() - order.accepted_at.astimezone(settings.tz).date()
    ).days
    return calendar_days, round(settings.calendar.workdays_between(order.accepted_at, end, settings.tz), 1)


@bp.get("/<ledger>")
@roles_required(*LEDGER_KEEPERS)
def show(ledger: str) -> str:
    """List the orders on one ledger with their stage, due date, days open and open cases."""
    if ledger not in LEDGERS:
        abort(404)
    now = utcnow()
    open_cases = _open_cases()
    query = (
        select(WorkOrder, func.coalesce(open_cases.c.open_cases, 0))
        .outerjoin(open_cases, open_cases.c.order_id == WorkOrder.id)
        .where(WorkOrder.ledger == ledger)
    )
    center = (request.args.get("service_center") or "").strip() or None
    if center:
        query = query.where(WorkOrder.service_center == center)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    shown = paginate(
        query.order_by(WorkOrder.due_at, WorkOrder.id),
        total=total,
        per_page=PER_PAGE,
        rows=db.session.execute,
    )
    rows = shown.items
    changes = recent_hand_changes(db.session, ledger)
    centers = db.session.scalars(
        select(WorkOrder.service_center)
        .where(WorkOrder.ledger == ledger)
        .distinct()
        .order_by(WorkOrder.service_center)
    ).all()
    form = LedgerForm()
    form.ledger.data = ledger
    return render_template(
        "ledgers/show.html",
        ledger=ledger,
        rows=[(order, cases, *days_open(order, now)) for order, cases in rows],
        total=total,
        page=shown.page,
        pages=shown.pages,
        centers=centers,
        filters={"service_center": center},
        changes=changes,
        orders_by_id=_order_numbers(changes),
        usernames=_usernames(changes),
        form=form,
        now=now,
    )


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.post("/set")
@roles_required(*LEDGER_KEEPERS)
def change() -> Response:
    """Put an order on a ledger, or take it off (an empty ledger), with a note."""
    form = LedgerForm()
    back = _safe_next(request.form.get("next")) or url_for(".index")
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(back)
    chosen = (form.ledger.data or "").strip()
    if not chosen:
        # No default: taking an order off its ledger is chosen on purpose (TAKE_OFF), never by leaving it.
        flash(_("Choose a ledger, or “None” to take the order off its ledger."), "danger")
        return redirect(back)
    ledger = None if chosen == TAKE_OFF else chosen
    try:
        order = set_ledger(
            db.session,
            form.order_no.data,
            ledger,
            note=form.note.data,
            now=utcnow(),
            actor=Actor(user_id=current_user.id, source="web"),
        )
    except LedgerError as error:
        db.session.rollback()
        general = show_refusal(form, error)
        problems = [
            f"{getattr(form, field).label.text}: {'; '.join(getattr(form, field).errors)}"
            for field in ("order_no", "ledger", "note")
            if getattr(form, field).errors
        ]
        flash(" ".join(problems) or general, "danger")
        return redirect(back)
    db.session.commit()
    if ledger is None:
        flash(_("Order %(no)s is off the ledgers.", no=order.order_no), "success")
    else:
        flash(
            _("Order %(no)s is on the ledger %(ledger)s.", no=order.order_no, ledger=label("ledger", ledger)),
            "success",
        )
    return redirect(back)


@bp.app_template_global()
def ledger_history_of(order: WorkOrder) -> dict[str, Any]:
    """Return an order's ledger moves, newest first, and who made them (for the order page)."""
    changes = ledger_history(db.session, order.id)
    return {"changes": changes, "usernames": _usernames(changes)}
