"""The monthly summary (月度总结) laid out like the utility's own report, and the report workbook."""

import calendar
from datetime import date
from typing import IO, Any

import pandas as pd
from flask_babel import gettext as _
from flask_babel import pgettext

from callback.models import CaseCategory, CustomerType
from callback.reports.aapor import RATE_NAMES as AAPOR_RATE_NAMES
from callback.reports.exports import Percent, Sheet, enum_label, local_naive, write_workbook, yes_no
from callback.reports.filters import ALL_CUSTOMER_TYPES, ReportFilter
from callback.reports.summary import Report
from callback.settings import Settings

# The order of the utility's own report; the categories it does not name follow in the contract's order.
REPORTED_FIRST = (
    CaseCategory.OFFLINE_CIRCULATION,
    CaseCategory.METER_NOT_NOTIFIED,
    CaseCategory.REPEAT_TRIPS,
    CaseCategory.NONSTANDARD_ACCEPTANCE,
    CaseCategory.CABINET_DOOR_OPEN,
    CaseCategory.ONE_CERTIFICATE,
)
CATEGORY_ORDER = (*REPORTED_FIRST, *(c for c in CaseCategory if c not in REPORTED_FIRST))


def period_word(filters: ReportFilter) -> str:
    """Name the period as the report's sentence starts: this month, this year, or this period."""
    start, end = filters.start, filters.end
    last_of_month = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    if start.day == 1 and end == last_of_month:
        return _("This month")
    if (start.month, start.day) == (1, 1) and end == date(start.year, 12, 31):
        return _("This year")
    return _("In this period")


def customers_word(customer_type: str) -> str:
    """Name the customers the report counts."""
    words = {
        CustomerType.SMALL_MICRO.value: _("small and micro enterprises"),
        CustomerType.RESIDENTIAL.value: _("residential customers"),
        CustomerType.OTHER.value: _("other customers"),
        ALL_CUSTOMER_TYPES: _("customers"),
    }
    return words[customer_type]


def _number(value: float | int) -> str:
    """Show a figure without a needless ".0" (3.76, 45.3, 1590)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text or "0"


def letter_breakdown(figures: dict[str, Any]) -> list[tuple[str, str, int]]:
    """List the letters issued per category as (category, label, count), the report's categories first."""
    counts = figures["cases"]["letters_by_category"]
    return [
        (category.value, enum_label("case_category", category.value), counts.get(category.value, 0))
        for category in CATEGORY_ORDER
        if counts.get(category.value, 0)
    ]


def report_sentence(figures: dict[str, Any], filters: ReportFilter) -> str:
    """Write the report's one-paragraph summary, as the utility words it (本月共完成小微企业接电N户，…)."""
    connections, with_works, without_works = (
        figures["connections"],
        figures["connections"]["with_engineering"],
        figures["connections"]["without_engineering"],
    )
    categories = pgettext("list separator", ", ").join(
        _("%(category)s %(count)s", category=text, count=count)
        for _code, text, count in letter_breakdown(figures)
    )
    letters = figures["cases"]["letters_issued"]
    letters_text = (
        _(
            "%(letters)s supervision letters issued, of which %(categories)s",
            letters=letters,
            categories=categories,
        )
        if categories
        else _("%(letters)s supervision letters issued", letters=letters)
    )
    return _(
        "%(period)s %(count)s %(customers)s were connected, on average in %(avg)s days; "
        "with external works %(with_count)s (%(with_share)s%%), on average %(with_days)s days; "
        "without external works %(without_count)s (%(without_share)s%%), on average %(without_days)s days; "
        "%(overtime)s orders overtime; %(letters)s; "
        "%(person_times)s person-times penalised, %(yuan)s yuan.",
        period=period_word(filters),
        count=connections["count"],
        customers=customers_word(filters.customer_type),
        avg=_number(connections["avg_days"]),
        with_count=with_works["count"],
        with_share=_number(round(with_works["share"] * 100, 1)),
        with_days=_number(with_works["avg_days"]),
        without_count=without_works["count"],
        without_share=_number(round(without_works["share"] * 100, 1)),
        without_days=_number(without_works["avg_days"]),
        overtime=connections["overtime"],
        letters=letters_text,
        person_times=figures["penalties"]["person_times"],
        yuan=_number(figures["penalties"]["amount_yuan"]),
    )


