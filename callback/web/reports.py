"""Reports, the dashboard and exports (issue 6): pages for supervisors, chart data as JSON, CSV and XLSX."""

from dataclasses import replace
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from callback.audit import Actor, export_entry, record
from callback.clock import utcnow
from callback.extensions import db
from callback.labels import REPORT_FILTER as LABELS_OF_FILTERS
from callback.labels import label
from callback.models import CustomerType, Role, WorkOrder
from callback.reports.charts import chart_data, dashboard_data, months
from callback.reports.exports import (
    DATASETS,
    XLSX_MIMETYPE,
    Sheet,
    count_rows,
    csv_stream,
    parse_export_filter,
    row_chunks,
    stream_workbook,
)
from callback.reports.filters import ALL_CUSTOMER_TYPES, FilterError, ReportFilter, parse_filter
from callback.reports.frames import connected_orders
from callback.reports.monthly import (
    figure_rows,
    letter_breakdown,
    rate_rows,
    report_rows,
    report_sentence,
    report_workbook,
)
from callback.reports.summary import build_report
from callback.settings import current_settings
from callback.web.auth import roles_required
from callback.web.index_walk import distinct_values
from callback.web.paging import paginate

# How each filter's value is labelled on a list's chips (the others show as typed: dates, names).
CHIP_VALUES = {
    "customer_type": "customer_type",
    "ledger": "ledger",
    "category": "case_category",
    "state": "case_state",
    "basis": "report_basis",
    "outcome": "report_outcome",
}

bp = Blueprint("reports", __name__, url_prefix="/reports")
REPORT_READERS = (Role.SUPERVISOR, Role.ADMIN)
# Who may tick "full numbers" on an export (issue 9); everybody else gets 138****1234.
FULL_NUMBER_READERS = (Role.SUPERVISOR, Role.ADMIN)
ROWS_SHOWN = 200
CONNECTIONS_PER_PAGE = 100


def _today() -> date:
    return utcnow().astimezone(current_settings().tz).date()


def _filters() -> tuple[ReportFilter, str | None]:
    """Read the page's filters; on bad input say why and fall back to the month so far."""
    try:
        return parse_filter(request.args, today=_today()), None
    except FilterError as error:
        return parse_filter({}, today=_today()), f"{error.field}: {error.message}"


def _filter_choices() -> dict[str, Any]:
    """Return what the filter form offers: the service centres and account managers on record."""
    return {
        "centers": distinct_values(WorkOrder.service_center),
        "managers": distinct_values(WorkOrder.account_manager),
        "customer_types": [*(kind.value for kind in CustomerType), ALL_CUSTOMER_TYPES],
    }


@bp.get("/")
@roles_required(*REPORT_READERS)
def index() -> str:
    """Show the dashboard: the period's key figures and the charts, each opening the list behind it."""
    filters, problem = _filters()
    # The figures and the charts from the same grouped queries; the charts' data rides in the page.
    figures, charts = dashboard_data(db.session, filters, current_settings(), utcnow())
    db.session.commit()  # keeps the calendar days the report may have filled
    return render_template(
        "reports/index.html",
        filters=filters,
        args=filters.query_args(),
        problem=problem,
        figures=figures,
        charts=_with_links(charts, filters),
        rate_rows=rate_rows(figures),
        sentence=report_sentence(figures, filters),
        **_filter_choices(),
    )


def _cases_link(**params: Any) -> str:
    """Link to the cases behind a chart element.

    The case rows of the reports, not the cases page: only they take the period and customer type, so the
    list shows exactly what the chart counted.
    """
    return url_for(
        "reports.rows", dataset="cases", **{k: v for k, v in params.items() if v not in (None, "")}
    )


