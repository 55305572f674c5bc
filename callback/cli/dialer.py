"""dialer: the automated calling loop (contract 7)."""

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from callback.clock import utcnow
from callback.extensions import db
from callback.settings import current_settings
from callback.telephony import make_provider
from callback.telephony.dialer import Dialer, DialerStopped, PassReport
from callback.telephony.pacing import CallPacer


def _echo(report: PassReport) -> None:
    click.echo(
        f"calls placed: {report.placed}, refused by the provider: {report.rejected}, "
        f"responses lost: {report.lost}, lost calls found: {report.recovered_by_lookup}, "
        f"calls of cancelled orders ended: {report.ended}"
    )


@click.command("dialer")
@click.option("--once", is_flag=True, help="Make one pass over the workable tasks and exit.")
@with_appcontext
def dialer_command(once: bool) -> None:
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
    )
    try:
        if once:
            _echo(dialer.run_pass())
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(
            f"dialer running ({app.config['TELEPHONY']}, at most {settings.dialer_calls_per_second:g} "
            "calls per second across all dialers); Ctrl+C stops it"
        )
        dialer.run_forever(stop)
    except DialerStopped as error:
        raise click.ClickException(f"the provider refused the account or configuration: {error}") from None
