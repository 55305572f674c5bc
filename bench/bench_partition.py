"""Monthly partitions of audit_events and call_attempts at scale: the migration on a large table, and a
month's retention.

    .venv/bin/python bench/bench_partition.py                       # 1,000,000 events over 13 months
    .venv/bin/python bench/bench_partition.py --rows 10000000       # the figures in bench/README.md
    .venv/bin/python bench/bench_partition.py --table call_attempts --rows 10000000
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

With `--table call_attempts` the same steps for the attempts (migrated to `s3f000000001`, filled by COPY
with N attempts on N/20 orders and tasks, then the migration `s4c000000001`: one block of ids per month); the
month's DELETE is by its id range (as a retention batch would go), with the six foreign keys' checks on the
referencing tables (empty here); its reads: one attempt by id, a task's attempts, a month's count.

Printed: seconds and ratios to the anchor. Figures and their reading: bench/README.md and docs/scaling.md.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BEFORE = "s3d000000001"
PARTITIONS = "s3e000000001"
ATTEMPTS_BEFORE = "s3f000000001"
ATTEMPT_PARTITIONS = "s4c000000001"

ONE_MONTH = "at >= %(month)s AND at < %(month)s::timestamp + interval '1 month'"
QUERIES = {
    "one order's history (entity)": "SELECT * FROM audit_events "
    "WHERE entity_type = 'order' AND entity_id = 123457 ORDER BY id",
    "a day of one action (action, at)": "SELECT count(*) FROM audit_events WHERE action = 'task.claimed' "
    "AND at >= %(day)s AND at < %(day)s::timestamp + interval '1 day'",
    "a month's count (at)": "SELECT count(*) FROM audit_events WHERE at >= %(month)s "
    "AND at < %(month)s::timestamp + interval '1 month'",
}


ATTEMPT_QUERIES = {
    "one attempt (id)": "SELECT * FROM call_attempts WHERE id = %(id)s",
    "a task's attempts (task_id)": "SELECT * FROM call_attempts WHERE task_id = %(task)s ORDER BY id",
    "a month's count (started_at)": "SELECT count(*) FROM call_attempts WHERE started_at >= %(month)s "
    "AND started_at < %(month)s::timestamp + interval '1 month'",
}
SNAPSHOT = (
    '{"order_no": "GD-2026-%08d", "customer_name": "张三", "customer_phone": "+8613800138000", '
    '"address": "兰州市城关区某路 1 号", "customer_type": "small_micro", "service_center": "城关", '
    '"status": "connected", "accepted_at": "2026-03-01T02:00:00+00:00", '
    '"due_at": "2026-03-12T02:00:00+00:00"}'
)
TRANSCRIPT = (
    '[{"at": "%s", "event": "say", "question": "q1", "text": "您好", "digits": null}, '
    '{"at": "%s", "event": "digits", "question": "q1", "text": null, "digits": "1"}]'
)


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


def fill_orders_and_tasks(database_url: str, count: int) -> None:
    """N connected orders, each with one finished completion task (ids 1..N), through bench/bulk.py's COPY."""
    from bench.bulk import bulk_insert
    from callback import create_app
    from callback.extensions import db
    from callback.models import CallbackTask, WorkOrder

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        for first in range(1, count + 1, 50_000):
            ids = range(first, min(count, first + 49_999) + 1)
            orders = [
                {
                    "id": n,
                    "order_no": f"GD-2026-{n:08d}",
                    "customer_name": "张三",
                    "customer_phone": "+8613800138000",
                    "customer_type": "small_micro",
                    "service_center": "城关",
                    "has_engineering": False,
                    "status": "connected",
                    "accepted_at": moment,
                    "surveyed_at": moment,
                    "connected_at": moment,
                    "due_at": moment,
                    "source_updated_at": moment,
                    "created_at": moment,
                    "updated_at": moment,
                }
                for n in ids
            ]
            tasks = [
                {
                    "id": n,
                    "order_id": n,
                    "kind": "completion",
                    "state": "done",
                    "channel": "auto",
                    "not_before": moment,
                    "due_by": moment,
                    "attempt_count": 3,
                    "failed_attempts": 2,
                    "created_at": moment,
                    "updated_at": moment,
                }
                for n in ids
            ]
            bulk_insert(db.session, WorkOrder.__table__, orders)
            bulk_insert(db.session, CallbackTask.__table__, tasks)
            db.session.commit()
        for table in ("work_orders", "callback_tasks"):
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                {"table": table, "last": count},
            )
        db.session.commit()
        db.engine.dispose()


def fill_attempts(connection: psycopg.Connection, rows: int, months: int, tasks: int) -> None:
    """N attempts at even steps from `months` months ago to now (ids in that order), by COPY.

    Half automated (a provider call id, a two-line transcript), half by 20 operators (a note); each carries
    an order snapshot."""
    operators = [row[0] for row in connection.execute("SELECT id FROM users ORDER BY id").fetchall()]
    now = datetime.now(UTC).replace(tzinfo=None)
    step = timedelta(seconds=months * 30 * 86400 / rows)
    first = now - step * rows
    columns = (
        "task_id, channel, operator_id, disposition, aapor_code, started_at, slot, ended_at, note, "
        "order_snapshot, provider_call_sid, call_status, answered_by, transcript"
    )
    dispositions = [("completed", "1.1"), ("no_answer", "3.13"), ("busy", "3.12"), ("refused", "2.11")]
    with connection.cursor() as cursor, cursor.copy(f"COPY call_attempts ({columns}) FROM STDIN") as copy:
        lines = []
        for n in range(rows):
            started = first + step * n
            at = started.isoformat(sep=" ")
            disposition, code = dispositions[n % 4]
            task = n % tasks + 1
            snapshot = SNAPSHOT % task
            if n % 2:
                lines.append(
                    f"{task}\toperator\t{operators[n % len(operators)]}\t{disposition}\t{code}\t{at}\t"
                    f"morning\t{at}\t客户说明天再打\t{snapshot}\t\\N\t\\N\t\\N\t[]\n"
                )
            else:
                lines.append(
                    f"{task}\tauto\t\\N\t{disposition}\t{code}\t{at}\tmorning\t{at}\t\\N\t{snapshot}\t"
                    f"CA{n:032x}\tcompleted\thuman\t{TRANSCRIPT % (at, at)}\n"
                )
            if len(lines) == 100_000:
                copy.write("".join(lines))
                lines = []
                if (n + 1) % 1_000_000 == 0:
                    print(f"  filled {n + 1:,} rows", flush=True)
        copy.write("".join(lines))
    connection.commit()
    connection.execute("ANALYZE call_attempts")
    connection.commit()


