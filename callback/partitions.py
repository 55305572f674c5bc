"""Monthly partitions of the audit trail and the call attempts on PostgreSQL (issue 14; docs/scaling.md).

`audit_events` grows with every state change and every read of personal data: ~100M rows a few years into a
province. On PostgreSQL it is range-partitioned by `at` into one table per UTC month
(`audit_events_y2026m11`), plus a default partition that catches a row whose month has no table yet (so an
audit row is never refused). Month tables are created ahead (`MONTHS_AHEAD`) by the migration, by
`create_all` (the tests' schema) and by every `tick`, so the default partition stays empty. An old month
leaves in one statement (`DETACH PARTITION`, then archive and `DROP TABLE`) instead of a DELETE of millions
of rows.

The primary key of a partitioned table must hold the partition key: on PostgreSQL it is `(id, at)`; the ORM
still knows events by `id` alone (ids come from one sequence, so they stay unique). SQLite has no partitions:
everything here does nothing there.

`call_attempts` is referenced by six foreign keys, which must point at a unique key holding the partition key:
it is partitioned by `id` itself, in one block of ids per month (`call_attempts_y2026m11` holds the ids drawn
in November). Each new month's block starts where the last one ends and is twice as large as the most ids any
month has used (at least `MIN_IDS_PER_MONTH`); at the month's first tick the id sequence jumps to the start of
that month's block (`start_month_ids`). Keys, foreign keys, URLs and the API's ids stay what they were.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import PrimaryKeyConstraint, Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler

log = logging.getLogger(__name__)

# Months created beyond the current one: a tick that stops for up to this long loses nothing.
MONTHS_AHEAD = 3
# Table.info key naming the column a table is range-partitioned by each month (on PostgreSQL).
PARTITION_KEY = "monthly_partition_key"
PARTITION_TABLE = re.compile(r"(audit_events|call_attempts)_(y\d{4}m\d{2}|default)")
# Tables partitioned by id blocks, one a month (the others: by a timestamp's UTC month).
BY_ID_BLOCK = frozenset({"call_attempts"})
# A month's block of ids: twice the most ids any month has used so far, at least this many, rounded up to
# a multiple of ID_ROUNDING. PostgreSQL's ids are `integer`s: 1M a month lasts 178 years, 16M (a national
# database's ~8M attempts a month, twice) 11 years (docs/scaling.md).
MIN_IDS_PER_MONTH = 1_000_000
ID_ROUNDING = 1_000_000
MAX_ID = 2**31 - 1
# Columns unique within each month of an id-block table: PostgreSQL cannot make them unique across
# partitions (a unique key must hold the partition key), so each month has its own unique index.
UNIQUE_PER_MONTH = {"call_attempts": ("provider_call_sid",)}
_BOUND = re.compile(r"FOR VALUES FROM \('?(\w+)'?\) TO \('?(\w+)'?\)")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime | date) -> "Month":
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def __sub__(self, other: "Month") -> int:
        """The number of months from `other` to this one."""
        return (self.year - other.year) * 12 + self.month - other.month

    def plus(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    def partition_of(self, table: str) -> str:
        return f"{table}_y{self.year:04d}m{self.month:02d}"


def default_partition(table: str) -> str:
    return f"{table}_default"


def is_partitioned(connection: Connection, table: str) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.execute(
            text(
                "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relname = :table AND c.relnamespace = current_schema()::regnamespace"
            ),
            {"table": table},
        ).scalar()
    )


def partitions(connection: Connection, table: str) -> list[str]:
    """Return the names of a partitioned table's partitions (none on SQLite or an unpartitioned table)."""
    if connection.dialect.name != "postgresql":
        return []
    return list(
        connection.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(:table) ORDER BY c.relname"
            ),
            {"table": table},
        ).scalars()
    )


