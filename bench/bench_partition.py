"""Monthly partitions of audit_events at scale: the migration on a large table, and a month's retention.

    .venv/bin/python bench/bench_partition.py                       # 1,000,000 events over 13 months
    .venv/bin/python bench/bench_partition.py --rows 10000000       # the figures in bench/README.md
    CALLBACK_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/DB \
        .venv/bin/python bench/bench_partition.py

PostgreSQL only (without one it says so and exits 0). The database named (default cb_bench_partition) is
dropped and created again. It is migrated to the revision before the partitions, filled with N audit events
spread evenly over `--months` months (generated in SQL: actions, entities, actors and a details object like
the app's), then:

- anchor: `CREATE TABLE … AS SELECT * FROM audit_events` (copying the rows once, no index): the least any
  rebuild of the table costs;
- the migration `s3e000000001` (rows copied month by month, keys and indexes built after);
- retention of the oldest month: a `DELETE` of its rows on the unpartitioned table (the append-only trigger
  switched off for the bench, rolled back) against `DETACH PARTITION` + `DROP TABLE` on the partitioned one;
- three of the app's reads before and after: one order's history (by entity), a day's events of one action
  (the audit page's filter), and a month's count (best of 5, ms).

Printed: seconds and ratios to the anchor. Figures and their reading: bench/README.md and docs/scaling.md.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BEFORE = "s3d000000001"
PARTITIONS = "s3e000000001"

ONE_MONTH = "at >= %(month)s AND at < %(month)s::timestamp + interval '1 month'"
QUERIES = {
    "one order's history (entity)": "SELECT * FROM audit_events "
    "WHERE entity_type = 'order' AND entity_id = 123457 ORDER BY id",
    "a day of one action (action, at)": "SELECT count(*) FROM audit_events WHERE action = 'task.claimed' "
    "AND at >= %(day)s AND at < %(day)s::timestamp + interval '1 day'",
    "a month's count (at)": "SELECT count(*) FROM audit_events WHERE at >= %(month)s "
    "AND at < %(month)s::timestamp + interval '1 month'",
}


def recreate(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING UTF8')


def migrate(database_url: str, revision: str) -> float:
    """Run `flask db upgrade REVISION` in this process (timed without the app's start-up)."""
    from flask_migrate import upgrade

    from callback import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    with app.app_context():
        started = time.perf_counter()
        upgrade(revision=revision)
        elapsed = time.perf_counter() - started
        from callback.extensions import db

        db.engine.dispose()
    return elapsed


def fill(connection: psycopg.Connection, rows: int, months: int) -> float:
    """N events at even steps from `months` months ago to now; 20 actors, 5 actions, ~150-byte details."""
    connection.execute(
        "INSERT INTO users (username, role, password_hash, active, created_at) "
        "SELECT 'bench' || n, 'operator', 'x', true, now() FROM generate_series(1, 20) n"
    )
    actors = [row[0] for row in connection.execute("SELECT id FROM users ORDER BY id").fetchall()]
    started = time.perf_counter()
    step = months * 30 * 86400 / rows
    batch = 1_000_000
    for first in range(0, rows, batch):
        connection.execute(
            """
            INSERT INTO audit_events (at, actor_id, source, channel, address, action, entity_type, entity_id,
                                      details)
            SELECT now() AT TIME ZONE 'UTC' - make_interval(secs => (%(rows)s - n) * %(step)s),
                   CASE WHEN n %% 3 = 0 THEN NULL ELSE (%(actors)s::int[])[1 + n %% %(actor_count)s] END,
                   CASE WHEN n %% 3 = 0 THEN 'dialer' END,
                   (ARRAY['web', 'api', 'dialer', 'cli'])[1 + n %% 4],
                   CASE WHEN n %% 3 <> 0 THEN '10.20.0.' || (n %% 250) END,
                   (ARRAY['task.claimed', 'task.state', 'order.updated', 'attempt.recorded', 'order.viewed'])
                       [1 + n %% 5],
                   (ARRAY['callback_task', 'callback_task', 'order', 'call_attempt', 'order'])[1 + n %% 5],
                   n / 8,
                   json_build_object('from', 'open', 'to', 'claimed', 'until', '2026-11-29T10:15:00+00:00',
                                     'order_no', 'GD-2026-' || lpad((n / 8)::text, 8, '0'))
            FROM generate_series(%(first)s, %(last)s) n
            """,
            {
                "rows": rows,
                "step": step,
                "actors": actors,
                "actor_count": len(actors),
                "first": first + 1,
                "last": min(rows, first + batch),
            },
        )
        connection.commit()
        print(f"  filled {min(rows, first + batch):,} rows", flush=True)
    connection.execute("ANALYZE audit_events")
    connection.commit()
    return time.perf_counter() - started


def timed(connection: psycopg.Connection, sql: str, params: dict | None = None) -> float:
    started = time.perf_counter()
    connection.execute(sql, params or {})
    return time.perf_counter() - started


def best_ms(connection: psycopg.Connection, sql: str, params: dict) -> float:
    return min(timed(connection, sql, params) for _ in range(5)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CALLBACK_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/cb_bench_partition"
        ),
    )
    args = parser.parse_args()
    url = create_engine(args.database_url).url
    if url.get_backend_name() != "postgresql" or url.database in {"postgres", "test", "template1"}:
        raise SystemExit("a PostgreSQL database of its own is needed (not postgres or test)")
    plain_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin_url = url.set(drivername="postgresql", database="template1").render_as_string(hide_password=False)

    try:
        recreate(admin_url, url.database)
    except psycopg.OperationalError as error:
        print(f"bench_partition: no PostgreSQL to run on ({str(error).splitlines()[0]}); skipped")
        return
    migrate(args.database_url, BEFORE)
    with psycopg.connect(plain_url) as connection:
        print(f"filling audit_events with {args.rows:,} events over {args.months} months")
        fill_seconds = fill(connection, args.rows, args.months)
        size = connection.execute("SELECT pg_size_pretty(pg_total_relation_size('audit_events'))").fetchone()[
            0
        ]
        oldest_month, day = connection.execute(
            "SELECT date_trunc('month', min(at)) + interval '1 month', "
            "date_trunc('day', max(at)) - interval '3 days'"
            " FROM audit_events"
        ).fetchone()
        params = {"month": oldest_month, "day": day}
        before = {name: best_ms(connection, sql, params) for name, sql in QUERIES.items()}

        anchor = timed(connection, "CREATE TABLE bench_copy AS SELECT * FROM audit_events")
        connection.execute("DROP TABLE bench_copy")
        connection.commit()

        # The oldest whole month (its first month may be partial).
        connection.execute("SET session_replication_role = replica")  # the append-only trigger sleeps
        month_rows = connection.execute(
            f"SELECT count(*) FROM audit_events WHERE {ONE_MONTH}",  # noqa: S608 (constants)
            params,
        ).fetchone()[0]
        delete_seconds = timed(
            connection,
            f"DELETE FROM audit_events WHERE {ONE_MONTH}",  # noqa: S608 (constants)
            params,
        )
        connection.rollback()
        connection.execute("SET session_replication_role = origin")
        connection.commit()

    migration_seconds = migrate(args.database_url, PARTITIONS)

    with psycopg.connect(plain_url) as connection:
        count = connection.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass"
        ).fetchone()[0]
        after = {name: best_ms(connection, sql, params) for name, sql in QUERIES.items()}
        name = connection.execute(
            "SELECT tableoid::regclass::text FROM audit_events WHERE at >= %(month)s LIMIT 1", params
        ).fetchone()[0]
        started = time.perf_counter()
        connection.execute(f"ALTER TABLE audit_events DETACH PARTITION {name}")
        connection.execute(f"DROP TABLE {name}")
        connection.commit()
        drop_seconds = time.perf_counter() - started

    print(f"\naudit_events: {args.rows:,} rows, {size} with its indexes; filled in {fill_seconds:.0f} s")
    print(f"anchor: CREATE TABLE AS SELECT * (one copy, no index): {anchor:.1f} s")
    print(
        f"migration s3e000000001 into {count} partitions: {migration_seconds:.1f} s "
        f"({migration_seconds / anchor:.1f}x the anchor; {args.rows / migration_seconds:,.0f} rows/s)"
    )
    print(
        f"retention of one month ({month_rows:,} rows): DELETE {delete_seconds:.2f} s; "
        f"DETACH + DROP {drop_seconds * 1000:.0f} ms "
        f"({delete_seconds / max(drop_seconds, 1e-6):,.0f}x faster)"
    )
    print(
        f"  (DELETE / anchor {delete_seconds / anchor:.2f}; "
        f"DETACH + DROP / anchor {drop_seconds / anchor:.4f})"
    )
    print("reads, best of 5 (ms): before -> after partitioning")
    for name in QUERIES:
        print(
            f"  {name}: {before[name]:.2f} -> {after[name]:.2f} "
            f"({after[name] / max(before[name], 1e-6):.2f}x)"
        )


if __name__ == "__main__":
    main()
