"""The migrations build exactly the schema the models describe, on the test database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from callback.extensions import db
from callback.partitions import include_name, include_object_for


def test_upgrade_from_empty_matches_the_models_and_downgrades_cleanly(app):
    db.drop_all()
    with db.engine.begin() as connection:  # the fixture stamped create_all's schema as head
        connection.execute(text("DROP TABLE alembic_version"))
    upgrade()
    with db.engine.connect() as connection:
        filters = {
            "include_name": include_name,
            "include_object": include_object_for(connection.dialect.name),
        }
        context = MigrationContext.configure(connection, opts=filters)
        differences = compare_metadata(context, db.metadata)
    assert differences == []
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()  # leave the schema for the next test's clean-up


def test_the_assignee_column_is_filled_from_the_notes_of_earlier_assignments(app, make_user):
    from datetime import UTC, datetime

    from callback.audit import Actor
    from callback.cases import assign, open_case_by_hand
    from callback.intake.service import upsert_orders
    from callback.intake.validation import validate_order
    from callback.models import CaseEvent
    from callback.settings import current_settings
    from tests.factories import order_payload

    now, actor, settings = datetime(2026, 11, 27, 2, 0, tzinfo=UTC), Actor(source="test"), current_settings()
    supervisor_id = make_user("zhang", role="supervisor").id
    upsert_orders(db.session, [validate_order(order_payload("MIG-1"), settings.tz, now)], now=now,
                  settings=settings, actor=actor)  # fmt: skip
    case = open_case_by_hand(db.session, order_no="MIG-1", category="other", description="现场检查",
                             now=now, settings=settings, actor=actor)  # fmt: skip
    assign(db.session, case.id, assignee_id=supervisor_id, now=now, actor=actor)
    assign(db.session, case.id, assignee_id=None, now=now, actor=actor)
    db.session.commit()
    db.session.remove()

    downgrade(revision="d3a0c45e0001")  # the column goes; the notes ("<user id>" or none) stay
    upgrade()
    events = db.session.execute(
        text("SELECT note, assignee_id FROM case_events WHERE action = 'assigned' ORDER BY id")
    ).all()
    assert [tuple(row) for row in events] == [(str(supervisor_id), supervisor_id), (None, None)]
    by_id = select(CaseEvent).where(CaseEvent.action == "assigned").order_by(CaseEvent.id)
    assigned = db.session.scalars(by_id)
    assert [event.assignee_id for event in assigned] == [supervisor_id, None]


def test_the_cases_copy_of_their_orders_centre_and_manager_is_filled(app):
    from datetime import UTC, datetime

    from callback.audit import Actor
    from callback.cases import open_case_by_hand
    from callback.intake.service import upsert_orders
    from callback.intake.validation import validate_order
    from callback.settings import current_settings
    from tests.factories import order_payload

    now, actor, settings = datetime(2026, 11, 29, 2, 0, tzinfo=UTC), Actor(source="test"), current_settings()
    upsert_orders(db.session, [validate_order(order_payload("MIG-2"), settings.tz, now)], now=now,
                  settings=settings, actor=actor)  # fmt: skip
    open_case_by_hand(db.session, order_no="MIG-2", category="other", description="现场检查",
                      now=now, settings=settings, actor=actor)  # fmt: skip
    db.session.commit()
    db.session.remove()

    downgrade(revision="s4p000000001")  # the copy goes; the order then moves (as an earlier intake did)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE work_orders SET service_center = '城东中心', account_manager = NULL"
                " WHERE order_no = 'MIG-2'"
            )
        )
    upgrade()
    copies = db.session.execute(text("SELECT service_center, account_manager FROM supervision_cases")).all()
    assert [tuple(row) for row in copies] == [("城东中心", None)]
