"""purge-personal-data: de-identify orders finished long ago (issue 9, retention)."""

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.retention import (
    PurgeCounts,
    cutoff_for,
    next_batch,
    purge_orders,
    purgeable_orders,
    recordings_of_orders,
    why_kept,
)
from callback.settings import current_settings


@click.command("purge-personal-data")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    default=None,
    help="Purge orders finished more than this many days ago (default: RETENTION_DAYS).",
)
@click.option(
    "--order-no",
    "order_nos",
    multiple=True,
    help="Only this order (repeatable), finished at any time: a customer's request to delete their data.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@with_appcontext
def purge_personal_data(older_than_days: int | None, order_nos: tuple[str, ...], dry_run: bool) -> None:
    """De-identify orders finished (connected, archived, cancelled) long ago that have no open case."""
    settings = current_settings()
    days = older_than_days if older_than_days is not None else settings.retention_days
    if days is None and not order_nos:
        raise click.UsageError("give --older-than-days N, or set RETENTION_DAYS in the configuration")
    if order_nos:
        days = older_than_days  # a request names its orders: their age matters only if asked
    now = utcnow()
    cutoff = cutoff_for(now, days) if days is not None else None
    scope = (
        f"finished before {cutoff.astimezone(settings.tz).strftime('%Y-%m-%d %H:%M')}"
        if cutoff is not None
        else "finished"
    )
    for order_no in order_nos:
        reason = why_kept(db.session, order_no)
        if reason is not None:
            click.echo(f"{order_no}: kept, {reason}", err=True)
    if dry_run:
        query = purgeable_orders(cutoff, order_nos).subquery()
        count = db.session.scalar(select(func.count()).select_from(query)) or 0
        recordings = recordings_of_orders(db.session, select(query.c.id))
        click.echo(
            f"dry run: {count} orders {scope} would be de-identified, "
            f"{recordings} call recordings' audio deleted"
        )
        return
    actor = Actor(source="purge-personal-data")
    total = PurgeCounts()
    after_id = 0
    while ids := next_batch(db.session, cutoff, after_id, order_nos=order_nos):
        total.add(purge_orders(db.session, ids, now=now, actor=actor, older_than_days=days))
        db.session.commit()  # one transaction per batch: short locks, and a stopped run resumes
        after_id = ids[-1]
    click.echo(
        f"de-identified {total.orders} orders {scope}: "
        f"{total.attempts} call attempts, {total.answers} free-text answers, "
        f"{total.evidence} case evidence items, {total.audit_events} audit events scrubbed, "
        f"{total.recordings} call recordings deleted"
    )