def figure_rows(figures: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Return the figures as (label, JSON key, value) rows, in the report's order; shares as percentages."""
    c, cb, cs, p = figures["connections"], figures["callbacks"], figures["cases"], figures["penalties"]
    rows = [
        (_("Connections"), "connections.count", c["count"]),
        (_("Average connection time (days)"), "connections.avg_days", c["avg_days"]),
        (_("Average connection time (working days)"), "connections.avg_workdays", c["avg_workdays"]),
        (_("With external works"), "connections.with_engineering.count", c["with_engineering"]["count"]),
        (
            _("With external works: share"),
            "connections.with_engineering.share",
            Percent(c["with_engineering"]["share"]),
        ),
        (
            _("With external works: average days"),
            "connections.with_engineering.avg_days",
            c["with_engineering"]["avg_days"],
        ),
        (
            _("Without external works"),
            "connections.without_engineering.count",
            c["without_engineering"]["count"],
        ),
        (
            _("Without external works: share"),
            "connections.without_engineering.share",
            Percent(c["without_engineering"]["share"]),
        ),
        (
            _("Without external works: average days"),
            "connections.without_engineering.avg_days",
            c["without_engineering"]["avg_days"],
        ),
        (_("Overtime orders"), "connections.overtime", c["overtime"]),
        (
            _("Connection time the customers lived (days)"),
            "connections.customer_reported_avg_days",
            c["customer_reported_avg_days"],
        ),
        (_("Callback tasks"), "callbacks.tasks", cb["tasks"]),
        (_("Tasks done"), "callbacks.done", cb["done"]),
        (_("Tasks unreachable"), "callbacks.unreachable", cb["unreachable"]),
        (_("Call attempts"), "callbacks.attempts", cb["attempts"]),
        (_("Contact rate (AAPOR CON1)"), "callbacks.contact_rate", Percent(cb["contact_rate"])),
        (_("Response rate (AAPOR RR1)"), "callbacks.response_rate_rr1", Percent(cb["response_rate_rr1"])),
        (_("Average satisfaction (1–5)"), "callbacks.satisfaction_avg", cb["satisfaction_avg"]),
        (_("Satisfied share (4 or 5)"), "callbacks.satisfied_share", Percent(cb["satisfied_share"])),
        (_("Cases opened"), "cases.opened", cs["opened"]),
        (_("Supervision letters issued"), "cases.letters_issued", cs["letters_issued"]),
    ]
    rows += [
        (
            _("Letters: %(category)s", category=enum_label("case_category", category.value)),
            f"cases.letters_by_category.{category.value}",
            cs["letters_by_category"].get(category.value, 0),
        )
        for category in CATEGORY_ORDER
    ]
    rows += [
        (
            _("Referred to discipline inspection"),
            "cases.referred_to_discipline",
            cs["referred_to_discipline"],
        ),
        (_("Cases still open"), "cases.open", cs["open"]),
        (_("Cases overdue"), "cases.overdue", cs["overdue"]),
        (_("Cases closed"), "cases.closed", cs["closed"]),
        (_("Penalties (person-times)"), "penalties.person_times", p["person_times"]),
        (_("Penalties (yuan)"), "penalties.amount_yuan", p["amount_yuan"]),
    ]
    return rows


def rate_rows(figures: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Return each rate and share with its estimate (value, n, ci95, indicative): (label, key, estimate)."""
    intervals, utility, aapor_rates = figures["intervals"], figures["utility"], figures["aapor"]["rates"]
    rows = [
        (_("Callback rate"), "utility.callback_rate", utility["callback_rate"]),
        (_("Satisfaction rate"), "utility.satisfaction_rate", utility["satisfaction_rate"]),
        (_("Timely callback rate"), "utility.timely_rate", utility["timely_rate"]),
        (
            _("With external works: share"),
            "connections.with_engineering.share",
            intervals["connections.with_engineering.share"],
        ),
        (
            _("Without external works: share"),
            "connections.without_engineering.share",
            intervals["connections.without_engineering.share"],
        ),
        (_("Satisfied share (4 or 5)"), "callbacks.satisfied_share", intervals["callbacks.satisfied_share"]),
    ]
    rows += [(f"AAPOR {name}", f"aapor.rates.{name}", aapor_rates[name]) for name in AAPOR_RATE_NAMES]
    return rows


def _frame_rows(data: pd.DataFrame, columns: list[tuple[str, Any]]) -> list[list[Any]]:
    return [[convert(record) for _title, convert in columns] for record in data.to_dict("records")]


def _value(value: Any) -> Any:
    """Turn pandas' missing values into empty cells."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def report_workbook(
    report: Report,
    filters: ReportFilter,
    settings: Settings,
    *,
    details: bool = True,
    with_keys: bool = False,
) -> IO[bytes]:
    """Write the summary, then the orders, cases and penalties behind it, each on its own sheet.

    The summary sheet names each figure in words; `with_keys` adds the JSON key of each figure (the API's
    workbook, read by programs) between the name and the value. People's workbook has no key column.
    `details=False` writes the summary's figures alone: no customer, case or penalised person.
    """
    tz = settings.tz

    def moment(name: str) -> Any:
        return lambda record: local_naive(_value(record[name]) and record[name].to_pydatetime(), tz)

    summary_rows = [
        [_("Period"), "period", f"{filters.start.isoformat()} – {filters.end.isoformat()}"],
        [_("Service centre"), "filters.service_center", filters.service_center or _("All service centres")],
        [_("Customer type"), "filters.customer_type", customers_word(filters.customer_type)],
        [_("Summary"), "text", report_sentence(report.figures, filters)],
        *([label, key, value] for label, key, value in figure_rows(report.figures)),
    ]
    summary_header = [_("Figure"), _("Key"), _("Value")]
    if not with_keys:
        summary_rows = [[label, value] for label, _key, value in summary_rows]
        summary_header = [_("Figure"), _("Value")]
    order_columns: list[tuple[str, Any]] = [
        (_("Order no."), lambda r: r["order_no"]),
        (_("Customer"), lambda r: r["customer_name"]),
        (_("Service centre"), lambda r: r["service_center"]),
        (_("Account manager"), lambda r: _value(r["account_manager"])),
        (_("External works"), lambda r: yes_no(bool(r["has_engineering"]))),
        (_("Accepted at"), moment("accepted_at")),
        (_("Connected at"), moment("connected_at")),
        (_("System due date"), moment("due_at")),
        (_("Days (system)"), lambda r: round(r["days"], 2)),
        (_("Working days (system)"), lambda r: round(r["workdays"], 2)),
        (_("Overtime"), lambda r: yes_no(bool(r["connected_at"] > r["due_at"]))),
        (_("Applied on (customer)"), lambda r: _value(r["applied_on"])),
        (_("Days (customer)"), lambda r: round(r["customer_days"], 2)),
    ]
    case_columns: list[tuple[str, Any]] = [
        (_("Case"), lambda r: r["id"]),
        (_("Order no."), lambda r: r["order_no"]),
        (_("Service centre"), lambda r: r["service_center"]),
        (_("Category"), lambda r: enum_label("case_category", r["category"])),
        (pgettext("case column", "State"), lambda r: enum_label("case_state", r["state"])),
        (_("Opened at"), moment("opened_at")),
        (_("Letter no."), lambda r: _value(r["letter_no"])),
        (_("Letter issued at"), moment("letter_issued_at")),
        (_("Referred to discipline inspection"), lambda r: yes_no(bool(r["referred_to_discipline"]))),
        (_("Closed at"), moment("closed_at")),
    ]
    penalty_columns: list[tuple[str, Any]] = [
        (_("Case"), lambda r: r["case_id"]),
        (_("Order no."), lambda r: r["order_no"]),
        (_("Service centre"), lambda r: r["service_center"]),
        (_("Category"), lambda r: enum_label("case_category", r["category"])),
        (_("Person"), lambda r: r["person"]),
        (_("Amount (yuan)"), lambda r: r["amount_yuan"]),
        (_("Reason"), lambda r: r["reason"]),
        (_("Recorded at"), moment("recorded_at")),
    ]
    summary = Sheet(_("Summary"), summary_header, [summary_rows])
    if not details or report.orders is None or report.cases is None or report.penalties is None:
        return write_workbook([summary])
    # Issue 13: each rate with its sample size, 95 % Wilson interval and whether it is only indicative.
    indicative = _("Indicative (fewer than %(n)d responses)", n=report.figures["min_sample"])
    rate_headers = [
        _("Figure"),
        _("Key"),
        _("Value"),
        _("Sample size"),
        _("Low (95%)"),
        _("High (95%)"),
        _("Note"),
    ]
    rate_sheet_rows = [
        [label, key, e["value"], e["n"], e["ci95"][0], e["ci95"][1], indicative if e["indicative"] else ""]
        for label, key, e in rate_rows(report.figures)
    ]
    centre_headers = [_("Service centre"), _("Month")]
    for title in (
        _("Callback rate"),
        _("Satisfaction rate"),
        _("Timely callback rate"),
    ):
        centre_headers += [title, _("Sample size"), _("Low (95%)"), _("High (95%)"), _("Note")]
    centre_rows = []
    for row in report.figures["utility"]["by_center_month"]:
        cells: list[Any] = [row["service_center"], row["month"]]
        for key in ("callback_rate", "satisfaction_rate", "timely_rate"):
            e = row[key]
            cells += [e["value"], e["n"], e["ci95"][0], e["ci95"][1], indicative if e["indicative"] else ""]
        centre_rows.append(cells)
    return write_workbook(
        [
            summary,
            Sheet(
                _("Orders"),
                [title for title, _c in order_columns],
                [_frame_rows(report.orders, order_columns)],
            ),
            Sheet(
                _("Cases"), [title for title, _c in case_columns], [_frame_rows(report.cases, case_columns)]
            ),
            Sheet(
                _("Penalties"),
                [title for title, _c in penalty_columns],
                [_frame_rows(report.penalties, penalty_columns)],
            ),
            Sheet(_("Rates"), rate_headers, [rate_sheet_rows]),
            Sheet(_("Callback rates by centre"), centre_headers, [centre_rows]),
        ]
    )


def report_rows(report: Report) -> int:
    """Return how many rows of orders, cases and penalties the report's workbook holds."""
    return report.row_count
