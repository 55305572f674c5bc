"""Monthly partitions on PostgreSQL.

audit_events: rows land in their month, the migration moves them there, the trail keeps working
(queries, append-only, the retention scrub), and a month leaves in one statement. call_attempts: each month
is a block of ids the sequence moves to at the month's first tick, the six foreign keys still hold, an old
month leaves once nothing references it, and the migration (s4c000000001) moves every attempt into its month
and back.
"""

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from callback.audit import Actor, AuditEntry, record
from callback.extensions import db
from callback.models import Answer, AuditEvent, CallAttempt, WorkOrder
from callback.partitions import (
    MIN_IDS_PER_MONTH,
    Month,
    ensure_months,
    id_blocks,
    is_partitioned,
    next_id,
    partitions,
    start_month_ids,
)
from callback.retention import PURGED_TEXT, purge_orders
from tests.conftest import POSTGRES_URL
from tests.factories import newest_task, store_order

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="partitions exist on PostgreSQL only")

BEFORE = "s3d000000001"
BEFORE_ATTEMPTS = "s3f000000001"
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


def add_attempt(started_at: datetime, note: str, sid: str | None = None) -> CallAttempt:
    task = newest_task()
    attempt = CallAttempt(
        task_id=task.id, channel="auto", started_at=started_at, note=note, provider_call_sid=sid,
        order_snapshot={"customer_name": "张三"},
    )  # fmt: skip
    db.session.add(attempt)
    db.session.commit()
    return attempt


def partition_of_each_attempt() -> dict[str, str]:
    rows = db.session.execute(text("SELECT note, tableoid::regclass::text FROM call_attempts"))
    return {note: table for note, table in rows}