def create_month(
    connection: Connection, table: str, month: Month, bounds: tuple[str, str] | None = None
) -> str:
    """Create a month's table apart, then attach it (`bounds`: its id block, for a table in BY_ID_BLOCK).

    `CREATE TABLE … PARTITION OF` would lock the whole table (ACCESS EXCLUSIVE) until the transaction
    ends; `ATTACH PARTITION` takes SHARE UPDATE EXCLUSIVE, which lets every insert go on.
    """
    name = month.partition_of(table)
    start, end = bounds or (f"'{month.start.isoformat()}'", f"'{month.plus(1).start.isoformat()}'")
    connection.execute(text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)'))
    for column in UNIQUE_PER_MONTH.get(table, ()):
        connection.execute(text(f'CREATE UNIQUE INDEX "uq_{name}_{column}" ON "{name}" ("{column}")'))
    connection.execute(
        text(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM ({start}) TO ({end})')
    )
    return name


def ensure_months(
    connection: Connection,
    table: str,
    now: datetime,
    *,
    months_ahead: int = MONTHS_AHEAD,
    since: Month | None = None,
) -> list[str]:
    """Create the month tables from `since` (default: this month) to `months_ahead` after it; return new ones.

    A month whose rows already sit in the default partition (every tick stopped for months, a wrong clock)
    cannot be attached: it is skipped, and its rows stay in the default partition, read like any other.
    """
    if not is_partitioned(connection, table):
        return []
    if table in BY_ID_BLOCK:
        return _ensure_id_blocks(connection, table, now, months_ahead=months_ahead, since=since)
    existing = set(partitions(connection, table))
    current = Month.of(now)
    month = since or current
    created = []
    while month <= current.plus(months_ahead):
        name = month.partition_of(table)
        if name not in existing:
            with connection.begin_nested():
                # Creating a month scans the default partition for its rows: kept empty, that is instant.
                if _default_holds(connection, table, month):
                    month = month.plus(1)
                    continue
                create_month(connection, table, month)
            created.append(name)
        month = month.plus(1)
    return created


def _default_holds(
    connection: Connection,
    table: str,
    month: Month,
    column: str = "at",
    bounds: tuple[Any, Any] | None = None,
) -> bool:
    default = default_partition(table)
    if connection.execute(text("SELECT to_regclass(:name)"), {"name": default}).scalar() is None:
        return False
    start, end = bounds or (month.start, month.plus(1).start)
    # The names are ours (default_partition, the partition key), never input.
    lower = "" if start is None else f'"{column}" >= :start AND '
    query = text(f'SELECT 1 FROM "{default}" WHERE {lower}"{column}" < :end LIMIT 1')  # noqa: S608
    return bool(connection.execute(query, {"start": start, "end": end}).scalar())


def id_blocks(connection: Connection, table: str) -> dict[str, tuple[int | None, int]]:
    """Return each month partition's block of ids: {name: (first id or None for the lowest, end)}."""
    rows = connection.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:table)"
        ),
        {"table": table},
    )
    blocks = {}
    for name, bound in rows:
        match = _BOUND.fullmatch(bound)
        if match:  # not the default partition
            start, end = match.groups()
            blocks[name] = (None if start == "MINVALUE" else int(start), int(end))
    return blocks


def next_id(connection: Connection, table: str) -> int:
    """Return the id the table's sequence hands out next."""
    sequence = connection.execute(
        text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}
    ).scalar()
    # The sequence's name comes from the catalog, already quoted.
    last, called = connection.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()  # noqa: S608
    return int(last) + 1 if called else int(last)


def _ids_per_month(connection: Connection, table: str, blocks: dict[str, tuple[int | None, int]]) -> int:
    """Twice the most ids a month has used (two probes of each month's primary key), at least the minimum."""
    used = [
        connection.execute(text(f'SELECT max(id) - min(id) + 1 FROM "{name}"')).scalar() or 0  # noqa: S608
        for name in blocks
    ]
    return max(MIN_IDS_PER_MONTH, 2 * max(used, default=0))


