"""backup: a consistent online copy of the database."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from callback.backup import BackupError, backup_database
from callback.extensions import db


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
def backup_command(file: Path, overwrite: bool) -> None:
    """Copy the database to FILE while the app keeps serving."""
    try:
        report = backup_database(db.engine, file, overwrite=overwrite)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written to {report.path} ({report.size:,} bytes, {report.method})")