def run_attempts(args: argparse.Namespace, plain_url: str) -> None:
    """The call_attempts bench: fill, anchor, DELETE of a month, the migration, DETACH + DROP, reads."""
    tasks = max(1, args.rows // 20)
    started = time.perf_counter()
    if not args.reuse:
        migrate(args.database_url, ATTEMPTS_BEFORE)
        print(f"filling {tasks:,} orders and tasks, then call_attempts with {args.rows:,} attempts")
        fill_orders_and_tasks(args.database_url, tasks)
    with psycopg.connect(plain_url) as connection:
        if args.reuse:
            print("reusing the attempts of an earlier run (--reuse)")
        else:
            connection.execute(
                "INSERT INTO users (username, role, password_hash, active, created_at) "
                "SELECT 'bench' || n, 'operator', 'x', true, now() FROM generate_series(1, 20) n"
            )
            fill_attempts(connection, args.rows, args.months, tasks)
        fill_seconds = time.perf_counter() - started
        size = connection.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('call_attempts'))"
        ).fetchone()[0]
        # The oldest whole month, and its ids (the DELETE goes by id, as a retention batch would).
        month = connection.execute(
            "SELECT date_trunc('month', min(started_at)) + interval '1 month' FROM call_attempts"
        ).fetchone()[0]
        low, high, month_rows = connection.execute(
            "SELECT min(id), max(id), count(*) FROM call_attempts "
            "WHERE started_at >= %(month)s AND started_at < %(month)s::timestamp + interval '1 month'",
            {"month": month},
        ).fetchone()
        params = {"month": month, "id": (low + high) // 2, "task": 4321}
        before = {name: best_ms(connection, sql, params) for name, sql in ATTEMPT_QUERIES.items()}

        anchor = timed(connection, "CREATE TABLE bench_copy AS SELECT * FROM call_attempts")
        connection.execute("DROP TABLE bench_copy")
        connection.commit()
        delete_seconds = timed(
            connection,
            "DELETE FROM call_attempts WHERE id BETWEEN %(low)s AND %(high)s",
            {"low": low, "high": high},
        )
        connection.rollback()

    migration_seconds = migrate(args.database_url, ATTEMPT_PARTITIONS)

    with psycopg.connect(plain_url) as connection:
        count = connection.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'call_attempts'::regclass"
        ).fetchone()[0]
        after = {name: best_ms(connection, sql, params) for name, sql in ATTEMPT_QUERIES.items()}
        name, in_it = connection.execute(
            "SELECT tableoid::regclass::text, count(*) FROM call_attempts "
            "WHERE id BETWEEN %(low)s AND %(high)s GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            {"low": low, "high": high},
        ).fetchone()
        partition_rows = connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608
        started = time.perf_counter()
        connection.execute(f"ALTER TABLE call_attempts DETACH PARTITION {name}")
        connection.execute(f"DROP TABLE {name}")
        connection.commit()
        drop_seconds = time.perf_counter() - started

    print(f"\ncall_attempts: {args.rows:,} rows, {size} with its indexes; filled in {fill_seconds:.0f} s")
    print(f"anchor: CREATE TABLE AS SELECT * (one copy, no index): {anchor:.1f} s")
    print(
        f"migration {ATTEMPT_PARTITIONS} into {count} partitions: {migration_seconds:.1f} s "
        f"({migration_seconds / anchor:.1f}x the anchor; {args.rows / migration_seconds:,.0f} rows/s)"
    )
    print(
        f"retention of one month ({month_rows:,} rows, ids {low:,}-{high:,}): DELETE {delete_seconds:.2f} s; "
        f"DETACH + DROP of {name} ({partition_rows:,} rows, {in_it:,} of that month) "
        f"{drop_seconds * 1000:.0f} ms "
        f"({delete_seconds / max(drop_seconds, 1e-6):,.0f}x faster)"
    )
    print(
        f"  (DELETE / anchor {delete_seconds / anchor:.2f}; "
        f"DETACH + DROP / anchor {drop_seconds / anchor:.4f})"
    )
    print("reads, best of 5 (ms): before -> after partitioning")
    for query in ATTEMPT_QUERIES:
        print(
            f"  {query}: {before[query]:.2f} -> {after[query]:.2f} "
            f"({after[query] / max(before[query], 1e-6):.2f}x)"
        )


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
    parser.add_argument("--table", choices=["audit_events", "call_attempts"], default="audit_events")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="call_attempts only: keep the database an earlier run filled (still at the revision before)",
    )
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
        if not args.reuse:
            recreate(admin_url, url.database)
    except psycopg.OperationalError as error:
        print(f"bench_partition: no PostgreSQL to run on ({str(error).splitlines()[0]}); skipped")
        return
    if args.table == "call_attempts":
        run_attempts(args, plain_url)
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
