"""The bell (issue 12): a user's notifications, and the outbox of external messages for administrators."""

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from callback import notifications
from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.labels import label
from callback.models import Notification, NotificationKind, OutboxMessage, OutboxStatus, Role
from callback.web.auth import roles_required
from callback.web.filters import localtime
from callback.web.paging import paginate

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PER_PAGE = 50
# Everyone signed in has a bell; API-only integration accounts never sign in to the web.
BELL_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.DISCIPLINE, Role.ADMIN)


class ReadForm(FlaskForm):
    pass


class RetryForm(FlaskForm):
    pass


def message_of(item: Notification) -> str:
    """Say what a notification is about, in the reader's language."""
    params: dict[str, Any] = item.params or {}
    category = label("case_category", params.get("category"))
    order_no = params.get("order_no", "")
    if item.kind == NotificationKind.CASE_ASSIGNED:
        return _(
            "Case #%(id)s (%(order_no)s, %(category)s) is assigned to you.",
            id=params.get("case_id"),
            order_no=order_no,
            category=category,
        )
    if item.kind == NotificationKind.CASE_OVERDUE:
        return _(
            "Case #%(id)s (%(order_no)s, %(category)s) is past its deadline.",
            id=params.get("case_id"),
            order_no=order_no,
            category=category,
        )
    if item.kind == NotificationKind.RECTIFICATION_OVERDUE:
        return _(
            "The rectification deadline %(deadline)s of case #%(id)s (%(order_no)s) has passed.",
            deadline=params.get("deadline", ""),
            id=params.get("case_id"),
            order_no=order_no,
        )
    if item.kind == NotificationKind.APPOINTMENT_DUE:
        try:
            at = localtime(datetime.fromisoformat(params.get("at", "")), "%H:%M")
        except ValueError:
            at = ""
        return _("Your appointment for order %(order_no)s is due at %(at)s.", order_no=order_no, at=at)
    return item.kind


def target_of(item: Notification) -> str:
    """Return where a notification leads."""
    if item.case_id is not None:
        return url_for("cases.detail", case_id=item.case_id)
    if item.kind == NotificationKind.APPOINTMENT_DUE and item.params.get("order_no"):
        return url_for("orders.detail", order_no=item.params["order_no"])
    return url_for(".index")


@bp.get("/")
@roles_required(*BELL_ROLES)
def index() -> str:
    """List the user's notifications, unread first."""
    mine = select(Notification).where(Notification.user_id == current_user.id)
    total = db.session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    shown = paginate(
        mine.order_by(Notification.read_at.is_not(None), Notification.id.desc()),
        total=total,
        per_page=PER_PAGE,
    )
    return render_template(
        "notifications/index.html",
        items=shown.items,
        message_of=message_of,
        target_of=target_of,
        total=total,
        page=shown.page,
        pages=shown.pages,
        unread=notifications.unread_count(db.session, current_user.id),
        form=ReadForm(formdata=None),
    )


@bp.get("/<int:notification_id>")
@roles_required(*BELL_ROLES)
def open_one(notification_id: int) -> Response:
    """Open what a notification is about (its case or order), marking it read."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != current_user.id:
        abort(404)
    if item.read_at is None:
        item.read_at = utcnow()
        db.session.commit()
    return redirect(target_of(item))


@bp.post("/read")
@roles_required(*BELL_ROLES)
def mark_read() -> Response:
    """Mark all of the user's notifications read."""
    form = ReadForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for(".index"))
    changed = notifications.mark_read(db.session, current_user.id, now=utcnow())
    db.session.commit()
    flash(_("%(n)d notifications marked read.", n=changed), "success")
    return redirect(url_for(".index"))


@bp.get("/outbox")
@roles_required(Role.ADMIN)
def outbox() -> str:
    """List the external messages (WeCom, e-mail): what was sent, what waits, what failed and why."""
    status = request.args.get("status")
    status = status if status in {s.value for s in OutboxStatus} else None
    query = select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    counts = dict(
        db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    shown = paginate(query.order_by(OutboxMessage.id.desc()), total=total, per_page=PER_PAGE)
    return render_template(
        "notifications/outbox.html",
        messages=shown.items,
        counts=counts,
        status=status,
        statuses=[s.value for s in OutboxStatus],
        page=shown.page,
        pages=shown.pages,
        form=RetryForm(formdata=None),
    )


@bp.post("/outbox/<int:message_id>/retry")
@roles_required(Role.ADMIN)
def retry(message_id: int) -> Response:
    """Send a failed message again at the next `tick`."""
    form = RetryForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for(".outbox"))
    done = notifications.retry_message(
        db.session, message_id, now=utcnow(), actor=Actor(user_id=current_user.id, source="web")
    )
    if done is None:
        flash(_("Only a failed message can be sent again."), "warning")
        return redirect(url_for(".outbox"))
    db.session.commit()
    flash(_("The message will be sent again at the next tick."), "success")
    return redirect(url_for(".outbox"))


@bp.app_template_global()
def unread_notifications() -> int:
    """Count the signed-in user's unread notifications (the bell's badge)."""
    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(db.session, current_user.id)
