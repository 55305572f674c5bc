"""purge-personal-data: de-identify orders finished long ago (issue 9, retention)."""

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.retention import PurgeCounts, cutoff_for, next_batch, purge_orders, purgeable_orders
from callback.settings import current_settings


@click.command("purge-personal-data")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    default=None,
    help="Purge orders finished more than this many days ago (default: RETENTION_DAYS).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@with_appcontext
def purge_personal_data(older_than_days: int | None, dry_run: bool) -> None:
    """De-identify orders finished (connected, archived, cancelled) long ago that have no open case."""
    settings = current_settings()
    days = older_than_days if older_than_days is not None else settings.retention_days
    if days is None:
        raise click.UsageError("give --older-than-days N, or set RETENTION_DAYS in the configuration")
    now = utcnow()
    cutoff = cutoff_for(now, days)
    local_cutoff = cutoff.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    if dry_run:
        count = db.session.scalar(select(func.count()).select_from(purgeable_orders(cutoff).subquery())) or 0
        click.echo(f"dry run: {count} orders finished before {local_cutoff} would be de-identified")
        return
    actor = Actor(source="purge-personal-data")
    total = PurgeCounts()
    after_id = 0
    while ids := next_batch(db.session, cutoff, after_id):
        total.add(purge_orders(db.session, ids, now=now, actor=actor, older_than_days=days))
        db.session.commit()  # one transaction per batch: short locks, and a stopped run resumes
        after_id = ids[-1]
    click.echo(
        f"de-identified {total.orders} orders finished before {local_cutoff}: "
        f"{total.attempts} call attempts, {total.answers} free-text answers, "
        f"{total.evidence} case evidence items, {total.audit_events} audit events scrubbed"
    )