def _round_up(value: int) -> int:
    return min(-(-value // ID_ROUNDING) * ID_ROUNDING, MAX_ID)


def _ensure_id_blocks(
    connection: Connection, table: str, now: datetime, *, months_ahead: int, since: Month | None
) -> list[str]:
    """Create the missing months of an id-block table, each block after the last one and the sequence."""
    blocks = id_blocks(connection, table)
    current = Month.of(now)
    month = since or current
    created: list[str] = []
    wanted = {month.plus(n).partition_of(table) for n in range((current.plus(months_ahead) - month) + 1)}
    if wanted <= blocks.keys():
        return created
    # Two ticks at once would give two months the same block: the second waits here (inserts do not), then
    # sees the first one's months.
    connection.execute(text(f'LOCK TABLE "{table}" IN SHARE UPDATE EXCLUSIVE MODE'))
    blocks = id_blocks(connection, table)
    while month <= current.plus(months_ahead):
        name = month.partition_of(table)
        if name not in blocks:
            size = _ids_per_month(connection, table, blocks)
            following = next_id(connection, table)
            start = max([end for _, end in blocks.values()] + [following]) if blocks else None
            end = _round_up((following if start is None else start) + size)
            if start is not None and start >= end:
                log.warning("%s: no ids left for %s (integer ids end at %d)", table, name, MAX_ID)
                break
            with connection.begin_nested():
                if _default_holds(connection, table, month, "id", (start, end)):
                    month = month.plus(1)
                    continue
                create_month(
                    connection, table, month, ("MINVALUE" if start is None else str(start), str(end))
                )
            blocks[name] = (start, end)
            created.append(name)
        month = month.plus(1)
    return created


def start_month_ids(connection: Connection, table: str, now: datetime) -> int | None:
    """At a month's first tick, move the id sequence to the start of the month's block; return that id.

    Ids drawn before it (the minute between midnight and the tick, or a month when no tick ran) stay in the
    previous month's block. Two ticks at once: the table lock (which inserts do not wait for) makes the
    second see the sequence already moved, so it never moves back.
    """
    if not is_partitioned(connection, table):
        return None
    start = id_blocks(connection, table).get(Month.of(now).partition_of(table), (None, 0))[0]
    if start is None or next_id(connection, table) >= start:
        return None
    connection.execute(text(f'LOCK TABLE "{table}" IN SHARE UPDATE EXCLUSIVE MODE'))
    if next_id(connection, table) >= start:
        return None
    connection.execute(
        text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :start, false)"),
        {"table": table, "start": start},
    )
    return start


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key_with_partition_key(
    constraint: PrimaryKeyConstraint, compiler: DDLCompiler, **kw: Any
) -> str:
    """On PostgreSQL a partitioned table's primary key must include its partition key: add it."""
    sql = compiler.visit_primary_key_constraint(constraint, **kw)
    table = constraint.table
    key = table.info.get(PARTITION_KEY) if isinstance(table, Table) else None
    if not key or key in constraint.columns or not sql.rstrip().endswith(")"):
        return sql
    return sql.rstrip()[:-1] + f", {compiler.preparer.quote(key)})"


def create_initial_partitions(table: Table, connection: Connection, **_: object) -> None:
    """After `create_all` on PostgreSQL: the default partition and the months around now (tests' schema)."""
    if connection.dialect.name != "postgresql":
        return
    default = default_partition(table.name)
    connection.execute(text(f'CREATE TABLE IF NOT EXISTS "{default}" PARTITION OF "{table.name}" DEFAULT'))
    for column in UNIQUE_PER_MONTH.get(table.name, ()):
        connection.execute(
            text(f'CREATE UNIQUE INDEX IF NOT EXISTS "uq_{default}_{column}" ON "{default}" ("{column}")')
        )
    now = datetime.now(UTC)
    # An id-block table's first block starts at its lowest id and runs past the sequence: this month's.
    since = Month.of(now) if table.name in BY_ID_BLOCK else Month.of(now).plus(-1)
    ensure_months(connection, table.name, now, since=since)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's filter: a month or default partition is not a model of its own."""
    return not (type_ == "table" and name is not None and PARTITION_TABLE.fullmatch(name))


def include_object_for(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's filter on `dialect`: what partitions make and what a model makes on other databases only.

    - The foreign keys PostgreSQL adds from a referencing table to each partition of `call_attempts` (the
      one to the parent is the model's).
    - A model's constraint or index created on another database only (`.ddl_if(dialect=…)`): the unique
      call id on SQLite, which PostgreSQL keeps per partition.
    """

    def include_object(object_: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "foreign_key_constraint" and reflected:
            return not PARTITION_TABLE.fullmatch(object_.referred_table.name)
        ddl_if = getattr(object_, "_ddl_if", None)
        if not reflected and ddl_if is not None and ddl_if.dialect is not None:
            return dialect in ([ddl_if.dialect] if isinstance(ddl_if.dialect, str) else ddl_if.dialect)
        return True

    return include_object
