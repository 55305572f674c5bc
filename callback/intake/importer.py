"""Import work orders from an export file: each row validated as an API item, written a chunk at a time."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.fields import FieldError
from callback.intake.files import CHUNK_ROWS, OrderFile, RejectedRowsCsv, SourceRow, open_order_file
from callback.intake.service import REJECTED, RESULTS, ItemResult, upsert_orders
from callback.intake.validation import ValidOrder, validate_order
from callback.settings import Settings

# Rejected rows whose details the report keeps; beyond this only the count grows (the errors CSV gets all).
DETAIL_LIMIT = 10_000

ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RejectedRow:
    row_number: int
    order_no: str | None
    errors: tuple[FieldError, ...]


@dataclass
class ImportReport:
    """What an import did: a count per result, and the rejected rows with their reasons."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULTS, 0))
    tasks_created: int = 0
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    # The column header the file uses for each field, to name fields in reasons as the person knows them.
    column_labels: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Return how many data rows the file held."""
        return sum(self.counts.values())

    @property
    def rejected_rows_not_detailed(self) -> int:
        """Return how many rejected rows are counted but not kept in `rejected_rows`."""
        return self.counts[REJECTED] - len(self.rejected_rows)

    def reasons(self, errors: Iterable[FieldError]) -> str:
        """Render field errors as one line, each field named by its column in the file."""
        return "; ".join(
            _(
                "%(column)s: %(message)s",
                column=self.column_labels.get(error.field, error.field),
                message=error.message,
            )
            if error.field
            else str(error.message)
            for error in errors
        )


def import_orders_file(
    session: Session,
    path: str | Path,
    *,
    now: datetime,
    settings: Settings,
    actor: Actor,
    dry_run: bool,
    on_progress: ProgressCallback | None = None,
    errors_csv: str | Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import every row of a CSV or XLSX export, committing a chunk at a time (a dry run rolls each back).

    Raises ImportFileError, before anything is written, when the file cannot be read at all.
    With `errors_csv`, every rejected row is written there with its reasons and original cells.
    """
    with open_order_file(path, chunk_rows) as order_file:
        report = ImportReport(
            dry_run=dry_run, column_labels={name: order_file.label_of(name) for name in order_file.columns}
        )
        rejected_out = RejectedRowsCsv(errors_csv, order_file.labels) if errors_csv is not None else None
        if on_progress is not None:
            on_progress(0, _rows_in(order_file))
        try:
            for chunk in order_file.chunks():
                _import_chunk(session, chunk, report, rejected_out, now=now, settings=settings, actor=actor)
                if on_progress is not None:
                    on_progress(*_progress(order_file, chunk))
        finally:
            if rejected_out is not None:
                rejected_out.close()
    return report


def _rows_in(order_file: OrderFile) -> int | None:
    """Return how many rows follow the header, when the file tells beforehand."""
    return None if order_file.last_row is None else order_file.last_row - order_file.header_row


def _progress(order_file: OrderFile, chunk: list[SourceRow]) -> tuple[int, int | None]:
    """Return the rows read so far and the rows the file holds (when known), header excluded."""
    read = chunk[-1].number - order_file.header_row
    total = _rows_in(order_file)
    return read, None if total is None else max(total, read)


def _import_chunk(
    session: Session,
    chunk: list[SourceRow],
    report: ImportReport,
    rejected_out: RejectedRowsCsv | None,
    *,
    now: datetime,
    settings: Settings,
    actor: Actor,
) -> None:
    valid: list[ValidOrder] = []
    for row in chunk:
        checked = validate_order(row.raw, settings.tz, now)
        if isinstance(checked, ValidOrder) and not row.problems:
            valid.append(checked)
            continue
        errors = (*row.problems, *(checked if isinstance(checked, list) else ()))
        _reject(row, errors, report, rejected_out)

    results = _write(session, valid, now=now, settings=settings, actor=actor)
    if report.dry_run:
        session.rollback()
    else:
        session.commit()
    for result in results:
        report.counts[result.result] += 1
        report.tasks_created += len(result.tasks_created)


def _write(
    session: Session, valid: list[ValidOrder], *, now: datetime, settings: Settings, actor: Actor
) -> list[ItemResult]:
    if not valid:
        return []
    try:
        return upsert_orders(session, valid, now=now, settings=settings, actor=actor)
    except IntegrityError:
        # Another writer (the API) created one of these orders meanwhile: now they exist, so update them.
        session.rollback()
        return upsert_orders(session, valid, now=now, settings=settings, actor=actor)


def _reject(
    row: SourceRow,
    errors: tuple[FieldError, ...],
    report: ImportReport,
    rejected_out: RejectedRowsCsv | None,
) -> None:
    report.counts[REJECTED] += 1
    order_no = row.raw.get("order_no")
    if len(report.rejected_rows) < DETAIL_LIMIT:
        report.rejected_rows.append(
            RejectedRow(row.number, order_no if isinstance(order_no, str) else None, errors)
        )
    if rejected_out is not None:
        rejected_out.write(row, report.reasons(errors))
