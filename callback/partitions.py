"""Monthly partitions of the audit trail on PostgreSQL (issue 14, "Beyond one machine"; docs/scaling.md).

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
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import PrimaryKeyConstraint, Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler

# Months created beyond the current one: a tick that stops for up to this long loses nothing.
MONTHS_AHEAD = 3
# Table.info key naming the column a table is range-partitioned by each month (on PostgreSQL).
PARTITION_KEY = "monthly_partition_key"
PARTITION_TABLE = re.compile(r"audit_events_(y\d{4}m\d{2}|default)")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime | date) -> "Month":
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

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


def create_month(connection: Connection, table: str, month: Month) -> str:
    """Create a month's table apart, then attach it.

    `CREATE TABLE … PARTITION OF` would lock the whole audit trail (ACCESS EXCLUSIVE) until the transaction
    ends; `ATTACH PARTITION` takes SHARE UPDATE EXCLUSIVE, which lets every insert go on.
    """
    name = month.partition_of(table)
    connection.execute(text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)'))
    connection.execute(
        text(
            f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{month.plus(1).start.isoformat()}')"
        )
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


def _default_holds(connection: Connection, table: str, month: Month) -> bool:
    default = default_partition(table)
    if connection.execute(text("SELECT to_regclass(:name)"), {"name": default}).scalar() is None:
        return False
    return bool(
        connection.execute(
            # The name is ours (default_partition), never input.
            text(f'SELECT 1 FROM "{default}" WHERE at >= :start AND at < :end LIMIT 1'),  # noqa: S608
            {"start": month.start, "end": month.plus(1).start},
        ).scalar()
    )


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
    connection.execute(
        text(
            f'CREATE TABLE IF NOT EXISTS "{default_partition(table.name)}" '
            f'PARTITION OF "{table.name}" DEFAULT'
        )
    )
    now = datetime.now(UTC)
    ensure_months(connection, table.name, now, since=Month.of(now).plus(-1))


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's filter: a month or default partition of the audit trail is not a model of its own."""
    return not (type_ == "table" and name is not None and PARTITION_TABLE.fullmatch(name))
