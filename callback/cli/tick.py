"""tick: the periodic pass."""

import logging

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from callback.audit import Actor
from callback.cli.options import parse_now
from callback.extensions import db
from callback.messaging import followup_sender
from callback.notifications import deliver_outbox, raise_due_notifications
from callback.observability.database_errors import first_line, is_unavailable, quiet_rollback
from callback.partitions import ensure_months, start_month_ids
from callback.recordings.jobs import fetch_job
from callback.settings import current_settings
from callback.tick import run_tick

log = logging.getLogger(__name__)
# The same code as import-orders' "could not reach the database".
EXIT_DATABASE_UNREACHABLE = 3


@click.command("tick")
@click.option("--now", "now_text", help="Act as if it were this moment (ISO 8601; naive = TIMEZONE).")
@with_appcontext
def tick_command(now_text: str | None) -> None:
    """Create callback tasks that have come due, release expired leases, recover stuck automated calls.

    Then fetch the calls' recordings that are ready (and retry the failed fetches that are due), raise the
    notifications that came due and deliver the outbox (WeCom, e-mail).
    """
    now = parse_now(now_text)
    try:
        # PostgreSQL: the coming months' partitions, in a transaction of their own (docs/scaling.md); at a
        # month's first tick the attempts' ids move to the month's block.
        partitions_created = ensure_months(db.session.connection(), "audit_events", now)
        attempt_months = ensure_months(db.session.connection(), "call_attempts", now)
        first_attempt_id = start_month_ids(db.session.connection(), "call_attempts", now)
        db.session.commit()
        report = run_tick(db.session, now=now, settings=current_settings(), actor=Actor(source="tick"))
        db.session.commit()
    except SQLAlchemyError as error:
        if not is_unavailable(error):
            raise
        quiet_rollback(db.session)
        # The timer runs tick again next minute; tick is idempotent, so nothing is lost by failing now.
        log.warning("tick failed: the database cannot be reached: %s", first_line(error))
        click.echo(f"tick: cannot reach the database ({first_line(error)}); the next run retries", err=True)
        raise SystemExit(EXIT_DATABASE_UNREACHABLE) from None
    log.info(
        "tick: %d due_date tasks created, %d leases released, %d stuck calls recovered",
        report.due_date_tasks_created,
        report.leases_released,
        report.dialing_recovered,
    )
    click.echo(f"due_date tasks created: {report.due_date_tasks_created}")
    click.echo(f"expired leases released: {report.leases_released}")
    click.echo(f"stuck automated calls recovered: {report.dialing_recovered}")
    click.echo(f"message follow-ups queued: {report.messages_queued}")
    click.echo(f"calls drawn for spot checks: {report.qa_reviews_drawn}")
    if partitions_created:
        click.echo(f"audit partitions created: {', '.join(partitions_created)}")
    if attempt_months:
        click.echo(f"call attempt partitions created: {', '.join(attempt_months)}")
    if first_attempt_id is not None:
        click.echo(f"call attempt ids this month start at {first_attempt_id}")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    messages = followup_sender(app, db.session, Actor(source="tick")).run(now)
    click.echo(
        f"messages sent: {messages.sent}, not sent: {messages.failed}, outcome unknown: {messages.unknown}, "
        f"refused (do not call): {messages.refused}"
        + (" (outside calling hours: none sent)" if messages.outside_hours else "")
    )
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
