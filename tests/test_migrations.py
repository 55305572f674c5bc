"""The migrations build exactly the schema the models describe, on the test database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from callback.extensions import db
from callback.partitions import include_name


def test_upgrade_from_empty_matches_the_models_and_downgrades_cleanly(app):
    db.drop_all()
    with db.engine.begin() as connection:  # the fixture stamped create_all's schema as head
        connection.execute(text("DROP TABLE alembic_version"))
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()  # leave the schema for the next test's clean-up
