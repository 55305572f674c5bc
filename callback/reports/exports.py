"""Exports of orders, tasks, attempts, cases and ledgers as CSV and XLSX, streamed in chunks.

Every text cell passes through `neutralise`, so a value such as `=1+1` opens in Excel as text, never as a
formula (OWASP, "CSV Injection"). CSV is UTF-8 with a BOM so that Excel shows Chinese correctly.
"""

import csv
import io
import itertools
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import LazyString, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat.strings import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import Session

from callback.formatting import mask_phone
from callback.labels import LABELS, is_chinese, label
from callback.models import (
    AAPOR_CODES,
    ENDED_CASE_STATES,
    INTERVIEW_DISPOSITIONS,
    Answer,
    CallAttempt,
    CallbackTask,
    CaseCategory,
    CaseState,
    Disposition,
    Ledger,
    Penalty,
    SupervisionCase,
    WorkOrder,
)
from callback.reports.filters import (
    ALL_CUSTOMER_TYPES,
    FilterError,
    parse_filter,
)
from callback.settings import Settings
from callback.survey import QUESTIONNAIRE, Question
from callback.workdays import day_start

CHUNK_ROWS = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_DATETIME = "%Y-%m-%d %H:%M:%S"
FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would read as a formula with a single quote; leave the rest alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# While a chunk of rows becomes cells, the labels it needs are looked up once each: a translation lookup
# costs more than the rest of a cell, and one language holds for the whole chunk.
_chunk_labels: ContextVar[dict[tuple[str, Any], str] | None] = ContextVar("_chunk_labels", default=None)


def _remembered(key: tuple[str, Any], make: Callable[[], str]) -> str:
    memo = _chunk_labels.get()
    if memo is None:
        return make()
    if key not in memo:
        memo[key] = make()
    return memo[key]


class Percent(float):
    """A share (0.547) that shows as a percentage (54.7%) on a page, in CSV, and in XLSX (a % number cell)."""

    def __str__(self) -> str:
        return f"{self * 100:.1f}%"


def enum_label(kind: str, value: str | None) -> str:
    """Label an enum value in the current language; fall back to the value where no label exists yet."""
    if value is None:
        return ""
    return _remembered((kind, value), lambda: label(kind, value) if kind in LABELS else value)


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _remembered(("yes_no", bool(value)), lambda: _("Yes") if value else _("No"))


@dataclass(frozen=True)
class ExportFilter:
    """Which rows an export holds: an optional period of local dates and the order filters."""

    start: date | None = None
    end: date | None = None
    service_center: str | None = None
    account_manager: str | None = None
    customer_type: str = ALL_CUSTOMER_TYPES
    # The moment the period applies to. Orders and ledger: `accepted` (default) or `connected`; cases:
    # `opened` (default), `letter` (issued) or `penalty` (a penalty recorded).
    basis: str | None = None
    ledger: str | None = None
    has_engineering: bool | None = None
    category: str | None = None
    state: str | None = None
    overdue: bool = False
    # Attempts only: the funnel stage reached, `contacted` (completed, partial, refused) or `completed`.
    outcome: str | None = None
    now: datetime = field(default_factory=lambda: datetime.min)
    # Phone numbers in full (only admins and supervisors may ask, and the export is audited); else masked.
    full_numbers: bool = False

    def period(self, column: Any, tz: ZoneInfo) -> ColumnElement[bool]:
        """Return the condition that `column` lies in the period (no condition without one)."""
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(column >= day_start(self.start, tz))
        if self.end is not None:
            conditions.append(column < day_start(date.fromordinal(self.end.toordinal() + 1), tz))
        return and_(true(), *conditions)

    def orders(self) -> ColumnElement[bool]:
        """Return the condition the order filters make on WorkOrder."""
        conditions: list[ColumnElement[bool]] = []
        if self.service_center:
            conditions.append(WorkOrder.service_center == self.service_center)
        if self.account_manager:
            conditions.append(WorkOrder.account_manager == self.account_manager)
        if self.customer_type != ALL_CUSTOMER_TYPES:
            conditions.append(WorkOrder.customer_type == self.customer_type)
        if self.has_engineering is not None:
            conditions.append(WorkOrder.has_engineering.is_(self.has_engineering))
        return and_(true(), *conditions)


