"""The audit page (issue 9): the trail with the API's filters and a CSV export, for admins and discipline.

Read-only: no route here or anywhere changes or deletes an event. The export is itself audited.
"""

import json
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy import func, select

from callback.audit import Actor, export_entry, record
from callback.audit_trail import AuditFilter, AuditFilterError, audit_query, event_json, parse_audit_filter
from callback.clock import utcnow
from callback.extensions import db
from callback.models import AuditChannel, Role
from callback.reports.exports import CHUNK_ROWS, csv_stream
from callback.settings import current_settings
from callback.web.auth import roles_required
from callback.web.paging import paginate

bp = Blueprint("audit", __name__, url_prefix="/audit")
AUDIT_READERS = (Role.ADMIN, Role.DISCIPLINE)
PER_PAGE = 50
FILTER_NAMES = ("actor", "action", "entity", "from", "to", "channel")


def _args() -> dict[str, str]:
    """Return the filters as given (to refill the form and carry them into links)."""
    return {name: request.args.get(name, "").strip()[:200] for name in FILTER_NAMES if request.args.get(name)}


def _filters() -> tuple[AuditFilter | None, dict[str, str], int]:
    try:
        return parse_audit_filter(request.args, current_settings().tz), {}, 200
    except AuditFilterError as error:
        return None, dict(error.problems), error.status


@bp.get("/")
@roles_required(*AUDIT_READERS)
def index() -> tuple[str, int]:
    """Show the audit trail, newest first, a page at a time, with the filters and the CSV export."""
    filters, errors, status = _filters()
    events: list[dict[str, Any]] = []
    total = 0
    page, pages = 1, 1
    if filters is not None:
        query = audit_query(filters)
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        tz = current_settings().tz
        shown = paginate(query, total=total, per_page=PER_PAGE, rows=db.session.execute)
        page, pages = shown.page, shown.pages
        events = [event_json(event, username, tz) for event, username in shown.items]
    return render_template(
        "audit/index.html",
        events=events,
        total=total,
        page=page,
        pages=pages,
        params=_args(),
        errors=errors,
        channels=[c.value for c in AuditChannel],
    ), status


def _csv_rows(filters: AuditFilter) -> Any:
    tz = current_settings().tz
    result = db.session.execute(audit_query(filters).execution_options(yield_per=CHUNK_ROWS))
    for rows in result.partitions():
        chunk = []
        for event, username in rows:
            item = event_json(event, username, tz)
            details = json.dumps(item.pop("details"), ensure_ascii=False, sort_keys=True)
            chunk.append([*item.values(), details])
        yield chunk


CSV_HEADER = [
    "id",
    "at",
    "actor",
    "actor_id",
    "source",
    "channel",
    "address",
    "action",
    "entity_type",
    "entity_id",
    "details",
]


@bp.get("/export.csv")
@roles_required(*AUDIT_READERS)
def export() -> Response | tuple[str, int]:
    """Download the events that match the filters as CSV (streamed); the export is audited."""
    filters, errors, status = _filters()
    if filters is None:
        message = "; ".join(f"{field}: {text}" for field, text in errors.items())
        return render_template("error.html", status=status, message=message), status
    query = audit_query(filters)
    rows = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    # Recorded (and committed) before the file is written: the export of the trail is in the trail.
    record(
        db.session,
        Actor(user_id=current_user.id),
        utcnow(),
        [export_entry("audit_events", "csv", _args(), rows)],
    )
    db.session.commit()
    response = Response(
        stream_with_context(csv_stream(CSV_HEADER, _csv_rows(filters))), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response