def _with_links(data: dict[str, Any], filters: ReportFilter) -> dict[str, Any]:
    """Add to each chart element the address of the list behind it."""
    # Any: mypy checks a **dict against url_for's own keyword parameters (_external: bool, ...) otherwise.
    args: dict[str, Any] = filters.query_args()
    center_args = {k: v for k, v in args.items() if k != "service_center"}
    connections = data["connections"]
    connections["links"] = {
        works: [
            url_for(
                "reports.connections", **{**args, "from": p["from"], "to": p["to"], "has_engineering": flag}
            )
            for p in connections["periods"]
        ]
        for works, flag in (("with", "1"), ("without", "0"), ("all", ""))
    }
    for row in data["gap"]:
        row["link"] = url_for(
            "reports.connections", **{**center_args, "service_center": row["service_center"]}
        )
    data["funnel"]["links"] = {
        "tasks": url_for("reports.rows", dataset="tasks", **args),
        "attempts": url_for("reports.rows", dataset="attempts", **args),
        "contacted": url_for("reports.rows", dataset="attempts", outcome="contacted", **args),
        "completed": url_for("reports.rows", dataset="attempts", outcome="completed", **args),
    }
    month_periods = {month: (first, last) for month, first, last in months(filters)}
    for series in data["findings"]["series"]:
        series["links"] = [
            _cases_link(
                **{**args, "from": month_periods[m][0].isoformat(), "to": month_periods[m][1].isoformat()},
                category=series["category"],
            )
            for m in data["findings"]["months"]
        ]
    for state in data["cases"]["states"]:
        state["link"] = _cases_link(**args, state=state["state"])
    data["cases"]["overdue_link"] = _cases_link(**args, overdue="1")
    for row in data["penalties"]:
        row["link"] = _cases_link(**{**center_args, "service_center": row["service_center"]}, basis="penalty")
    return data


@bp.get("/charts.json")
@roles_required(*REPORT_READERS)
def charts() -> Response | tuple[Response, int]:
    """Return the dashboard's chart data for the filters, with the address behind each element."""
    try:
        filters = parse_filter(request.args, today=_today())
    except FilterError as error:
        body = {
            "error": {
                "code": "bad_parameter",
                "message": error.message,
                "details": [{"field": error.field, "message": error.message}],
            }
        }
        return jsonify(body), error.status
    data = chart_data(db.session, filters, current_settings(), utcnow())
    db.session.commit()  # keeps the calendar days the report may have filled
    return jsonify(_with_links(data, filters))


@bp.get("/monthly")
@roles_required(*REPORT_READERS)
def monthly() -> str:
    """Show the monthly summary (月度总结), laid out like the utility's report and ready to print."""
    filters, problem = _filters()
    report = build_report(db.session, filters, current_settings(), utcnow(), details=False)
    db.session.commit()  # keeps the calendar days the report may have filled
    return render_template(
        "reports/monthly.html",
        filters=filters,
        args=filters.query_args(),
        problem=problem,
        figures=report.figures,
        sentence=report_sentence(report.figures, filters),
        rows=figure_rows(report.figures),
        rate_rows=rate_rows(report.figures),
        letters=letter_breakdown(report.figures),
        **_filter_choices(),
    )


def _download_name(stem: str, filters: ReportFilter | None, fmt: str) -> str:
    period = f"-{filters.start.isoformat()}-{filters.end.isoformat()}" if filters else ""
    return f"{stem}{period}.{fmt}"


def audit_export(dataset: str, fmt: str, rows: int, *, full_numbers: bool = False) -> None:
    """Write down who exported what, with which filters and how many rows; commit it before sending."""
    filters = {key: value[:200] for key, value in request.args.items() if key != "full_numbers"}
    record(
        db.session,
        Actor(user_id=current_user.id),
        utcnow(),
        [export_entry(dataset, fmt, filters, rows, full_numbers=full_numbers)],
    )
    db.session.commit()


def _full_numbers() -> bool:
    """Read the "full numbers" box of an export: only admins and supervisors may tick it (403 otherwise)."""
    if not _flag_ticked(request.args.get("full_numbers")):
        return False
    if not current_user.has_role(*FULL_NUMBER_READERS):
        abort(403)
    return True


