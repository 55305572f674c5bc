"""Operations pages for admins: the dialers, their last pass and their calls in flight."""

from datetime import timedelta

from flask import Blueprint, render_template
from sqlalchemy import func, select

from callback.clock import utcnow
from callback.extensions import db
from callback.models import CallbackTask, Role, TaskChannel, TaskState
from callback.settings import current_settings
from callback.telephony.heartbeat import heartbeats
from callback.web.auth import roles_required
from callback.worklist import workable_condition

bp = Blueprint("ops", __name__, url_prefix="/admin")
# A dialer rests DIALER_IDLE_SECONDS between empty passes; silent much longer than that, it is stuck or gone.
SILENT_PASSES = 6
SILENT_MINIMUM = timedelta(minutes=2)


@bp.get("/dialers")
@roles_required(Role.ADMIN)
def dialers() -> str:
    """List the dialers with their last pass and calls in flight, and the automated queue they work."""
    settings = current_settings()
    now = utcnow()
    silent_after = max(SILENT_MINIMUM, timedelta(seconds=settings.dialer_idle_seconds * SILENT_PASSES))
    rows = [
        {
            "beat": beat,
            "seconds": max(0, round((now - beat.last_pass_at).total_seconds())),
            "silent": now - beat.last_pass_at > silent_after,
        }
        for beat in heartbeats(db.session)
    ]
    waiting = db.session.scalar(
        select(func.count()).select_from(CallbackTask).where(*workable_condition(now, TaskChannel.AUTO))
    )
    oldest = db.session.scalar(
        select(func.min(CallbackTask.not_before)).where(*workable_condition(now, TaskChannel.AUTO))
    )
    in_flight = db.session.scalar(
        select(func.count()).select_from(CallbackTask).where(CallbackTask.state == TaskState.DIALING.value)
    )
    return render_template(
        "ops/dialers.html",
        rows=rows,
        waiting=waiting or 0,
        oldest=oldest,
        in_flight=in_flight or 0,
        calling_hours_open=settings.calling_hours.contains(now, settings.tz),
        silent_minutes=int(silent_after.total_seconds() // 60),
    )
