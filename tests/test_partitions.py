"""Monthly partitions of audit_events on PostgreSQL: rows land in their month, the migration moves them there,
the trail keeps working (queries, append-only, the retention scrub), and a month leaves in one statement."""

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from callback.audit import Actor, AuditEntry, record
from callback.extensions import db
from callback.models import AuditEvent
from callback.partitions import Month, ensure_months, is_partitioned, partitions
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="partitions exist on PostgreSQL only")

BEFORE = "s3d000000001"
SEPTEMBER = datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def add_event(at: datetime, order_id: int, action: str = "order.updated") -> None:
    record(
        db.session,
        Actor(source="test"),
        at,
        [AuditEntry(action, "order", order_id, {"phone": "+8613800138000"})],
    )


def partition_of_each_event() -> dict[int, str]:
    rows = db.session.execute(text("SELECT entity_id, tableoid::regclass::text FROM audit_events"))
    return {entity_id: table for entity_id, table in rows}


def test_each_event_lands_in_the_partition_of_its_utc_month(app) -> None:
    ensure_months(db.session.connection(), "audit_events", SEPTEMBER, months_ahead=3)
    add_event(SEPTEMBER, 1)
    add_event(OCTOBER, 2)
    add_event(NOVEMBER, 3)
    add_event(datetime(2031, 1, 1, tzinfo=UTC), 4)  # no month table that far ahead: the default keeps it
    db.session.commit()

    assert partition_of_each_event() == {
        1: "audit_events_y2026m09",
        2: "audit_events_y2026m10",
        3: "audit_events_y2026m11",
        4: "audit_events_default",
    }
    # Read through the parent as before: by entity, by period (only that month's partition is scanned).
    assert db.session.scalar(select(func.count()).where(AuditEvent.entity_id == 2)) == 1
    plan = "\n".join(
        db.session.execute(
            text("EXPLAIN SELECT * FROM audit_events WHERE at >= '2026-10-01' AND at < '2026-11-01'")
        ).scalars()
    )
    assert "audit_events_y2026m10" in plan
    assert "audit_events_y2026m09" not in plan and "audit_events_y2026m11" not in plan


def test_months_are_created_ahead_once_and_tick_does_it(app, runner) -> None:
    connection = db.session.connection()
    created = ensure_months(connection, "audit_events", datetime(2027, 5, 10, tzinfo=UTC), months_ahead=2)
    db.session.commit()

    assert created[-3:] == ["audit_events_y2027m05", "audit_events_y2027m06", "audit_events_y2027m07"]
    assert ensure_months(db.session.connection(), "audit_events", datetime(2027, 5, 10, tzinfo=UTC)) == [
        "audit_events_y2027m08"
    ]
    db.session.commit()
    result = runner.invoke(args=["tick", "--now", "2027-08-15T10:00:00"])
    assert result.exit_code == 0, result.output
    assert (
        "audit partitions created: audit_events_y2027m09, audit_events_y2027m10, audit_events_y2027m11"
        in (result.output)
    )
    assert "audit_events_y2027m11" in partitions(db.session.connection(), "audit_events")


def test_a_month_with_rows_in_the_default_partition_is_left_to_it(app) -> None:
    add_event(datetime(2030, 6, 15, tzinfo=UTC), 7)
    db.session.commit()

    created = ensure_months(
        db.session.connection(), "audit_events", datetime(2030, 5, 1, tzinfo=UTC), months_ahead=2
    )
    db.session.commit()

    assert "audit_events_y2030m05" in created and "audit_events_y2030m07" in created
    assert "audit_events_y2030m06" not in created  # its event stays in the default partition, still readable
    assert partition_of_each_event()[7] == "audit_events_default"


def test_the_migration_moves_every_event_into_its_month_and_back(app) -> None:
    downgrade(revision=BEFORE)
    assert not is_partitioned(db.session.connection(), "audit_events")
    db.session.commit()
    for number, at in enumerate([SEPTEMBER, OCTOBER, NOVEMBER, datetime(2025, 12, 31, 23, 0, tzinfo=UTC)], 1):
        add_event(at, number)
    db.session.commit()
    ids_before = dict(db.session.execute(text("SELECT entity_id, id FROM audit_events")).all())
    db.session.remove()

    upgrade()

    assert is_partitioned(db.session.connection(), "audit_events")
    assert partition_of_each_event() == {
        1: "audit_events_y2026m09",
        2: "audit_events_y2026m10",
        3: "audit_events_y2026m11",
        4: "audit_events_y2025m12",
    }
    assert dict(db.session.execute(text("SELECT entity_id, id FROM audit_events")).all()) == ids_before
    # Every month from the oldest event to three months ahead of today exists, and the default partition.
    names = partitions(db.session.connection(), "audit_events")
    assert "audit_events_default" in names
    this_month = Month.of(datetime.now(UTC))
    assert this_month.plus(3).partition_of("audit_events") in names
    assert {f"audit_events_y2026m{month:02d}" for month in range(1, 9)} <= set(names)
    # New events take the next id of the same sequence.
    add_event(NOVEMBER, 5)
    db.session.commit()
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.entity_id == 5)) > max(
        ids_before.values()
    )

    # Still append-only: the trigger was recreated on the partitioned table and reaches every partition.
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_events WHERE entity_id = 2"))
    db.session.rollback()
    # The retention purge's scrub (callback/retention.py) is still allowed.
    db.session.execute(text("SELECT set_config('callback.audit_scrub', 'on', true)"))
    db.session.execute(text("UPDATE audit_events SET details = '{\"purged\": true}' WHERE entity_id = 1"))
    db.session.commit()
    assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.entity_id == 1)) == {"purged": True}

    # A month leaves whole, without a row-by-row DELETE (the archive step of docs/scaling.md).
    db.session.execute(text("ALTER TABLE audit_events DETACH PARTITION audit_events_y2025m12"))
    db.session.execute(text("DROP TABLE audit_events_y2025m12"))
    db.session.commit()
    assert sorted(partition_of_each_event()) == [1, 2, 3, 5]
    db.session.remove()

    downgrade(revision=BEFORE)

    assert not is_partitioned(db.session.connection(), "audit_events")
    assert sorted(partition_of_each_event().items()) == [(n, "audit_events") for n in (1, 2, 3, 5)]
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_events"))
    db.session.rollback()
    db.session.remove()
    upgrade()  # leave the schema as the other tests expect it
