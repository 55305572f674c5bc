"""The operator's own view (my calls, my appointments, my figures), the live queue counts, and taking the
callback of a customer found by search (issue 12)."""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from callback.clock import utcnow
from callback.desk import day_start, my_appointments, my_calls, operator_figures, week_start
from callback.extensions import db
from callback.settings import current_settings
from callback.web.auth import roles_required
from callback.web.operator import OPERATORS, _queue_figures
from callback.worklist import WorklistError, claim_task, current_claim

bp = Blueprint("desk", __name__, url_prefix="/operator")
# How often the queue counts refresh themselves, in seconds.
COUNTS_REFRESH_SECONDS = 30


@bp.get("/mine")
@roles_required(*OPERATORS)
def mine() -> str:
    """Show my calls today, my appointments and my figures for today and this week."""
    now = utcnow()
    settings = current_settings()
    today = day_start(now, settings.tz)
    week = week_start(now, settings.tz)
    tomorrow = today + timedelta(days=1)
    window = timedelta(minutes=settings.appointment_owner_minutes)
    return render_template(
        "desk/mine.html",
        calls=my_calls(db.session, current_user.id, today, tomorrow),
        appointments=my_appointments(db.session, current_user.id),
        figures={
            "today": operator_figures(db.session, current_user.id, today, tomorrow),
            "week": operator_figures(db.session, current_user.id, week, tomorrow),
        },
        owner_window=window,
        owner_minutes=settings.appointment_owner_minutes,
        now=now,
        queue=_queue_figures(now, settings),
        refresh_seconds=COUNTS_REFRESH_SECONDS,
    )


@bp.get("/counts")
@roles_required(*OPERATORS)
def counts() -> str:
    """Return the queue counts alone, for the pages that poll them (htmx)."""
    now = utcnow()
    return render_template(
        "desk/_counts.html",
        queue=_queue_figures(now, current_settings()),
        refresh_seconds=COUNTS_REFRESH_SECONDS,
    )


@bp.post("/tasks/<int:task_id>/claim")
@roles_required(*OPERATORS)
def claim(task_id: int) -> Response:
    """Take this callback now (the customer was found by search); back to a live claim first."""
    now = utcnow()
    held = current_claim(db.session, current_user.id, now=now)
    if held is not None:
        if held.id != task_id:
            flash(_("You are still on this callback; finish or release it first."), "info")
        return redirect(url_for("operator.call", task_id=held.id))
    try:
        task = claim_task(db.session, task_id, current_user.id, now=now, settings=current_settings())
    except WorklistError as error:
        db.session.rollback()
        if error.status == 404:
            message = _("There is no such callback task.")
        elif error.code == "outside_calling_hours":
            message = _("It is outside calling hours: customers may not be called now.")
        else:
            message = _(
                "This callback cannot be taken now: it is done, being called, not yet due, "
                "or another operator's appointment."
            )
        flash(message, "warning")
        back = request.form.get("next", "")
        safe = back.startswith("/") and not back.startswith("//") and "\\" not in back
        return redirect(back if safe else url_for("desk.mine"))
    db.session.commit()
    return redirect(url_for("operator.call", task_id=task.id))
