"""insert_rows stores exactly what a SQLAlchemy insert stores, and fails the way one fails."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import DateTime, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from callback.bulk import insert_rows
from callback.extensions import db
from callback.models import AuditEvent, WorkOrder
from callback.models.types import UTCDateTime
from tests.factories import store_order, valid_order

AT = datetime(2026, 3, 1, 1, 30, 5, 120, tzinfo=UTC)


def audit_row(entity_id: int) -> dict[str, object]:
    return {
        "at": AT,
        "actor_id": None,
        "source": "import:orders.csv",
        "channel": "cli",
        "address": None,
        "action": "order.updated",
        "entity_type": "work_order",
        "entity_id": entity_id,
        "details": {"changes": {"customer_name": ["宏达五金店", None], "has_engineering": [False, True]}},
    }


def test_rows_are_stored_as_a_sqlalchemy_insert_stores_them(app: Flask):
    db.session.execute(insert(AuditEvent), [audit_row(1), audit_row(2)])
    insert_rows(db.session, AuditEvent.__table__, [audit_row(1), audit_row(2)])
    db.session.commit()

    # As the database holds them (text of the time and of the JSON), not only as SQLAlchemy reads them back.
    stored = db.session.execute(
        select(AuditEvent.entity_id, text("CAST(at AS TEXT)"), text("CAST(details AS TEXT)"))
        .select_from(AuditEvent)
        .order_by(AuditEvent.id)
    ).all()
    assert len(stored) == 4
    assert stored[2:] == stored[:2]
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(event.at, event.details) for event in events[2:]] == [
        (event.at, event.details) for event in events[:2]
    ]
    assert events[3].details["changes"]["customer_name"] == ["宏达五金店", None]


def test_a_column_left_out_gets_its_scalar_default(app: Flask):
    order = valid_order("GD-BULK-1")
    row = {
        **order.values,
        "order_no_key": "gd-bulk-1",
        "source_updated_at": AT,
        "created_at": AT,
        "updated_at": AT,
    }
    insert_rows(db.session, WorkOrder.__table__, [row])
    db.session.commit()
    assert db.session.scalars(select(WorkOrder.due_task_pending)).one() is True


def test_a_column_whose_default_is_computed_must_be_given(app: Flask):
    order = valid_order("GD-BULK-1")
    row = {**order.values, "source_updated_at": AT, "created_at": AT, "updated_at": AT}  # no order_no_key
    with pytest.raises(ValueError, match="order_no_key"):
        insert_rows(db.session, WorkOrder.__table__, [row])


def test_a_duplicate_key_is_sqlalchemys_integrity_error(app: Flask):
    store_order("GD-BULK-1")
    order = valid_order("GD-BULK-1")
    row = {
        **order.values,
        "order_no_key": "gd-bulk-1",
        "source_updated_at": AT,
        "created_at": AT,
        "updated_at": AT,
    }
    with pytest.raises(IntegrityError):
        insert_rows(db.session, WorkOrder.__table__, [row])
    db.session.rollback()
    assert db.session.scalars(select(WorkOrder.order_no)).all() == ["GD-BULK-1"]


def test_utc_times_are_written_for_sqlite_as_sqlalchemy_writes_them():
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    sqlalchemys = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and sqlalchemys is not None
    shanghai = ZoneInfo("Asia/Shanghai")
    moments = [
        datetime(2026, 3, 1, 9, 30, tzinfo=shanghai),
        datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=shanghai),  # the day before in UTC, a microsecond
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
    ]
    assert [ours(moment) for moment in moments] == [
        sqlalchemys(moment.astimezone(UTC).replace(tzinfo=None)) for moment in moments
    ]
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 3, 1, 9, 30))
