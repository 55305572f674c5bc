"""import-orders: work orders from a CSV or XLSX export (contract 3 and 5)."""

import logging
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.intake.files import ImportFileError
from callback.intake.importer import ImportReport, import_orders_file
from callback.intake.service import CREATED, REJECTED, STALE, UNCHANGED, UPDATED
from callback.observability.database_errors import first_line, is_unavailable, quiet_rollback
from callback.settings import current_settings

log = logging.getLogger(__name__)

EXIT_ALL_IMPORTED, EXIT_SOME_REJECTED, EXIT_UNREADABLE, EXIT_DATABASE_UNREACHABLE = 0, 1, 2, 3
COUNT_LABELS = {
    CREATED: _l("created"),
    UPDATED: _l("updated"),
    UNCHANGED: _l("unchanged"),
    STALE: _l("stale"),
    REJECTED: _l("rejected"),
}


class _ProgressBar:
    """A tqdm bar of rows on stderr, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        self.bar = tqdm(unit=" rows", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)

    def __call__(self, rows_read: int, rows_total: int | None) -> None:
        if rows_total is not None and self.bar.total != rows_total:
            self.bar.total = rows_total
        self.bar.update(rows_read - self.bar.n)

    def close(self) -> None:
        self.bar.close()


@click.command("import-orders")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and count every row, but write nothing.")
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the rejected rows, with their reasons and cells, to this CSV (opens in Excel).",
)
@click.pass_context
@with_appcontext
def import_orders_command(ctx: click.Context, file: str, dry_run: bool, errors_path: str | None) -> None:
    """Import work orders from FILE (CSV or XLSX).

    Exit 0 all imported, 1 some rows rejected, 2 file unreadable, 3 database unreachable.
    """
    actor = Actor(source=f"import:{Path(file).name}")
    progress = _ProgressBar()
    try:
        report = import_orders_file(
            db.session,
            file,
            now=utcnow(),
            settings=current_settings(),
            actor=actor,
            dry_run=dry_run,
            on_progress=progress,
            errors_csv=errors_path,
        )
    except ImportFileError as error:
        click.echo(_("Cannot import %(file)s: %(error)s", file=file, error=error), err=True)
        click.echo(_("Nothing was imported."), err=True)
        ctx.exit(EXIT_UNREADABLE)
    except SQLAlchemyError as error:
        if not is_unavailable(error):
            raise
        quiet_rollback(db.session)
        log.warning("import of %s stopped: the database cannot be reached: %s", file, first_line(error))
        click.echo(
            _("Cannot reach the database: %(error)s", error=first_line(error)),
            err=True,
        )
        click.echo(
            _(
                "Rows already written stay; run the same import again once the database is back "
                "(rows already imported count as unchanged)."
            ),
            err=True,
        )
        ctx.exit(EXIT_DATABASE_UNREACHABLE)
    finally:
        progress.close()
    _print_report(report)
    ctx.exit(EXIT_SOME_REJECTED if report.counts[REJECTED] else EXIT_ALL_IMPORTED)


def _print_report(report: ImportReport) -> None:
    """Print each rejected row with its reasons, then the counts."""
    for row in report.rejected_rows:
        reasons = report.reasons(row.errors)
        if row.order_no:
            click.echo(
                _(
                    "row %(row)d (%(order_no)s): %(reasons)s",
                    row=row.row_number,
                    order_no=row.order_no,
                    reasons=reasons,
                )
            )
        else:
            click.echo(_("row %(row)d: %(reasons)s", row=row.row_number, reasons=reasons))
    if report.rejected_rows_not_detailed:
        click.echo(
            _(
                "… and %(count)d more rejected rows; --errors FILE.csv lists them all.",
                count=report.rejected_rows_not_detailed,
            )
        )
    for result, label in COUNT_LABELS.items():
        click.echo(f"{label}: {report.counts[result]}")
    click.echo(_("callback tasks created: %(count)d", count=report.tasks_created))
    if report.dry_run:
        click.echo(_("Dry run: nothing was written."))
