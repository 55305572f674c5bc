"""Reports (contract 4.4): the summary as JSON and as a workbook."""

from typing import Any

from flask import Response, g, request, send_file

from callback.audit import Actor, export_entry, record
from callback.clock import utcnow
from callback.extensions import db
from callback.models import Role
from callback.reports.exports import XLSX_MIMETYPE
from callback.reports.filters import FilterError, ReportFilter, parse_filter
from callback.reports.monthly import report_rows, report_workbook
from callback.reports.summary import build_report
from callback.settings import current_settings
from callback.web.api.blueprint import bp
from callback.web.api.common import roles_required
from callback.web.api.representations import callers_representation
from callback.web.errors import ApiError

REPORT_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)


def _filters() -> ReportFilter:
    """Read from/to/service_center/account_manager/customer_type, or raise 400 (422 when from > to)."""
    settings = current_settings()
    try:
        return parse_filter(request.args, today=utcnow().astimezone(settings.tz).date())
    except FilterError as error:
        code = "bad_parameter" if error.status == 400 else "invalid"
        raise ApiError(
            error.status,
            code,
            f"{error.field}: {error.message}",
            [{"field": error.field, "message": error.message}],
        ) from None


@bp.get("/reports/summary")
@roles_required(*REPORT_READERS)
def report_summary() -> dict[str, Any]:
    """Return the period's figures: connections, callbacks, cases, penalties."""
    filters = _filters()
    figures = build_report(db.session, filters, current_settings(), utcnow(), details=False).figures
    db.session.commit()  # keeps the calendar days the report may have filled
    return figures


@bp.get("/reports/summary.xlsx")
@roles_required(*REPORT_READERS)
def report_summary_xlsx() -> Response:
    """Return the same figures as a workbook, with the sheets behind them for those who may see them."""
    filters = _filters()
    settings = current_settings()
    now = utcnow()
    details = callers_representation().report_details
    report = build_report(db.session, filters, settings, now, details=details)
    args = {key: value[:200] for key, value in request.args.items()}
    entry = export_entry("summary", "xlsx", args, report_rows(report))
    record(db.session, Actor(user_id=g.api_user.id), now, [entry])
    db.session.commit()
    return send_file(
        report_workbook(
            report, filters, settings, details=details, with_keys=True
        ),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"summary-{filters.start.isoformat()}-{filters.end.isoformat()}.xlsx",
    )
