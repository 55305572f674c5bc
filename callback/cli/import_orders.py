"""import-orders: work orders from a CSV or XLSX export (contract 5)."""

import click
from flask.cli import with_appcontext


@click.command("import-orders")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True)
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False))
@with_appcontext
def import_orders_command(file: str, dry_run: bool, errors_path: str | None) -> None:
    """Import work orders from FILE."""
    raise click.ClickException("not built yet")