BASES = {
    "orders": ("accepted", "connected"),
    "ledger": ("accepted", "connected"),
    "cases": ("opened", "letter", "penalty"),
}
# The dispositions of an attempt that reached each funnel stage (contract 4.2's AAPOR groups).
OUTCOME_DISPOSITIONS: dict[str, tuple[str, ...]] = {
    "contacted": (*(d.value for d in INTERVIEW_DISPOSITIONS), Disposition.REFUSED.value),
    "completed": (Disposition.COMPLETED.value,),
}


def _choice(args: Any, name: str, choices: Sequence[str]) -> str | None:
    value = (args.get(name) or "").strip() or None
    if value is not None and value not in choices:
        raise FilterError(name, _l("must be one of %(choices)s", choices=", ".join(choices)))
    return value


def _flag(args: Any, name: str) -> bool | None:
    value = (args.get(name) or "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise FilterError(name, _l("must be true or false"))


def parse_export_filter(args: Any, dataset: str, *, today: date, now: datetime) -> ExportFilter:
    """Read an export's filters from query args, or raise FilterError; no from/to means no period limit."""
    has_period = bool((args.get("from") or "").strip() or (args.get("to") or "").strip())
    base = parse_filter(args, today=today, default_customer_type=ALL_CUSTOMER_TYPES)
    return ExportFilter(
        start=base.start if has_period else None,
        end=base.end if has_period else None,
        service_center=base.service_center,
        account_manager=base.account_manager,
        customer_type=base.customer_type,
        basis=_choice(args, "basis", BASES.get(dataset, ())) if dataset in BASES else None,
        ledger=_choice(args, "ledger", [ledger.value for ledger in Ledger]) if dataset == "ledger" else None,
        has_engineering=_flag(args, "has_engineering"),
        category=_choice(args, "category", [c.value for c in CaseCategory]) if dataset == "cases" else None,
        state=_choice(args, "state", [s.value for s in CaseState]) if dataset == "cases" else None,
        overdue=bool(_flag(args, "overdue")) if dataset == "cases" else False,
        outcome=_choice(args, "outcome", tuple(OUTCOME_DISPOSITIONS)) if dataset == "attempts" else None,
        now=now,
    )


@dataclass(frozen=True)
class Dataset:
    """One exportable table: its columns, its query, and how a chunk of query rows becomes cells."""

    name: str
    title: LazyString
    headers: Callable[[], list[str]]
    query: Callable[[ExportFilter, Settings], Select[*tuple[Any, ...]]]
    cells: Callable[[Session, Sequence[Any], ExportFilter, Settings], list[list[Any]]]


def local_naive(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Return a stored UTC time as a naive local time: what a spreadsheet cell shows."""
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)


# Orders and ledgers -------------------------------------------------------------------------------------

ORDER_EXPORT_COLUMNS = (
    WorkOrder.order_no,
    WorkOrder.customer_name,
    WorkOrder.customer_phone,
    WorkOrder.address,
    WorkOrder.customer_type,
    WorkOrder.service_center,
    WorkOrder.account_manager,
    WorkOrder.has_engineering,
    WorkOrder.ledger,
    WorkOrder.status,
    WorkOrder.accepted_at,
    WorkOrder.due_at,
    WorkOrder.surveyed_at,
    WorkOrder.construction_at,
    WorkOrder.connected_at,
    WorkOrder.archived_at,
    WorkOrder.cancelled_at,
)


def _order_headers() -> list[str]:
    return [
        _("Order no."),
        _("Customer"),
        _("Phone"),
        _("Address"),
        _("Customer type"),
        _("Service centre"),
        _("Account manager"),
        _("External works"),
        _("Ledger"),
        _("Status"),
        _("Accepted at"),
        _("System due date"),
        _("Surveyed at"),
        _("Construction at"),
        _("Connected at"),
        _("Archived at"),
        _("Cancelled at"),
        _("Days (system)"),
        _("Overtime"),
    ]


def _orders_query(filters: ExportFilter, settings: Settings) -> Select[*tuple[Any, ...]]:
    moment = WorkOrder.connected_at if filters.basis == "connected" else WorkOrder.accepted_at
    query = select(*ORDER_EXPORT_COLUMNS).where(filters.orders(), filters.period(moment, settings.tz))
    if filters.ledger:
        query = query.where(WorkOrder.ledger == filters.ledger)
    return query.order_by(moment, WorkOrder.id)


def _ledger_query(filters: ExportFilter, settings: Settings) -> Select[*tuple[Any, ...]]:
    return _orders_query(filters, settings).where(WorkOrder.ledger.is_not(None))


def _order_cells(
    session: Session, rows: Sequence[Any], filters: ExportFilter, settings: Settings
) -> list[list[Any]]:
    tz = settings.tz
    cells = []
    for row in rows:
        days = (
            round((row.connected_at - row.accepted_at).total_seconds() / 86400, 2)
            if row.connected_at is not None
            else None
        )
        late = row.connected_at is not None and row.connected_at > row.due_at
        cells.append(
            [
                row.order_no,
                row.customer_name,
                row.customer_phone if filters.full_numbers else mask_phone(row.customer_phone),
                row.address,
                enum_label("customer_type", row.customer_type),
                row.service_center,
                row.account_manager,
                yes_no(row.has_engineering),
                enum_label("ledger", row.ledger),
                enum_label("status", row.status),
                *(
                    local_naive(getattr(row, name), tz)
                    for name in (
                        "accepted_at",
                        "due_at",
                        "surveyed_at",
                        "construction_at",
                        "connected_at",
                        "archived_at",
                        "cancelled_at",
                    )
                ),
                days,
                yes_no(late) if row.connected_at is not None else "",
            ]
        )
    return cells


# Tasks --------------------------------------------------------------------------------------------------


def _task_headers() -> list[str]:
    return [
        _("Task"),
        _("Order no."),
        _("Customer"),
        _("Service centre"),
        _("Kind"),
        _("State"),
        _("Channel"),
        _("Created at"),
        _("Not before"),
        _("Due by"),
        _("Attempts"),
    ]


def _tasks_query(filters: ExportFilter, settings: Settings) -> Select[*tuple[Any, ...]]:
    return (
        select(
            CallbackTask.id,
            WorkOrder.order_no,
            WorkOrder.customer_name,
            WorkOrder.service_center,
            CallbackTask.kind,
            CallbackTask.state,
            CallbackTask.channel,
            CallbackTask.created_at,
            CallbackTask.not_before,
            CallbackTask.due_by,
            CallbackTask.attempt_count,
        )
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(filters.orders(), filters.period(CallbackTask.created_at, settings.tz))
        .order_by(CallbackTask.created_at, CallbackTask.id)
    )


def _task_cells(
    session: Session, rows: Sequence[Any], filters: ExportFilter, settings: Settings
) -> list[list[Any]]:
    tz = settings.tz
    return [
        [
            row.id,
            row.order_no,
            row.customer_name,
            row.service_center,
            enum_label("task_kind", row.kind),
            enum_label("task_state", row.state),
            enum_label("channel", row.channel),
            local_naive(row.created_at, tz),
            local_naive(row.not_before, tz),
            local_naive(row.due_by, tz),
            row.attempt_count,
        ]
        for row in rows
    ]


# Attempts -----------------------------------------------------------------------------------------------


def _attempt_headers() -> list[str]:
    return [
        _("Attempt"),
        _("Task"),
        _("Order no."),
        _("Service centre"),
        _("Kind"),
        _("Channel"),
        _("Disposition"),
        _("AAPOR code"),
        _("Started at"),
        _("Ended at"),
        _("Note"),
        *(enum_label("answer", question.code) for question in QUESTIONNAIRE),
    ]


def _attempts_query(filters: ExportFilter, settings: Settings) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            CallAttempt.id,
            CallAttempt.task_id,
            WorkOrder.order_no,
            WorkOrder.service_center,
            CallbackTask.kind,
            CallAttempt.channel,
            CallAttempt.disposition,
            CallAttempt.aapor_code,
            CallAttempt.started_at,
            CallAttempt.ended_at,
            CallAttempt.note,
        )
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(filters.orders(), filters.period(CallAttempt.started_at, settings.tz))
        .order_by(CallAttempt.started_at, CallAttempt.id)
    )
    if filters.outcome:
        query = query.where(CallAttempt.disposition.in_(OUTCOME_DISPOSITIONS[filters.outcome]))
    return query


def _answer_cell(question: Question, value: Any) -> Any:
    """Show an answer as the operator heard it: yes/no, a choice's label; numbers and text as they are."""
    if isinstance(value, bool):
        return yes_no(value)
    choice = question.choice_for(value) if isinstance(value, str) else None
    if choice is not None:
        return choice.zh if is_chinese() else choice.en
    return value


def _attempt_cells(
    session: Session, rows: Sequence[Any], filters: ExportFilter, settings: Settings
) -> list[list[Any]]:
    tz = settings.tz
    answers: dict[int, dict[str, Any]] = {}
    # One query per chunk for the chunk's answers: one column per question.
    for attempt_id, question, value in session.execute(
        select(Answer.attempt_id, Answer.question, Answer.value).where(
            Answer.attempt_id.in_([row.id for row in rows])
        )
    ):
        answers.setdefault(attempt_id, {})[question] = value
    return [
        [
            row.id,
            row.task_id,
            row.order_no,
            row.service_center,
            enum_label("task_kind", row.kind),
            enum_label("channel", row.channel),
            enum_label("disposition", row.disposition),
            row.aapor_code or (AAPOR_CODES.get(row.disposition) if row.disposition else None),
            local_naive(row.started_at, tz),
            local_naive(row.ended_at, tz),
            row.note,
            *(
                _answer_cell(question, answers.get(row.id, {}).get(question.code))
                for question in QUESTIONNAIRE
            ),
        ]
        for row in rows
    ]


# Cases --------------------------------------------------------------------------------------------------


def _case_headers() -> list[str]:
    return [
        _("Case"),
        _("Order no."),
        _("Customer"),
        _("Service centre"),
        _("Account manager"),
        _("Category"),
        pgettext("case column", "State"),
        _("Opened at"),
        pgettext("case column", "Due by"),
        _("Overdue"),
        _("Letter no."),
        _("Letter issued at"),
        _("Referred to discipline inspection"),
        _("Closed at"),
        _("Penalties (person-times)"),
        _("Penalties (yuan)"),
    ]


def _cases_query(filters: ExportFilter, settings: Settings) -> Select[*tuple[Any, ...]]:
    penalties = (
        select(
            Penalty.case_id,
            func.count(Penalty.id).label("person_times"),
            func.sum(Penalty.amount_yuan).label("yuan"),
        )
        .group_by(Penalty.case_id)
        .subquery()
    )
    moment = SupervisionCase.letter_issued_at if filters.basis == "letter" else SupervisionCase.opened_at
    period: ColumnElement[bool]
    if filters.basis == "penalty":
        penalised = select(Penalty.case_id).where(filters.period(Penalty.recorded_at, settings.tz))
        period = SupervisionCase.id.in_(penalised)
    else:
        period = filters.period(moment, settings.tz)
    query = (
        select(
            SupervisionCase.id,
            WorkOrder.order_no,
            WorkOrder.customer_name,
            WorkOrder.service_center,
            WorkOrder.account_manager,
            SupervisionCase.category,
            SupervisionCase.state,
            SupervisionCase.opened_at,
            SupervisionCase.due_at,
            SupervisionCase.letter_no,
            SupervisionCase.letter_issued_at,
            SupervisionCase.referred_to_discipline,
            SupervisionCase.closed_at,
            func.coalesce(penalties.c.person_times, 0).label("person_times"),
            func.coalesce(penalties.c.yuan, 0).label("yuan"),
        )
        .join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
        .outerjoin(penalties, penalties.c.case_id == SupervisionCase.id)
        .where(filters.orders(), period)
    )
    if filters.category:
        query = query.where(SupervisionCase.category == filters.category)
    if filters.state:
        query = query.where(SupervisionCase.state == filters.state)
    if filters.overdue:
        query = query.where(
            SupervisionCase.due_at < filters.now,
            SupervisionCase.state.not_in([state.value for state in ENDED_CASE_STATES]),
        )
    return query.order_by(moment, SupervisionCase.id)


def _case_cells(
    session: Session, rows: Sequence[Any], filters: ExportFilter, settings: Settings
) -> list[list[Any]]:
    tz = settings.tz
    ended = {state.value for state in ENDED_CASE_STATES}
    return [
        [
            row.id,
            row.order_no,
            row.customer_name,
            row.service_center,
            row.account_manager,
            enum_label("case_category", row.category),
            enum_label("case_state", row.state),
            local_naive(row.opened_at, tz),
            local_naive(row.due_at, tz),
            yes_no(row.state not in ended and row.due_at is not None and row.due_at < filters.now),
            row.letter_no,
            local_naive(row.letter_issued_at, tz),
            yes_no(row.referred_to_discipline),
            local_naive(row.closed_at, tz),
            int(row.person_times),
            Decimal(row.yuan).quantize(Decimal("0.01")),
        ]
        for row in rows
    ]


DATASETS: dict[str, Dataset] = {
    "orders": Dataset("orders", _l("Work orders"), _order_headers, _orders_query, _order_cells),
    "tasks": Dataset("tasks", _l("Callback tasks"), _task_headers, _tasks_query, _task_cells),
    "attempts": Dataset("attempts", _l("Call attempts"), _attempt_headers, _attempts_query, _attempt_cells),
    "cases": Dataset("cases", _l("Supervision cases"), _case_headers, _cases_query, _case_cells),
    "ledger": Dataset("ledger", _l("Ledger"), _order_headers, _ledger_query, _order_cells),
}


# Writing ------------------------------------------------------------------------------------------------


def count_rows(session: Session, dataset: Dataset, filters: ExportFilter, settings: Settings) -> int:
    """Return how many rows the dataset holds for the filters."""
    query = dataset.query(filters, settings).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def row_chunks(
    session: Session, dataset: Dataset, filters: ExportFilter, settings: Settings, *, limit: int | None = None
) -> Iterator[list[list[Any]]]:
    """Yield the dataset's rows as cells, a chunk at a time, never holding the whole result."""
    query = dataset.query(filters, settings)
    if limit is not None:
        query = query.limit(limit)
    result = session.execute(query.execution_options(yield_per=CHUNK_ROWS))
    for rows in result.partitions():
        memo = _chunk_labels.set({})
        try:
            cells = dataset.cells(session, rows, filters, settings)
        finally:
            _chunk_labels.reset(memo)
        yield cells


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(CSV_DATETIME)
    if isinstance(value, Percent):
        return str(value)
    return neutralise(value)


def csv_stream(header: list[str], chunks: Iterable[list[list[Any]]]) -> Iterator[str]:
    """Yield a CSV document (BOM, header, rows) one chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(text) for text in header])
    yield "\ufeff" + buffer.getvalue()
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[_csv_text(value) for value in row] for row in chunk])
        yield buffer.getvalue()


@dataclass
class Sheet:
    """One worksheet of a workbook: a title, a header row, and rows arriving in chunks."""

    title: str
    header: list[str]
    chunks: Iterable[list[list[Any]]]


MAX_COLUMN_WIDTH = 50


def _xlsx_cell(worksheet: Any, value: Any) -> Any:
    """Return a cell: numbers and dates typed, text always a text cell, never a formula and never quoted.

    A text that a spreadsheet would read as a formula keeps its characters (a phone `+8613800138000` stays
    as it is) in a cell typed as text, marked with Excel's quote prefix so that editing it keeps it text.
    """
    if isinstance(value, Percent):
        cell = WriteOnlyCell(worksheet, value=float(value))
        cell.number_format = "0.0%"
        return cell
    if isinstance(value, Decimal):
        return float(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(worksheet, value=value)
    cell.data_type = "s"  # openpyxl would take "=…" for a formula
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def _display_width(value: Any) -> int:
    """Return how many character widths a value takes in a cell; Chinese characters count double."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, Percent):
        return len(str(value))
    if isinstance(value, date):
        return 10
    text = str(value)
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _column_widths(header: list[str], rows: list[list[Any]]) -> list[float]:
    """Return a width for each column that fits its header and the first rows, within bounds."""
    widths = [_display_width(title) for title in header]
    for row in rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _display_width(value))
    return [min(max(width, 6), MAX_COLUMN_WIDTH) + 2 for width in widths]


def write_workbook(sheets: Iterable[Sheet]) -> IO[bytes]:
    """Write the sheets in openpyxl's write-only mode to a temporary file; return it open for reading.

    Column widths follow the header and the first chunk of rows (a write-only sheet takes them before its
    first row). The file is already unlinked: it disappears when the returned handle is closed (send_file
    closes it).
    """
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title[:31])
        chunks = iter(sheet.chunks)
        first = next(chunks, [])
        for index, width in enumerate(_column_widths(sheet.header, first), start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = width
        worksheet.append([_xlsx_cell(worksheet, text) for text in sheet.header])
        for chunk in itertools.chain([first], chunks):
            for row in chunk:
                worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
        stream = open(path, "rb")  # noqa: SIM115  (handed to send_file, which closes it)
    finally:
        os.unlink(path)
    return stream


class _Spool:
    """A write-only byte sink that hands over what was written since the last `take` (zipfile's output)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass  # zipfile never closes a file object it was given; this completes its writable protocol

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


# Sample cells that make openpyxl put its styles in the template's styles.xml: datetime, date, a share
# (0.0%) and a text that looks like a formula (quote prefix); their style ids are read back from the sheet.
_SAMPLE_STYLES = re.compile(
    r'<row r="2"><c r="A2" s="(\d+)"[^>]*>.*?<c r="B2" s="(\d+)".*?<c r="C2" s="(\d+)".*?<c r="D2" s="(\d+)"'
)


def _sample_row(worksheet: Any) -> list[Any]:
    return [
        datetime(2000, 1, 1, 0, 0),
        date(2000, 1, 1),
        _xlsx_cell(worksheet, Percent(0.5)),
        _xlsx_cell(worksheet, "=sample"),
    ]


@dataclass(frozen=True)
class _Styles:
    datetime: str
    date: str
    percent: str
    quoted: str


def _cell_xml(reference: str, value: Any, styles: _Styles) -> str:
    """Write one cell as `write_workbook`'s cells come out: numbers and dates typed, a share as a 0.0%
    number, text always an inline string (never a formula; one that looks like a formula carries the quote
    prefix), dates as serial numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{reference}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Percent):
        return f'<c r="{reference}" s="{styles.percent}" t="n"><v>{safe_string(float(value))}</v></c>'
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int | float):
        return f'<c r="{reference}" t="n"><v>{safe_string(value)}</v></c>'
    if isinstance(value, datetime):
        return f'<c r="{reference}" s="{styles.datetime}" t="n"><v>{safe_string(to_excel(value))}</v></c>'
    if isinstance(value, date):
        return f'<c r="{reference}" s="{styles.date}" t="n"><v>{safe_string(to_excel(value))}</v></c>'
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if not text:
        return f'<c r="{reference}" t="inlineStr" />'
    style = f' s="{styles.quoted}"' if text.startswith(FORMULA_STARTS) else ""
    space = ' xml:space="preserve"' if text.strip() and text != text.strip() else ""
    return f'<c r="{reference}"{style} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def stream_workbook(sheets: Sequence[Sheet]) -> Iterator[bytes]:
    """Yield the workbook `write_workbook` makes, piece by piece as its rows are read.

    openpyxl writes the parts that do not depend on the rows (workbook, styles, the header rows) into a small
    template; each sheet's rows are then written into the ZIP entry of its sheet as they arrive, chunk by
    chunk, and sent at once (a ZIP written to a stream carries each entry's sizes after its data). So a
    download of any size starts at once, never waits on a worker or proxy timeout, and holds one chunk.
    """
    template = Workbook(write_only=True)
    chunks_of: dict[int, Iterator[list[list[Any]]]] = {}
    for number, sheet in enumerate(sheets, 1):
        worksheet = template.create_sheet(title=sheet.title[:31])
        # Column widths follow the header and the first chunk, as in write_workbook.
        chunks = iter(sheet.chunks)
        first = next(chunks, [])
        chunks_of[number] = itertools.chain([first], chunks)
        for index, width in enumerate(_column_widths(sheet.header, first), start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = width
        worksheet.append([_xlsx_cell(worksheet, text) for text in sheet.header])
        worksheet.append(_sample_row(worksheet))
    buffer = io.BytesIO()
    template.save(buffer)
    source = zipfile.ZipFile(buffer)
    spool = _Spool()
    archive = zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED)
    sheet_entries = {f"xl/worksheets/sheet{number}.xml": number for number in chunks_of}
    for info in source.infolist():
        sheet_number = sheet_entries.get(info.filename)
        if sheet_number is None:
            archive.writestr(info.filename, source.read(info.filename))
            yield spool.take()
            continue
        xml = source.read(info.filename).decode()
        head, rest = xml.split("<sheetData>", 1)
        rows, tail = rest.split("</sheetData>", 1)
        header_row = rows[: rows.index("</row>") + len("</row>")]
        found = _SAMPLE_STYLES.search(rows)
        assert found is not None  # noqa: S101  (openpyxl styles the sample cells)
        styles = _Styles(*found.groups())
        with archive.open(info.filename, "w", force_zip64=True) as entry:
            entry.write(f"{head}<sheetData>{header_row}".encode())
            number = 1
            for chunk in chunks_of[sheet_number]:
                parts = []
                for row in chunk:
                    number += 1
                    cells = "".join(
                        _cell_xml(f"{get_column_letter(column)}{number}", value, styles)
                        for column, value in enumerate(row, 1)
                    )
                    parts.append(f'<row r="{number}">{cells}</row>')
                entry.write("".join(parts).encode())
                yield spool.take()
            entry.write(f"</sheetData>{tail}".encode())
        yield spool.take()
    archive.close()
    yield spool.take()
