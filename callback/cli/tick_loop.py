"""tick-loop: `tick` every minute in the foreground, the demo's stand-in for callback-tick.timer."""

import signal
import threading
from typing import cast

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

from callback.cli.tick import EXIT_DATABASE_UNREACHABLE, tick_command
from callback.extensions import db


@click.command("tick-loop")
@click.option(
    "--every", type=click.FloatRange(min=1), default=60, show_default=True, metavar="SECONDS",
    help="Seconds between passes.",
)  # fmt: skip
@with_appcontext
def tick_loop_command(every: float) -> None:
    """Run `tick` every SECONDS until stopped; a failed pass is reported and retried next time."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    context = click.get_current_context()
    passes = 0
    while not stop.is_set():
        passes += 1
        try:
            context.invoke(tick_command, now_text=None)
            click.echo(f"tick-loop: pass {passes} done; next in {every:g} s")
        except (SQLAlchemyError, click.ClickException, SystemExit) as error:
            # SQLAlchemy's message names the failing statement, never its parameters (phone numbers).
            reason = getattr(error, "orig", None) or error
            if isinstance(error, SystemExit) and error.code == EXIT_DATABASE_UNREACHABLE:
                reason = "cannot reach the database"  # tick has said why, above
            click.echo(f"tick-loop: pass {passes} failed ({reason}); trying again in {every:g} s", err=True)
        finally:
            db.session.rollback()
            cast("scoped_session[Session]", db.session).remove()  # the proxy's own method: a fresh session
        stop.wait(every)
