"""How `tick` scales: its cost should follow the orders that came due, not the orders stored.

    .venv/bin/python bench/bench_tick.py                                # 100 due among 10k, then among 100k
    .venv/bin/python bench/bench_tick.py --small 100000 --large 1000000 --database-url postgresql+psycopg://…

Each configuration gets a fresh database of N orders whose due dates spread over the past eleven months and
the next one; every order already past its due day has its 到期回访 (as earlier ticks left it), and D orders
fall due today without one. Timed, each inside a transaction that is rolled back (best of `--repeat`):

- anchor: the raw SQL creating the same D tasks, `INSERT INTO callback_tasks … SELECT … FROM work_orders
  WHERE id BETWEEN 1 AND D` (it is told which orders: the least any tick must do);
- tick: `run_tick` (finds the due orders itself, plans, creates the tasks with their audit rows).

Printed: both times and tick / anchor for D = 100 among the small N, D = 100 among the large N, and D = N/10
among the large N. Cost proportional to what is due means the first two ratios are alike.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, text

from bench.bulk import bulk_insert
from callback import create_app
from callback.audit import Actor
from callback.extensions import db
from callback.models import CallbackTask, WorkOrder
from callback.models.types import UTCDateTime
from callback.settings import current_settings
from callback.tick import run_tick

# Monday 2026-11-23 10:00 in Beijing.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY_START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
BATCH = 10_000
HAS_PENDING = hasattr(WorkOrder, "due_task_pending")

ANCHOR = text(
    "INSERT INTO callback_tasks (order_id, kind, state, channel, not_before, due_by, attempt_count, "
    "failed_attempts, created_at, updated_at) SELECT id, 'due_date', 'open', 'operator', :day_start, "
    ":day_end, 0, 0, :now, :now FROM work_orders WHERE id BETWEEN :first_id AND :last_id"
).bindparams(
    bindparam("day_start", type_=UTCDateTime()),
    bindparam("day_end", type_=UTCDateTime()),
    bindparam("now", type_=UTCDateTime()),
)


def fill(orders: int, due: int, seed: int = 7) -> list[int]:
    """Insert the orders and the due-date tasks of those past due; return the ids of the D due today."""
    rng = random.Random(seed)
    due_ids: list[int] = []
    task_id = 0
    for start in range(0, orders, BATCH):
        size = min(BATCH, orders - start)
        rows, tasks = [], []
        for n in range(start, start + size):
            if n < due:
                due_at = TODAY_START + timedelta(hours=rng.uniform(9, 18))
                due_ids.append(n + 1)
            else:  # from 330 days ago to 30 days ahead, never today
                due_at = NOW + timedelta(days=rng.uniform(-330, 30))
                if TODAY_START <= due_at < TODAY_START + timedelta(days=1):
                    due_at += timedelta(days=2)
            row = {
                "id": n + 1,
                "order_no": f"T-{n:08d}",
                "customer_name": "客户",
                "customer_phone": "+8613800138000",
                "customer_type": "small_micro",
                "service_center": "城关",
                "has_engineering": False,
                "status": "surveyed",
                "accepted_at": due_at - timedelta(days=10),
                "surveyed_at": due_at - timedelta(days=9),
                "due_at": due_at,
                "source_updated_at": NOW,
                "created_at": NOW,
                "updated_at": NOW,
            }
            if HAS_PENDING:
                row["due_task_pending"] = n < due or due_at >= TODAY_START
            rows.append(row)
            if due_at < TODAY_START:
                task_id += 1
                tasks.append(
                    {
                        "id": task_id,
                        "order_id": n + 1,
                        "kind": "due_date",
                        "state": "done",
                        "channel": "operator",
                        "not_before": due_at,
                        "due_by": due_at + timedelta(days=1),
                        "attempt_count": 1,
                        "failed_attempts": 0,
                        "created_at": due_at,
                        "updated_at": due_at,
                    }
                )
        bulk_insert(db.session, WorkOrder.__table__, rows)
        bulk_insert(db.session, CallbackTask.__table__, tasks)
    if db.engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
        for table, last in (("work_orders", orders), ("callback_tasks", max(task_id, 1))):
            move = text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)")
            db.session.execute(move, {"table": table, "last": last})
    db.session.commit()
    return due_ids


def best_of(repeat: int, work) -> float:
    """Return the least seconds `work` took, each run rolled back."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
        db.session.rollback()
    return min(times)


def measure(orders: int, due: int, repeat: int, url: str | None) -> tuple[float, float]:
    """Return (anchor seconds, tick seconds) for D due orders among N."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder}/bench.sqlite",
                "CALLING_HOURS": "00:00-24:00",
            }
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
            due_ids = fill(orders, due)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    # Only this bench's tables (the database may hold others' data, e.g. bench_tick's).
                    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
                    connection.execute(text(f"VACUUM ANALYZE {tables}"))
            settings = current_settings()
            actor = Actor(source="cli")
            created = run_tick(db.session, now=NOW, settings=settings, actor=actor).due_date_tasks_created
            db.session.rollback()
            if created != due:
                raise SystemExit(f"tick created {created} tasks, expected {due}")
            # The due orders are ids 1…D (explicit ids): a range, not a list (PostgreSQL takes at most 65,535
            # parameters, and 100k ids exceed it).
            assert due_ids == list(range(1, due + 1))
            params = {
                "first_id": 1,
                "last_id": due,
                "day_start": TODAY_START,
                "day_end": TODAY_START + timedelta(days=1),
                "now": NOW,
            }
            anchor = best_of(repeat, lambda: db.session.execute(ANCHOR, params))
            tick = best_of(repeat, lambda: run_tick(db.session, now=NOW, settings=settings, actor=actor))
            db.drop_all()
            db.session.remove()
            db.engine.dispose()
            return anchor, tick


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    for orders, due in ((args.small, args.due), (args.large, args.due), (args.large, args.large // 10)):
        anchor, tick = measure(orders, due, args.repeat, args.database_url)
        print(
            f"{due:>9,} due among {orders:>10,} orders: anchor {anchor * 1000:8.1f} ms  "
            f"tick {tick * 1000:8.1f} ms  tick / anchor {tick / anchor:6.1f}"
        )


if __name__ == "__main__":
    main()
