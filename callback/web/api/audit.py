"""The audit trail (issue 9): read-only, for admins and discipline inspectors. No route changes an event."""

from typing import Any

from flask import request
from sqlalchemy import func, select

from callback.audit_trail import AuditFilter, AuditFilterError, audit_query, event_json, parse_audit_filter
from callback.extensions import db
from callback.models import Role
from callback.settings import current_settings
from callback.web.api.blueprint import bp
from callback.web.api.common import MAX_PER_PAGE, int_arg, roles_required
from callback.web.errors import ApiError
from callback.web.paging import paginate

AUDIT_READERS = (Role.ADMIN, Role.DISCIPLINE)
MAX_PAGE = 10**9


def api_filters() -> AuditFilter:
    """Read the filters of the request, or raise 400 (422 when from is after to) naming each field."""
    try:
        return parse_audit_filter(request.args, current_settings().tz)
    except AuditFilterError as error:
        code = "bad_parameter" if error.status == 400 else "invalid"
        details = [{"field": field, "message": message} for field, message in error.problems]
        raise ApiError(error.status, code, str(error), details) from None


@bp.get("/audit-events")
@roles_required(*AUDIT_READERS)
def list_audit_events() -> dict[str, Any]:
    """List audit events, newest first, filtered by actor, action, entity, period and channel."""
    filters = api_filters()
    page = int_arg("page", 1, 1, MAX_PAGE)
    per_page = int_arg("per_page", 50, 1, MAX_PER_PAGE)
    query = audit_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = paginate(query, total=total, per_page=per_page, page=page, rows=db.session.execute).items
    tz = current_settings().tz
    return {
        "items": [event_json(event, username, tz) for event, username in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }
