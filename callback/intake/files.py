"""Read order exports (CSV or XLSX, contract 5) in bounded memory, as rows ready for validate_order."""

import codecs
import csv
import re
import warnings
import zipfile
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, time
from itertools import chain, islice
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import pandas as pd
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from callback.fields import FieldError
from callback.intake.validation import DATETIME_FIELDS
from callback.models import ORDER_FIELDS, CustomerType, Ledger, OrderStatus

CHUNK_ROWS = 2000
# A title line may sit above the header in an export; the header is the first of these rows naming order_no.
HEADER_SEARCH_ROWS = 10

IMPORT_FIELDS: tuple[str, ...] = (*ORDER_FIELDS, "updated_at")
REQUIRED_COLUMNS: tuple[str, ...] = (
    "order_no",
    "customer_name",
    "customer_phone",
    "service_center",
    "has_engineering",
    "status",
    "accepted_at",
    "due_at",
)
CHINESE_HEADERS: dict[str, str] = {
    "工单编号": "order_no",
    "客户名称": "customer_name",
    "联系电话": "customer_phone",
    "用电地址": "address",
    "客户类别": "customer_type",
    "供电服务中心": "service_center",
    "客户经理": "account_manager",
    "是否有工程": "has_engineering",
    "是否有外部工程": "has_engineering",
    "台账": "ledger",
    "状态": "status",
    "受理时间": "accepted_at",
    "到期时间": "due_at",
    "线内到期日": "due_at",
    "勘查时间": "surveyed_at",
    "施工时间": "construction_at",
    "接电时间": "connected_at",
    "装表接电时间": "connected_at",
    "归档时间": "archived_at",
    "撤销时间": "cancelled_at",
    "更新时间": "updated_at",
}
# The header a person knows each field by, for messages about columns the file lacks.
CHINESE_NAMES: dict[str, str] = {}
for _header, _field in CHINESE_HEADERS.items():
    CHINESE_NAMES.setdefault(_field, _header)

CUSTOMER_TYPE_LABELS = {
    "小微企业": CustomerType.SMALL_MICRO.value,
    "居民": CustomerType.RESIDENTIAL.value,
    "其他": CustomerType.OTHER.value,
}
LEDGER_LABELS = {
    "先接入后改造": Ledger.CONNECT_FIRST.value,
    "系统流程在途": Ledger.IN_TRANSIT.value,
    "预推进工程": Ledger.PRE_ADVANCED.value,
}
STATUS_LABELS = {
    "受理": OrderStatus.ACCEPTED.value,
    "勘查": OrderStatus.SURVEYED.value,
    "施工": OrderStatus.CONSTRUCTION.value,
    "接电": OrderStatus.CONNECTED.value,
    "已接电": OrderStatus.CONNECTED.value,
    "装表接电": OrderStatus.CONNECTED.value,
    "归档": OrderStatus.ARCHIVED.value,
    "撤销": OrderStatus.CANCELLED.value,
}
BOOLEAN_LABELS = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
}
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
HEADER_NOISE = re.compile(r"[\s*＊]")


class ImportFileError(Exception):
    """The file cannot be read as an order export at all; nothing may be imported from it."""


class SourceRow(NamedTuple):
    """One data row: its number as Excel shows it, its order in API terms, and its cells as in the file."""

    number: int
    raw: dict[str, Any]
    cells: tuple[Any, ...]
    problems: tuple[FieldError, ...] = ()


# ---------------------------------------------------------------- values


def _text_of_number(value: Any) -> Any:
    """Turn a numeric cell into the text a person typed: 13800138000.0 → "13800138000"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


def _label(labels: dict[str, str]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return labels.get(value, value) if isinstance(value, str) else _text_of_number(value)

    return convert


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        found = BOOLEAN_LABELS.get(value.casefold())
        return value if found is None else found
    return value


def _as_is(value: Any) -> Any:
    return value


def _converter(field: str) -> Callable[[Any], Any]:
    """Return the function that turns a cell of this column into the API's value (None already handled)."""
    if field == "customer_type":
        return _label(CUSTOMER_TYPE_LABELS)
    if field == "ledger":
        return _label(LEDGER_LABELS)
    if field == "status":
        return _label(STATUS_LABELS)
    if field == "has_engineering":
        return _boolean
    if field in DATETIME_FIELDS or field == "updated_at":
        return _as_is  # Excel dates arrive as datetime; text is validate_order's to parse
    return _text_of_number


def _text_converter(field: str) -> Callable[[Any], Any]:
    """Return the converter for a column whose cells are all text: labels mapped, other text as it is."""
    if field in ("customer_type", "ledger", "status", "has_engineering"):
        return _converter(field)
    return _as_is


def cell_text(value: Any) -> str:
    """Render a cell as text for a CSV, the way a person would type it back."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "milliseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(_text_of_number(value))


# ---------------------------------------------------------------- header


class _Header(NamedTuple):
    row_number: int
    labels: tuple[str, ...]
    columns: dict[str, int]  # field → column index


def _field_of(label: str) -> str | None:
    """Return the field a header names; spaces, line breaks and required-marks (*) do not count."""
    key = HEADER_NOISE.sub("", label)
    if key in CHINESE_HEADERS:
        return CHINESE_HEADERS[key]
    lowered = key.lower()
    return lowered if lowered in IMPORT_FIELDS else None


def _column_name(field: str) -> str:
    chinese = CHINESE_NAMES.get(field)
    return f"{chinese} ({field})" if chinese else field


def _find_header(first_rows: Iterable[tuple[int, Sequence[Any]]]) -> _Header:
    """Find the header among the first rows and check it names every required column."""
    first_nonempty: _Header | None = None
    found: _Header | None = None
    for number, cells in first_rows:
        labels = tuple("" if cell is None else str(cell).strip() for cell in cells)
        if not any(labels):
            continue
        columns: dict[str, int] = {}
        for index, label in enumerate(labels):
            field = _field_of(label)
            if field is None:
                continue
            if field in columns:
                raise ImportFileError(
                    _l(
                        "The columns %(first)s and %(second)s both give %(field)s; keep one of them.",
                        first=labels[columns[field]],
                        second=label,
                        field=field,
                    )
                )
            columns[field] = index
        if first_nonempty is None:
            first_nonempty = _Header(number, labels, columns)
        if "order_no" in columns:
            found = _Header(number, labels, columns)
            break
    header = found or first_nonempty
    if header is None:
        raise ImportFileError(_l("The file has no rows."))
    if not header.columns:
        raise ImportFileError(
            _l(
                "No header row found: the first row must name the columns, such as 工单编号, 客户名称, "
                "联系电话 (or order_no, customer_name, customer_phone)."
            )
        )
    missing = [field for field in REQUIRED_COLUMNS if field not in header.columns]
    if missing:
        raise ImportFileError(
            _l(
                "The header (row %(row)d) lacks the columns %(columns)s.",
                row=header.row_number,
                columns=", ".join(_column_name(field) for field in missing),
            )
        )
    return header


# ---------------------------------------------------------------- the file


class OrderFile(AbstractContextManager["OrderFile"]):
    """An opened export whose header has been checked: iterate `chunks()` for its rows."""

    def __init__(self, path: Path, header: _Header, last_row: int | None, chunk_rows: int) -> None:
        self.path = path
        self.header_row = header.row_number
        self.labels = header.labels
        self.columns = header.columns
        # The number of the file's last row, when known beforehand (for a progress bar).
        self.last_row = last_row
        self.chunk_rows = chunk_rows
        self._converters = [(field, index, _converter(field)) for field, index in header.columns.items()]
        self._text_converters = [
            (field, index, _text_converter(field)) for field, index in header.columns.items()
        ]

    def label_of(self, field: str) -> str:
        """Return the column header this file uses for a field, or the field's name if it has none."""
        index = self.columns.get(field)
        return self.labels[index] if index is not None else field

    @abstractmethod
    def chunks(self) -> Iterator[list[SourceRow]]:
        """Yield the data rows in lists of at most `chunk_rows`; wholly empty rows are skipped."""

    def close(self) -> None:
        """Release the file."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _row(self, number: int, cells: Sequence[Any], problems: tuple[FieldError, ...] = ()) -> SourceRow:
        raw: dict[str, Any] = {}
        width = len(cells)
        for field, index, convert in self._converters:
            value = cells[index] if index < width else None
            if isinstance(value, str):
                value = value.strip() or None
            raw[field] = None if value is None else convert(value)
        return SourceRow(number, raw, tuple(cells), problems)

    def _text_row(self, number: int, cells: Sequence[str], problems: tuple[FieldError, ...]) -> SourceRow:
        """Map a row whose cells are all text (CSV): the same as _row, without the checks for numbers."""
        raw: dict[str, Any] = {}
        width = len(cells)
        for field, index, convert in self._text_converters:
            value = cells[index].strip() if index < width else None
            raw[field] = convert(value) if value else None
        return SourceRow(number, raw, tuple(cells), problems)


def _is_empty(cells: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


class _CsvShape(NamedTuple):
    encoding: str
    records: int
    widest: int
    first_rows: list[tuple[int, list[str]]]


def _scan_csv(path: Path, encoding: str) -> _CsvShape:
    """Decode the whole file strictly, block by block, and count its records and their widest."""
    records = widest = 0
    first_rows: list[tuple[int, list[str]]] = []
    with path.open(encoding=encoding, errors="strict", newline="") as text:
        # Strict, so a quote left open (which pandas could only fail on halfway through) is refused now.
        reader = csv.reader(text, strict=True)
        try:
            for cells in reader:
                records += 1
                widest = max(widest, len(cells))
                if records <= HEADER_SEARCH_ROWS:
                    first_rows.append((records, cells))
        except csv.Error as error:
            raise ImportFileError(
                _l(
                    "The file is not a readable CSV (line %(line)d): %(error)s",
                    line=reader.line_num,
                    error=error,
                )
            ) from None
    return _CsvShape(encoding, records, widest, first_rows)


def _csv_shape(path: Path) -> _CsvShape:
    """Decide the encoding: UTF-8 (with or without BOM) if the whole file decodes as such, else GB18030."""
    for encoding in CSV_ENCODINGS:
        try:
            return _scan_csv(path, encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        _l("The file is neither UTF-8 nor GB18030 text: save it from Excel as CSV (UTF-8) or as XLSX.")
    )


class CsvOrderFile(OrderFile):
    """A CSV export, read with pandas in chunks of text cells."""

    def __init__(self, path: Path, chunk_rows: int) -> None:
        self.shape = _csv_shape(path)
        super().__init__(path, _find_header(self.shape.first_rows), self.shape.records, chunk_rows)

    def chunks(self) -> Iterator[list[SourceRow]]:
        """Yield the data rows in lists of at most `chunk_rows`; wholly empty rows are skipped."""
        header_width = len(self.labels)
        number = 0
        with pd.read_csv(
            self.path,
            header=None,
            # As wide as the widest record, so a row with too many cells is read and rejected, not fatal.
            names=range(self.shape.widest),
            index_col=False,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,  # blank lines keep their row number, as in Excel
            encoding=self.shape.encoding,
            chunksize=self.chunk_rows,
        ) as reader:
            for frame in reader:
                rows: list[SourceRow] = []
                # Plain lists of str: iterating the frame's string arrays cell by cell costs 5x more.
                for cells in frame.to_numpy(dtype=object).tolist():
                    number += 1
                    if number <= self.header_row or not "".join(cells).strip():
                        continue
                    rows.append(self._csv_row(number, cells, header_width))
                if rows:
                    yield rows

    def _csv_row(self, number: int, cells: list[str], header_width: int) -> SourceRow:
        used = len(cells)
        while used > header_width and not cells[used - 1]:
            used -= 1
        problems: tuple[FieldError, ...] = ()
        if used > header_width:
            problems = (
                FieldError(
                    "",
                    _l(
                        "has %(cells)d cells but the header has %(columns)d; "
                        "put cells that contain a comma in double quotes",
                        cells=used,
                        columns=header_width,
                    ),
                ),
            )
        return self._text_row(number, cells[:used], problems)


@contextmanager
def _openpyxl_formatting_warnings_ignored() -> Iterator[None]:
    """Ignore openpyxl's warnings about formatting it drops (styles, validations, extensions): values stay."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")
        yield


class XlsxOrderFile(OrderFile):
    """An XLSX export, streamed row by row from its first worksheet (never loaded whole)."""

    def __init__(self, path: Path, chunk_rows: int) -> None:
        _check_archive(path)
        # A file object, not the path: openpyxl refuses paths whose names do not end in .xlsx.
        self._handle = path.open("rb")
        try:
            try:
                with _openpyxl_formatting_warnings_ignored():
                    self.workbook = load_workbook(self._handle, read_only=True, data_only=True)
            except Exception as error:  # openpyxl raises many kinds on a zip that is not a workbook
                raise ImportFileError(
                    _l("The file is not a readable XLSX workbook: %(error)s", error=error)
                ) from None
            if not self.workbook.worksheets:
                raise ImportFileError(_l("The workbook has no worksheet."))
            sheet = self.workbook.worksheets[0]
            self._rows: Iterator[tuple[int, tuple[Any, ...]]] = enumerate(
                sheet.iter_rows(values_only=True), start=1
            )
            with _openpyxl_formatting_warnings_ignored():
                first_rows = list(islice(self._rows, HEADER_SEARCH_ROWS))
            header = _find_header(first_rows)
            # The rows read past the header while looking for it come first.
            after_header = [(number, cells) for number, cells in first_rows if number > header.row_number]
            self._rows = chain(after_header, self._rows)
            super().__init__(path, header, sheet.max_row, chunk_rows)
        except BaseException:
            self.close()
            raise

    def chunks(self) -> Iterator[list[SourceRow]]:
        """Yield the data rows in lists of at most `chunk_rows`; wholly empty rows are skipped."""
        while True:
            with _openpyxl_formatting_warnings_ignored():
                batch = list(islice(self._rows, self.chunk_rows))
            if not batch:
                return
            rows = [self._row(number, cells) for number, cells in batch if not _is_empty(cells)]
            if rows:
                yield rows

    def close(self) -> None:
        """Release the file."""
        workbook = getattr(self, "workbook", None)
        if workbook is not None:
            workbook.close()
        self._handle.close()


def _check_archive(path: Path) -> None:
    """Check every member's checksum, so a truncated or damaged file fails now rather than halfway."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ImportFileError(_l("The XLSX file is damaged: %(error)s", error=error)) from None
    if broken is not None:
        raise ImportFileError(_l("The XLSX file is damaged: %(error)s", error=broken))


def open_order_file(path: str | Path, chunk_rows: int = CHUNK_ROWS) -> OrderFile:
    """Open a CSV or XLSX export and check its header; raise ImportFileError if it cannot be imported."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            start = file.read(len(OLE2_MAGIC))
    except OSError as error:
        raise ImportFileError(_l("Cannot open the file: %(error)s", error=error.strerror or error)) from None
    if not start:
        raise ImportFileError(_l("The file is empty."))
    if start.startswith(ZIP_MAGIC):
        return XlsxOrderFile(path, chunk_rows)
    if start.startswith(OLE2_MAGIC):
        raise ImportFileError(_l("Excel 97-2003 (.xls) files cannot be read: save the file as XLSX or CSV."))
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(
            _l("The file is UTF-16 text: save it from Excel as CSV (UTF-8) or as XLSX instead.")
        )
    return CsvOrderFile(path, chunk_rows)


# ---------------------------------------------------------------- rejected rows out


class RejectedRowsCsv(AbstractContextManager["RejectedRowsCsv"]):
    """Write rejected rows as CSV (UTF-8 with BOM, for Excel): row, reasons, then the original cells.

    The original columns keep their headers, so the file can be corrected and imported again.
    """

    def __init__(self, path: str | Path, source_labels: Sequence[str]) -> None:
        self.path = Path(path)
        leading = (str(_l("row")), str(_l("reasons")))
        # A column of the source named like ours (an errors file imported again) is replaced, not doubled.
        self._kept = [index for index, label in enumerate(source_labels) if label not in leading]
        self._source_width = len(source_labels)
        try:
            self._file = self.path.open("w", encoding="utf-8-sig", newline="")
        except OSError as error:
            raise ImportFileError(
                _l("Cannot write %(path)s: %(error)s", path=self.path, error=error.strerror or error)
            ) from None
        self._writer = csv.writer(self._file)
        self._writer.writerow([*leading, *(source_labels[index] for index in self._kept)])

    def write(self, row: SourceRow, reasons: str) -> None:
        """Write one rejected row, with any cells beyond the header at the end."""
        width = len(row.cells)
        kept = [cell_text(row.cells[index]) if index < width else "" for index in self._kept]
        surplus = [cell_text(cell) for cell in row.cells[self._source_width :]]
        self._writer.writerow([row.number, reasons, *kept, *surplus])

    def close(self) -> None:
        """Finish the file."""
        self._file.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
