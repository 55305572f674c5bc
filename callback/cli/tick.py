"""tick: the periodic pass."""

import click
from flask import current_app
from flask.cli import with_appcontext

from callback.audit import Actor
from callback.cli import parse_now
from callback.extensions import db
from callback.notifications import deliver_outbox, raise_due_notifications
from callback.recordings.jobs import fetch_job
from callback.settings import current_settings
from callback.tick import run_tick


@click.command("tick")
@click.option("--now", "now_text", help="Act as if it were this moment (ISO 8601; naive = TIMEZONE).")
@with_appcontext
def tick_command(now_text: str | None) -> None:
    """Create callback tasks that have come due, release expired leases, recover stuck automated calls.

    Then fetch the calls' recordings that are ready (and retry the failed fetches that are due), raise the
    notifications that came due and deliver the outbox (WeCom, e-mail).
    """
    now = parse_now(now_text)
    report = run_tick(db.session, now=now, settings=current_settings(), actor=Actor(source="tick"))
    db.session.commit()
    click.echo(f"due_date tasks created: {report.due_date_tasks_created}")
    click.echo(f"expired leases released: {report.leases_released}")
    click.echo(f"stuck automated calls recovered: {report.dialing_recovered}")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    fetched = fetch_job(app, db.session, Actor(source="tick")).run(now)
    click.echo(
        f"recordings stored: {fetched.stored}, to retry: {fetched.retrying}, given up: {fetched.failed}, "
        f"deleted at the provider: {fetched.deleted_at_provider}"
    )
    # Notifications (issue 12): raise what came due (idempotent), then deliver the outbox once each.
    raised = raise_due_notifications(db.session, now=now, settings=current_settings())
    db.session.commit()
    delivered = deliver_outbox(db.session, now=now, settings=current_settings())
    click.echo(
        f"notifications raised: {raised.notifications}, messages queued: {raised.queued}, "
        f"sent: {delivered.sent}, to retry: {delivered.retrying}, given up: {delivered.failed}"
    )