def test_attempt_ids_jump_to_each_months_block_at_its_first_tick(app, runner) -> None:
    store_order()
    connection = db.session.connection()
    january, february = datetime(2031, 1, 1, 0, 1, tzinfo=UTC), datetime(2031, 2, 1, 0, 1, tzinfo=UTC)
    created = ensure_months(connection, "call_attempts", january, months_ahead=1)
    db.session.commit()
    assert created == ["call_attempts_y2031m01", "call_attempts_y2031m02"]
    blocks = id_blocks(db.session.connection(), "call_attempts")
    (jan_start, jan_end), (feb_start, feb_end) = blocks[created[0]], blocks[created[1]]
    # Each block lies beyond every id handed out, follows the one before, and holds at least a million ids.
    assert jan_start is not None and jan_start >= next_id(db.session.connection(), "call_attempts")
    assert jan_end == feb_start and jan_end - jan_start >= MIN_IDS_PER_MONTH
    assert jan_end % 1_000_000 == 0 and feb_end % 1_000_000 == 0

    add_attempt(datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC), "december")  # before January's first tick
    assert start_month_ids(db.session.connection(), "call_attempts", january) == jan_start
    assert start_month_ids(db.session.connection(), "call_attempts", january) is None  # never moves back
    db.session.commit()
    first_of_january = add_attempt(january, "january")
    add_attempt(datetime(2031, 1, 31, 23, 59, tzinfo=UTC), "late january")
    assert start_month_ids(db.session.connection(), "call_attempts", february) == feb_start
    db.session.commit()
    first_of_february = add_attempt(february, "february")

    assert first_of_january.id == jan_start and first_of_february.id == feb_start
    placed = partition_of_each_attempt()
    assert placed["january"] == placed["late january"] == "call_attempts_y2031m01"
    assert placed["february"] == "call_attempts_y2031m02"
    assert placed["december"] not in {"call_attempts_y2031m01", "call_attempts_y2031m02"}
    # Read through the parent as before: by id (only its block's partition is read), by task, by period.
    assert db.session.get(CallAttempt, feb_start).note == "february"
    plan = "\n".join(
        db.session.execute(
            text("EXPLAIN SELECT * FROM call_attempts WHERE id = :id"), {"id": feb_start}
        ).scalars()
    )
    assert "call_attempts_y2031m02" in plan and "call_attempts_y2031m01" not in plan

    # Tick does both: the months ahead, and at March's first run the move to March's block.
    result = runner.invoke(args=["tick", "--now", "2031-03-01T00:02:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "call attempt partitions created: call_attempts_y2031m03, call_attempts_y2031m04" in result.output
    march_start = id_blocks(db.session.connection(), "call_attempts")["call_attempts_y2031m03"][0]
    assert f"call attempt ids this month start at {march_start}" in result.output
    assert add_attempt(datetime(2031, 3, 1, 0, 3, tzinfo=UTC), "march").id == march_start
    result = runner.invoke(args=["tick", "--now", "2031-03-01T00:03:00+00:00"])
    assert "call attempt" not in result.output  # nothing left to do this month


def test_foreign_keys_to_attempts_hold_and_an_old_month_leaves_once_nothing_references_it(app) -> None:
    store_order()
    month = datetime(2032, 6, 1, 0, 1, tzinfo=UTC)
    ensure_months(db.session.connection(), "call_attempts", month, months_ahead=1)
    start_month_ids(db.session.connection(), "call_attempts", month)
    db.session.commit()
    attempt = add_attempt(month, "june", sid="CA0001")
    attempt_id, task_id = attempt.id, attempt.task_id
    db.session.add(Answer(attempt_id=attempt_id, question="q1", value=True, answered_at=month))
    db.session.commit()

    # An answer to no attempt is refused, as before partitioning.
    db.session.add(Answer(attempt_id=attempt_id + 5, question="q1", value=True, answered_at=month))
    with pytest.raises(IntegrityError, match="foreign key"):
        db.session.commit()
    db.session.rollback()
    # The provider's call id is unique within the month.
    db.session.add(CallAttempt(task_id=task_id, channel="auto", started_at=month, provider_call_sid="CA0001"))
    with pytest.raises(IntegrityError, match="provider_call_sid"):
        db.session.commit()
    db.session.rollback()

    # The month cannot leave while an answer points into it; once the answers are gone, it leaves whole.
    with pytest.raises(DBAPIError, match="foreign key"):
        db.session.execute(text("ALTER TABLE call_attempts DETACH PARTITION call_attempts_y2032m06"))
    db.session.rollback()
    db.session.execute(text("DELETE FROM answers"))
    db.session.execute(text("ALTER TABLE call_attempts DETACH PARTITION call_attempts_y2032m06"))
    db.session.execute(text("DROP TABLE call_attempts_y2032m06"))
    db.session.commit()
    assert db.session.get(CallAttempt, attempt_id) is None
    assert "call_attempts_y2032m06" not in partitions(db.session.connection(), "call_attempts")


def test_the_migration_moves_every_attempt_into_its_month_and_back(app) -> None:
    order = store_order()
    db.session.remove()
    downgrade(revision=BEFORE_ATTEMPTS)
    assert not is_partitioned(db.session.connection(), "call_attempts")
    db.session.commit()
    months = {
        "2025-12": datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
        "2026-09": SEPTEMBER,
        "2026-10": OCTOBER,
        "2026-11": NOVEMBER,
    }
    for note, at in months.items():
        add_attempt(at, note, sid=f"CA-{note}")
    db.session.add(
        Answer(attempt_id=add_attempt(NOVEMBER, "answered").id, question="q1", value=1, answered_at=NOVEMBER)
    )
    db.session.commit()
    ids_before = dict(db.session.execute(text("SELECT note, id FROM call_attempts")).all())
    db.session.remove()

    upgrade()

    assert is_partitioned(db.session.connection(), "call_attempts")
    placed = partition_of_each_attempt()
    assert {note: placed[note] for note in months} == {
        "2025-12": "call_attempts_y2025m12",
        "2026-09": "call_attempts_y2026m09",
        "2026-10": "call_attempts_y2026m10",
        "2026-11": "call_attempts_y2026m11",
    }
    assert dict(db.session.execute(text("SELECT note, id FROM call_attempts")).all()) == ids_before
    names = partitions(db.session.connection(), "call_attempts")
    assert "call_attempts_default" in names
    assert Month.of(datetime.now(UTC)).plus(3).partition_of("call_attempts") in names
    # The six foreign keys point at the partitioned table again (and are enforced: test above).
    referencing = db.session.execute(
        text(
            "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid = 'call_attempts'::regclass ORDER BY 1"
        )
    ).scalars()
    assert list(referencing) == [
        "answers", "call_recordings", "case_evidence", "findings", "qa_reviews", "sms_followups"
    ]  # fmt: skip
    # A new attempt takes the next id of the same sequence, in this month's block.
    newest_id = add_attempt(datetime.now(UTC), "after").id
    assert newest_id > max(ids_before.values())
    assert partition_of_each_attempt()["after"] == Month.of(datetime.now(UTC)).partition_of("call_attempts")

    # The retention purge de-identifies attempts through the partitioned table.
    purge_orders(db.session, [order.id], now=NOVEMBER, actor=Actor(source="test"), older_than_days=None)
    db.session.commit()
    assert set(db.session.scalars(select(CallAttempt.note))) == {PURGED_TEXT}
    assert db.session.get(WorkOrder, order.id).customer_name == PURGED_TEXT
    db.session.remove()

    downgrade(revision=BEFORE_ATTEMPTS)

    assert not is_partitioned(db.session.connection(), "call_attempts")
    assert dict(db.session.execute(text("SELECT id, tableoid::regclass::text FROM call_attempts")).all()) == {
        attempt_id: "call_attempts" for attempt_id in [*ids_before.values(), newest_id]
    }
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 1
    with pytest.raises(IntegrityError, match="foreign key"):
        db.session.add(Answer(attempt_id=0, question="q1", value=1, answered_at=NOVEMBER))
        db.session.commit()
    db.session.rollback()
    db.session.remove()
    upgrade()  # leave the schema as the other tests expect it
