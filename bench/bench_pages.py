"""Page load times at scale, signed in, as ratios to a trivial page loaded the same way in the same run.

    .venv/bin/python bench/bench_pages.py                      # 20,000 orders (SQLite)
    .venv/bin/python bench/bench_pages.py --orders 100000 [--database-url postgresql+psycopg://…]
    .venv/bin/python bench/bench_pages.py --orders 1000000 --keep --database-url \
        "postgresql+psycopg://postgres@127.0.0.1:5432/DB?options=-csearch_path%3Dpages,public"

The rows are written by COPY on PostgreSQL and Core executemany on SQLite (bench/bulk.py). `--keep` leaves the
tables in the database and reuses them on the next run with the same --orders, so a change can be measured
again without generating a million orders anew. Run it in a schema of its own (search_path, as above) when
another bench (bench_tick drops and recreates its tables) uses the same database.

Generates N orders in every stage with their history: an intake callback each (most done after one to three
attempts, a tenth open now, some waiting on a retry or an appointment), a completion callback for the
connected ones, and a supervision case per 40 orders in every state. Then, through the Flask test client
signed in as a supervisor (an operator for the queue), loads each page `--loads` times after a warm-up:

- anchor: the sign-in page `/login` (routing, session, the base layout: no query), loaded the same way;
- the order list (plain, filtered by status and centre, searched by order number), the case list (plain,
  filtered by state and centre, by manager), the operator's queue, one order's page.

Printed per page: p50 and p99 in ms and p50 / anchor p50. `--explain` loads each page once more and prints
every SELECT it ran with its plan (`EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL, with its execution time;
`EXPLAIN QUERY PLAN` on SQLite): the plans bench/README.md quotes. `--only order` limits the pages to
those whose label contains the text.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, inspect, text

from bench.bulk import bulk_insert
from callback import create_app
from callback.extensions import db
from callback.models import CallAttempt, CallbackTask, SupervisionCase, WorkOrder
from callback.users import create_user

# Friday 2026-11-27 10:00 in Beijing, the tests' clock.
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
BATCH = 5_000
PASSWORD = "bench-password-1"  # noqa: S105 (a throwaway database)
CENTERS = [f"第{n}供电服务中心" for n in range(1, 21)]
STATUSES = ["accepted", "surveyed", "construction", "connected", "archived", "cancelled"]
CASE_STATES = ["open", "investigating", "letter_issued", "rectified", "closed", "dismissed"]
HAS_LAST_DISPOSITION = hasattr(CallbackTask, "last_disposition")


def generate(orders: int, seed: int = 5) -> None:
    """Bulk-insert orders, their tasks and attempts, and cases, with explicit ids."""
    rng = random.Random(seed)
    order_rows, task_rows, attempt_rows, case_rows = [], [], [], []
    task_id = attempt_id = 0

    def flush() -> None:
        for model, rows in (
            (WorkOrder, order_rows),
            (CallbackTask, task_rows),
            (CallAttempt, attempt_rows),
            (SupervisionCase, case_rows),
        ):
            bulk_insert(db.session, model.__table__, rows)
            rows.clear()

    for n in range(1, orders + 1):
        accepted = NOW - timedelta(minutes=rng.randrange(60, 365 * 24 * 60))
        status = STATUSES[n % len(STATUSES)]
        stage = STATUSES.index(status)
        times = {
            "surveyed_at": accepted + timedelta(days=1) if 1 <= stage <= 4 else None,
            "construction_at": accepted + timedelta(days=2) if 2 <= stage <= 4 else None,
            "connected_at": accepted + timedelta(days=3) if 3 <= stage <= 4 else None,
            "archived_at": accepted + timedelta(days=4) if stage == 4 else None,
            "cancelled_at": accepted + timedelta(days=1) if status == "cancelled" else None,
        }
        order_rows.append(
            {
                "id": n,
                "order_no": f"GD-{n:08d}",
                "customer_name": f"客户{n}",
                "customer_phone": f"+86138{n:08d}",  # one customer per order, as in an export
                "customer_type": "small_micro",
                "service_center": CENTERS[n % len(CENTERS)],
                "account_manager": f"经理{n % 97}",
                "has_engineering": n % 2 == 0,
                "status": status,
                "accepted_at": accepted,
                "due_at": accepted + timedelta(days=10),
                **times,
                "source_updated_at": accepted,
                "created_at": accepted,
                "updated_at": accepted,
            }
        )
        kinds = ["intake"] + (["completion"] if times["connected_at"] else [])
        for kind in kinds:
            task_id += 1
            roll = rng.random()
            if roll < 0.10:
                state, not_before, failed, last = "open", NOW - timedelta(hours=1), 0, None
            elif roll < 0.13:
                state, not_before, failed, last = "open", NOW + timedelta(minutes=30), 1, "no_answer"
            elif roll < 0.14:
                state, not_before, failed, last = "open", NOW + timedelta(days=1), 0, "callback_requested"
            else:
                state, not_before, failed, last = "done", accepted, rng.randrange(0, 3), "completed"
            attempts = failed + (1 if last in ("completed", "callback_requested") else 0)
            row = {
                "id": task_id,
                "order_id": n,
                "kind": kind,
                "state": state,
                "channel": "operator",
                "not_before": not_before,
                "due_by": accepted + timedelta(days=2),
                "attempt_count": attempts,
                "failed_attempts": failed,
                "created_at": accepted,
                "updated_at": accepted,
            }
            if HAS_LAST_DISPOSITION:
                row["waiting"] = not_before > NOW
                row["last_disposition"] = last
            task_rows.append(row)
            for k in range(attempts):
                attempt_id += 1
                final = k == attempts - 1 and last in ("completed", "callback_requested")
                attempt_rows.append(
                    {
                        "id": attempt_id,
                        "task_id": task_id,
                        "channel": "operator",
                        "disposition": last if final else "no_answer",
                        "started_at": accepted + timedelta(hours=k + 1),
                        "order_snapshot": {},
                        "transcript": [],
                    }
                )
        if n % 40 == 0:
            opened = accepted + timedelta(days=1)
            case_state = CASE_STATES[(n // 40) % len(CASE_STATES)]
            case_rows.append(
                {
                    "id": n // 40,
                    "order_id": n,
                    "category": "offline_circulation",
                    "service_center": CENTERS[n % len(CENTERS)],
                    "account_manager": f"经理{n % 97}",
                    "state": case_state,
                    "opened_at": opened,
                    "due_at": opened + timedelta(days=14),
                    "letter_no": f"JD-2026-{n // 40:06d}" if case_state in CASE_STATES[2:5] else None,
                    "referred_to_discipline": False,
                    "updated_at": opened,
                }
            )
        if len(order_rows) >= BATCH:
            flush()
    flush()
    db.session.commit()


def timed_loads(client, url: str, loads: int) -> list[float]:
    """Load a page once to warm up, then `loads` times; return the seconds of each."""
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    seconds = []
    for _ in range(loads):
        started = time.perf_counter()
        client.get(url)
        seconds.append(time.perf_counter() - started)
    return seconds


def explain(app, client, url: str) -> None:
    """Load `url` once, capturing its SELECTs, then print each with its plan (nothing is written)."""
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        for number, (statement, parameters) in enumerate(captured, 1):
            print(f"    [{number}] {' '.join(statement.split())}")
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print("        " + " | ".join(str(cell) for cell in row))
        connection.rollback()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    parser.add_argument("--explain", action="store_true", help="print each page's statements and their plans")
    parser.add_argument("--only", default="", help="only the pages whose label contains this text")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the generated tables in --database-url, and reuse them if they hold --orders orders",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder}/bench.sqlite",
                "WTF_CSRF_ENABLED": False,
                "CALLING_HOURS": "00:00-24:00",
                # The data's clock: the queue then has retries and appointments still waiting, as in a day's
                # work (on the wall clock every generated task would be workable long ago).
                "CLOCK": lambda: NOW,
            }
        )
        with app.app_context():
            started = time.perf_counter()
            reused = args.keep and inspect(db.engine).has_table("work_orders")
            if reused:
                reused = db.session.scalar(text("SELECT count(*) FROM work_orders")) == args.orders
                db.session.rollback()  # drop_all below must not wait on this session's lock
            if not reused:
                db.drop_all()
                db.create_all()
                generate(args.orders)
                for name, role in (("bench-supervisor", "supervisor"), ("bench-operator", "operator")):
                    create_user(db.session, name, role, PASSWORD, now=NOW)
                db.session.commit()
            else:
                # Kept tables from an older checkout: add the indexes the models have gained since.
                for table in db.metadata.sorted_tables:
                    for index in table.indexes:
                        index.create(db.engine, checkfirst=True)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    # Only this bench's tables (the database may hold others' data, e.g. bench_tick's).
                    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
                    connection.execute(text(f"VACUUM ANALYZE {tables}"))
            print(
                f"{db.engine.dialect.name}: {args.orders:,} orders "
                f"{'reused' if reused else 'generated'} in {time.perf_counter() - started:.0f} s; "
                f"{args.loads} loads per page"
            )
        middle = f"GD-{args.orders // 2:08d}"
        pages = {
            "": [("anchor: /login", "/login")],
            "supervisor": [
                ("order list", "/"),
                ("order list, status + centre", f"/?status=surveyed&service_center={CENTERS[3]}"),
                ("order list, search", f"/?q={middle}"),
                ("order list, page 50", "/?page=50"),
                ("order page", f"/orders/{middle}"),
                ("case list", "/cases/"),
                ("case list, state + centre", f"/cases/?state=open&service_center={CENTERS[0]}"),
                ("case list, manager", "/cases/?account_manager=经理7"),
            ],
            "operator": [("operator queue", "/operator/")],
        }
        anchor_p50 = None
        for role, urls in pages.items():
            client = app.test_client()
            if role:
                response = client.post("/login", data={"username": f"bench-{role}", "password": PASSWORD})
                if response.status_code != 302:
                    raise SystemExit(f"cannot sign in as {role}: {response.status_code}")
            for label, url in urls:
                if args.only and args.only not in label and anchor_p50 is not None:
                    continue
                seconds = timed_loads(client, url, args.loads)
                p50, p99 = statistics.median(seconds) * 1000, percentile(seconds, 0.99) * 1000
                if anchor_p50 is None:
                    anchor_p50 = p50
                print(
                    f"  {label:<30} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  "
                    f"p50 / anchor {p50 / anchor_p50:7.1f}"
                )
                if args.explain and role:
                    explain(app, client, url)
        with app.app_context():
            if not args.keep:
                db.drop_all()
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
