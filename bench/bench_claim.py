"""Claims from concurrent operators against a raw-SQL claim from the same clients on the same table.

    .venv/bin/python bench/bench_claim.py                                   # SQLite, 20k open + 20k retries
    .venv/bin/python bench/bench_claim.py --database-url postgresql+psycopg://postgres@127.0.0.1/DB \\
        --open 100000 --retries 100000 --clients 8 --claims 300 --explain

The table holds `--open` orders with an open operator task each, and `--retries` more whose failed call
waits on `not_before` (an hour ahead) while keeping the earliest `due_by`: the retry backlog at the head
of the queue. Two scenarios run in turn: with the backlog, then with it gone (marked done).

In each, `--clients` processes start together and each makes `--claims` claims, committing each one:

- anchor: the raw single statement `UPDATE … WHERE id = (SELECT … ORDER BY due_by, id LIMIT 1 FOR UPDATE
  SKIP LOCKED) RETURNING id` (SQLite: without the lock clause), with the same predicate as the service;
- claim: the service, `worklist.claim_next` (make waiting tasks ready, pick and take, audit row, load).

Each claim is made for a different operator, so a rule that an operator holds one claim at a time does not
hand back the task already held. Printed: claims/s of both, their ratio (the target is >= 0.5), p50/p99
latency. `--explain` prints the query plans of the service's own statements (EXPLAIN ANALYZE on PostgreSQL,
inside a transaction that is rolled back).
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, event, insert, text

from callback import create_app
from callback.extensions import db
from callback.models import CallbackTask, User, WorkOrder
from callback.models.types import UTCDateTime
from callback.settings import current_settings
from callback.worklist import claim_next

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
BATCH = 10_000
# The column this branch adds; absent on older schemas (so the script also measures the code before it).
HAS_WAITING = hasattr(CallbackTask, "waiting")


def app_for(url: str, folder: str):
    """Create the app on the bench database, calling hours always open."""
    os.environ["CALLBACK_INSTANCE_PATH"] = folder
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "CALLING_HOURS": "00:00-24:00"})


def fill(open_count: int, retries: int, users: int) -> None:
    """Insert orders with one operator task each (the retries first, at the head), and the operators."""
    total = open_count + retries
    for start in range(0, total, BATCH):
        size = min(BATCH, total - start)
        ids = db.session.scalars(
            insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True),
            [
                {
                    "order_no": f"B-{start + i:08d}",
                    "customer_name": "客户",
                    "customer_phone": "+8613800138000",
                    "customer_type": "small_micro",
                    "service_center": "城关",
                    "has_engineering": False,
                    "status": "accepted",
                    "accepted_at": NOW,
                    "due_at": NOW + timedelta(days=5),
                    "source_updated_at": NOW,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(size)
            ],
        ).all()
        rows = []
        for n, order_id in enumerate(ids, start=start):
            retry = n < retries
            row = {
                "order_id": order_id,
                "kind": "intake",
                "state": "open",
                "channel": "operator",
                # A retry failed once and waits an hour; it keeps its early due_by.
                "not_before": NOW + timedelta(hours=1) if retry else NOW - timedelta(hours=1),
                "due_by": NOW - timedelta(hours=2) + timedelta(seconds=n),
                "attempt_count": 1 if retry else 0,
                "failed_attempts": 1 if retry else 0,
                "created_at": NOW,
                "updated_at": NOW,
            }
            if HAS_WAITING:
                row["waiting"] = retry
                row["last_disposition"] = "no_answer" if retry else None
            rows.append(row)
        db.session.execute(insert(CallbackTask), rows)
    for start in range(0, users, BATCH):
        db.session.execute(
            insert(User),
            [
                {
                    "username": f"op{n}",
                    "role": "operator",
                    "password_hash": "-",
                    "active": True,
                    "created_at": NOW,
                }
                for n in range(start, min(users, start + BATCH))
            ],
        )
    db.session.commit()


def raw_claim_statement(postgres: bool):
    """Return the hand-written claim: one UPDATE picking the head of the ready queue."""
    ready = "AND waiting = false" if HAS_WAITING else ""
    lock = "FOR UPDATE SKIP LOCKED" if postgres else ""
    statement = (
        "UPDATE callback_tasks SET state = 'claimed', lease_owner_id = :user_id, lease_expires_at = :until, "
        "updated_at = :now WHERE id = (SELECT id FROM callback_tasks WHERE state = 'open' "
        "READY AND channel = 'operator' AND not_before <= :now "
        "ORDER BY due_by, id LIMIT 1 LOCK) AND state = 'open' RETURNING id"
    )
    return text(
        statement.replace("READY", ready).replace("LOCK", lock)
    ).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime()))


def client(mode: str, url: str, folder: str, user_ids: list[int], barrier: Any, results: Any) -> None:
    """Make one claim per user id, as fast as possible, once every client is ready."""
    app = app_for(url, folder)
    with app.app_context():
        settings = current_settings()
        statement = raw_claim_statement(db.engine.dialect.name == "postgresql")
        until = NOW + timedelta(minutes=15)
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        latencies = []
        barrier.wait()
        began = time.perf_counter()
        for user_id in user_ids:
            started = time.perf_counter()
            if mode == "raw":
                claimed = db.session.scalar(statement, {"user_id": user_id, "until": until, "now": NOW})
            else:
                claimed = claim_next(db.session, user_id, now=NOW, settings=settings)
            db.session.commit()
            latencies.append(time.perf_counter() - started)
            assert claimed is not None
        results.put((began, time.perf_counter(), latencies))
        db.session.remove()
        db.engine.dispose()


def run_phase(mode: str, url: str, folder: str, user_ids: list[int], clients: int) -> dict[str, float]:
    """Run the clients together; return claims/s over the wall time and latency percentiles."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients)
    results = context.Queue()
    share = len(user_ids) // clients
    processes = [
        context.Process(
            target=client,
            args=(mode, url, folder, user_ids[i * share : (i + 1) * share], barrier, results),
        )
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a {mode} client failed")
    latencies = sorted(latency for _, _, lats in outcomes for latency in lats)
    wall = max(end for _, end, _ in outcomes) - min(begin for begin, _, _ in outcomes)
    return {
        "per_second": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def explain(user_id: int) -> None:
    """Print the plan of each statement the service's claim runs (rolled back afterwards)."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("UPDATE"):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    claim_next(db.session, user_id, now=NOW, settings=current_settings())
    event.remove(db.engine, "before_cursor_execute", capture)
    postgres = db.engine.dialect.name == "postgresql"
    cursor = db.session.connection().connection.cursor()
    for statement, parameters in captured:
        print("   ", " ".join(statement.split()))
        cursor.execute(("EXPLAIN (ANALYZE) " if postgres else "EXPLAIN QUERY PLAN ") + statement, parameters)
        for row in cursor.fetchall():
            print("      ", " | ".join(str(cell) for cell in row))
    db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--open", type=int, default=20_000, help="open tasks workable now")
    parser.add_argument("--retries", type=int, default=20_000, help="retries waiting at the head")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--claims", type=int, default=100, help="claims per client and phase")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    per_phase = args.clients * args.claims
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
        app = app_for(url, folder)
        with app.app_context():
            db.drop_all()
            db.create_all()
            started = time.perf_counter()
            fill(args.open, args.retries, users=4 * per_phase + 10)
            postgres = db.engine.dialect.name == "postgresql"
            print(
                f"{db.engine.dialect.name}: {args.open:,} open tasks + {args.retries:,} retries at the head, "
                f"{args.clients} clients x {args.claims} claims "
                f"(filled in {time.perf_counter() - started:.0f} s)"
            )
            db.session.remove()
            db.engine.dispose()
        users = iter(range(1, 4 * per_phase + 10))
        for scenario in ("with the retry backlog", "without retries"):
            if scenario == "without retries":
                with app.app_context():
                    db.session.execute(
                        text("UPDATE callback_tasks SET state = 'done' WHERE attempt_count > 0")
                    )
                    db.session.commit()
            with app.app_context():
                if postgres:
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                        connection.execute(text("VACUUM ANALYZE callback_tasks"))
                if args.explain:
                    print(f"  plans {scenario}:")
                    explain(next(users))
                db.session.remove()
                db.engine.dispose()
            raw = run_phase("raw", url, folder, [next(users) for _ in range(per_phase)], args.clients)
            service = run_phase("service", url, folder, [next(users) for _ in range(per_phase)], args.clients)
            print(f"  {scenario}:")
            print(
                f"    raw UPDATE (anchor): {raw['per_second']:7.0f} claims/s  p50 {raw['p50']:6.2f} ms  "
                f"p99 {raw['p99']:6.2f} ms"
            )
            print(
                f"    claim_next:          {service['per_second']:7.0f} claims/s  "
                f"p50 {service['p50']:6.2f} ms  p99 {service['p99']:6.2f} ms"
            )
            print(
                f"    claims/s ratio claim_next / raw: {service['per_second'] / raw['per_second']:.2f}  "
                "(target >= 0.5)"
            )
        with app.app_context():
            db.drop_all()
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
