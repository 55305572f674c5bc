"""dialer: the automated calling loop (contract 7)."""

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.observability.database_errors import first_line, is_unavailable
from callback.recordings.jobs import fetch_job
from callback.settings import current_settings
from callback.telephony import make_provider
from callback.telephony.dialer import Dialer, DialerStopped, PassReport
from callback.telephony.pacing import CallPacer

log = logging.getLogger(__name__)
EXIT_DATABASE_UNREACHABLE = 3


def _echo(report: PassReport) -> None:
    click.echo(
        f"calls placed: {report.placed}, refused by the provider: {report.rejected}, "
        f"responses lost: {report.lost}, lost calls found: {report.recovered_by_lookup}, "
        f"calls of cancelled orders ended: {report.ended}"
    )


@click.command("dialer")
@click.option("--once", is_flag=True, help="Make one pass over the workable tasks and exit.")
@click.option("--name", help="Name of this dialer on /healthz and the dialers page (default: host:pid).")
@with_appcontext
def dialer_command(once: bool, name: str | None) -> None:
    """Call customers about automated tasks: IVR questionnaire, keypad answers, same outcomes as operators."""
    settings = current_settings()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    dialer = Dialer(
        db.session,
        make_provider(app),
        CallPacer(db.engine, settings.dialer_calls_per_second),
        settings,
        app.config,
        utcnow,
        # Recordings of the calls just made are fetched between passes (`tick` retries too).
        after_pass=fetch_job(app, db.session, Actor(source="dialer")).run,
        name=name,
    )
    try:
        if once:
            try:
                _echo(dialer.run_pass())
            except SQLAlchemyError as error:
                if not is_unavailable(error):
                    raise
                click.echo(f"dialer: cannot reach the database ({first_line(error)})", err=True)
                raise SystemExit(EXIT_DATABASE_UNREACHABLE) from None
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        log.info("dialer %s started", dialer.name)
        click.echo(
            f"dialer running ({app.config['TELEPHONY']}, at most {settings.dialer_calls_per_second:g} "
            "calls per second across all dialers); Ctrl+C stops it"
        )
        dialer.run_forever(stop)
    except DialerStopped as error:
        raise click.ClickException(f"the provider refused the account or configuration: {error}") from None
