"""tick: the periodic pass."""

import signal
import threading

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from callback.audit import Actor
from callback.cli import parse_now
from callback.extensions import db
from callback.settings import current_settings
from callback.tick import run_tick


def _tick_once(now_text: str | None) -> None:
    now = parse_now(now_text)
    report = run_tick(db.session, now=now, settings=current_settings(), actor=Actor(source="tick"))
    db.session.commit()
    click.echo(f"due_date tasks created: {report.due_date_tasks_created}")
    click.echo(f"expired leases released: {report.leases_released}")
    click.echo(f"stuck automated calls recovered: {report.dialing_recovered}")


@click.command("tick")
@click.option("--now", "now_text", help="Act as if it were this moment (ISO 8601; naive = TIMEZONE).")
@click.option(
    "--every",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Keep running, one pass every SECONDS, until stopped (the demo's stand-in for a timer).",
)
@with_appcontext
def tick_command(now_text: str | None, every: float | None) -> None:
    """Create callback tasks that have come due, release expired leases, recover stuck automated calls."""
    if every is None:
        _tick_once(now_text)
        return
    if now_text is not None:
        raise click.UsageError("--now and --every do not go together: a repeating tick reads the clock")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        try:
            _tick_once(None)
        except OperationalError as error:
            db.session.rollback()
            click.echo(f"tick failed, trying again in {every:g} s: {error.orig}", err=True)
        db.session.remove()
        stop.wait(every)