def _flag_ticked(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y")


@bp.get("/monthly.xlsx")
@roles_required(*REPORT_READERS)
def monthly_xlsx() -> Response:
    """Download the monthly summary with the orders, cases and penalties behind it."""
    filters, _problem = _filters()
    settings = current_settings()
    report = build_report(db.session, filters, settings, utcnow())
    audit_export("monthly", "xlsx", report_rows(report))
    return send_file(
        report_workbook(report, filters, settings),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=_download_name("monthly-report", filters, "xlsx"),
    )


@bp.get("/connections")
@roles_required(*REPORT_READERS)
def connections() -> str:
    """List the orders connected in the period, the widest gap between system and customer first."""
    filters, problem = _filters()
    settings = current_settings()
    orders = connected_orders(db.session, filters, settings)
    works = request.args.get("has_engineering", "")
    if works in ("1", "0"):
        orders = orders[orders["has_engineering"] == (works == "1")]
    orders = orders.assign(gap=orders["customer_days"] - orders["days"]).sort_values(
        ["gap", "connected_at"], ascending=[False, True]
    )
    total = len(orders)
    shown = paginate(
        orders.iloc, total=total, per_page=CONNECTIONS_PER_PAGE, rows=lambda rows: rows.to_dict("records")
    )
    return render_template(
        "reports/connections.html",
        filters=filters,
        args=filters.query_args(),
        problem=problem,
        has_engineering=works if works in ("1", "0") else "",
        orders=shown.items,
        total=total,
        page=shown.page,
        pages=shown.pages,
        **_filter_choices(),
    )


def filter_chips(args: dict[str, str]) -> list[tuple[str, str]]:
    """Name a list's filters in words: (filter, value) with both labelled, for the chips above it."""
    chips = []
    for name, value in args.items():
        if not value or name == "page" or name not in LABELS_OF_FILTERS:
            continue
        if name in ("has_engineering", "overdue"):
            shown = _("Yes") if value.lower() in ("1", "true", "yes") else _("No")
        elif name == "customer_type" and value == ALL_CUSTOMER_TYPES:
            shown = _("All customer types")
        elif name in CHIP_VALUES:
            shown = label(CHIP_VALUES[name], value)
        else:
            shown = value
        chips.append((label("report_filter", name), shown))
    return chips


def _export_filters(dataset: str) -> Any:
    settings = current_settings()
    now = utcnow()
    return parse_export_filter(request.args, dataset, today=now.astimezone(settings.tz).date(), now=now)


@bp.get("/rows/<any(orders,tasks,attempts,cases,ledger):dataset>")
@roles_required(*REPORT_READERS)
def rows(dataset: str) -> str | tuple[str, int]:
    """Show the first rows of an export on a page, with links to download all of them."""
    settings = current_settings()
    try:
        filters = _export_filters(dataset)
    except FilterError as error:
        return render_template("error.html", status=400, message=f"{error.field}: {error.message}"), 400
    total = count_rows(db.session, DATASETS[dataset], filters, settings)
    shown = [
        row
        for chunk in row_chunks(db.session, DATASETS[dataset], filters, settings, limit=ROWS_SHOWN)
        for row in chunk
    ]
    return render_template(
        "reports/rows.html",
        dataset=DATASETS[dataset],
        header=DATASETS[dataset].headers(),
        rows=shown,
        total=total,
        limit=ROWS_SHOWN,
        args={key: value for key, value in request.args.items() if key != "full_numbers"},
        may_see_full_numbers=current_user.has_role(*FULL_NUMBER_READERS),
        chips=filter_chips({key: value for key, value in request.args.items() if key != "full_numbers"}),
    )


@bp.get("/exports/<any(orders,tasks,attempts,cases,ledger):dataset>.<any(csv,xlsx):fmt>")
@roles_required(*REPORT_READERS)
def export(dataset: str, fmt: str) -> Response | tuple[str, int]:
    """Download a dataset with the filters as CSV or XLSX, both streamed as they are written."""
    settings = current_settings()
    try:
        filters = _export_filters(dataset)
    except FilterError as error:
        return render_template("error.html", status=400, message=f"{error.field}: {error.message}"), 400
    filters = replace(filters, full_numbers=_full_numbers())
    source = DATASETS[dataset]
    audit_export(
        dataset, fmt, count_rows(db.session, source, filters, settings), full_numbers=filters.full_numbers
    )
    stem = source.name if not filters.ledger else f"ledger-{filters.ledger}"
    period = (
        f"-{filters.start.isoformat()}-{filters.end.isoformat()}" if filters.start and filters.end else ""
    )
    name = f"{stem}{period}.{fmt}"
    if fmt == "csv":
        chunks = row_chunks(db.session, source, filters, settings)
        response = Response(
            stream_with_context(csv_stream(source.headers(), chunks)), mimetype="text/csv; charset=utf-8"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    # Streamed as it is written (docs/observability.md): a 100k-row workbook starts downloading at once.
    sheets = [Sheet(str(source.title), source.headers(), row_chunks(db.session, source, filters, settings))]
    response = Response(stream_with_context(stream_workbook(sheets)), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
