"""seed-demo: realistic demo data, never on a database that holds real data."""

import click
from flask.cli import with_appcontext

from callback.clock import utcnow
from callback.demo import DEMO_PASSWORD, DEMO_USERS, attach_demo_recordings, foreign_data, has_orders
from callback.demo import seed_demo as seed
from callback.extensions import db
from callback.recordings.storage import store_for
from callback.settings import current_settings


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds orders.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Fill the database with realistic demo data: users, orders in every stage and their tasks.

    Refused (exit 1) on a database holding orders or users that seed-demo did not create: demo logins,
    whose password is published, must never appear in production.
    """
    foreign = foreign_data(db.session)
    if foreign["orders"] or foreign["users"]:
        message = (
            f"this database holds {foreign['orders']} work order(s) and {foreign['users']} user(s) that "
            "seed-demo did not create: no demo data (and no demo logins) added"
        )
        if if_empty:
            click.echo(message)
            return
        raise click.ClickException(message + "; use an empty database for the demo")
    if if_empty and has_orders(db.session):
        click.echo("the database already holds orders: no demo data added")
    else:
        report = seed(db.session, now=utcnow(), settings=current_settings())
        attach_demo_recordings(db.session, store_for(), now=utcnow())
        db.session.commit()
        click.echo(f"demo data: {report.orders} work orders, {report.cases} supervision cases")
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role in DEMO_USERS:
        click.echo(f"  {username:<12} {role}")
