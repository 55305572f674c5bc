"""The work-order API on gunicorn: 1000-order batches against the import path, and single PUTs from 8 clients.

    .venv/bin/python bench/bench_api.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB
    .venv/bin/python bench/bench_api.py --orders 3000 --clients 8 --puts 50    # SQLite in a temporary folder

bench_import's generator writes a realistic export of `--orders` rows (Chinese headers, text dates, ~1% bad
phone numbers). Then, on a fresh schema each time:

- **the anchor**: `import_orders_file` on that file, in this process (validate, upsert, tasks, audit, commit
  per chunk of 1000): the import path's orders/s;
- `POST /api/v1/work-orders`: the same rows, as the reader maps them to API fields, in batches of 1000, one
  after the other from one client, through gunicorn (deploy/gunicorn.conf.py, 127.0.0.1 only) with an
  integration user's bearer token: orders/s and the ratio to the anchor (issue 14's target: >= 0.5);
- `PUT /api/v1/work-orders/<order_no>`: `--clients` processes together, each PUTting `--puts` new orders
  one at a time over its own keep-alive connection: PUTs/s, p50, p99 (target: p99 < 50 ms with 8 clients),
  after `--warm` untimed PUTs each of other new orders; twice: each client waiting `--pause` seconds after
  each answer (default 0.8 s: 8 clients together send the load test's 10 orders/s), then flat out (each PUT
  sent the moment the last is answered: what one server sustains, p99 then being time queued).

Before gunicorn starts, `--single` PUTs of new orders, then as many of the same orders again (`unchanged`), go
one at a time through Flask's test client in this process: CPU per PUT (`time.process_time`, which a busy
machine does not inflate as it does wall time), the statements each sends (besides BEGIN, COMMIT and the
pool's ping) and, with PostgreSQL here, the CPU of its server process. `--profile FILE` writes a cProfile (CPU
time) of the new orders' PUTs.
"""

import argparse
import cProfile
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_claim import server_cpu, server_cpu_file
from bench_import import generate_csv
from flask import Flask
from serving import Script, gunicorn, in_order, line, run_clients
from sqlalchemy import event
from sqlalchemy.engine import Engine

from callback import create_app
from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.intake.files import open_order_file
from callback.intake.importer import import_orders_file
from callback.settings import current_settings
from callback.users import create_api_token, create_user

SERVER_CONFIG = {"SECRET_KEY": "bench-api", "CALLING_HOURS": "00:00-24:00"}
BATCH = 1000


def fresh_schema() -> None:
    db.drop_all()
    db.create_all()


def single_puts(
    app: Flask, items: list[dict[str, Any]], headers: dict[str, str], profile: str | None
) -> None:
    """PUT new orders one at a time in this process, then the same again: CPU and statements per PUT."""
    client = app.test_client()
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    def put(item: dict[str, Any]) -> None:
        order_no = f"S{item['order_no']}"
        path = "/api/v1/work-orders/" + quote(order_no, safe="")
        response = client.put(
            path, data=json.dumps({**item, "order_no": order_no}, default=str), headers=headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    with app.app_context():
        backend = server_cpu_file()
    put(items[-1])  # the first request of a process compiles and caches what every later one reuses
    for label, batch in (("new order (created)", items[:-1]), ("same order again (unchanged)", items[:-1])):
        profiler = cProfile.Profile(time.process_time) if profile and "created" in label else None
        event.listen(Engine, "before_cursor_execute", count)
        statements, cpu, wall, server = 0, time.process_time(), time.perf_counter(), server_cpu(backend)
        if profiler:
            profiler.enable()
        for item in batch:
            put(item)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        server = server_cpu(backend) - server
        event.remove(Engine, "before_cursor_execute", count)
        on_server = f" + {1000 * server / len(batch):4.2f} ms in its server process" if backend else ""
        print(
            f"  one PUT at a time in process, {label}: CPU per PUT {1000 * cpu / len(batch):5.2f} ms"
            f"{on_server}; {statements / len(batch):.1f} statements; {1000 * wall / len(batch):6.2f} ms wall"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, help="default: 20,000 on PostgreSQL, 3,000 on SQLite")
    parser.add_argument("--clients", type=int, default=8, help="concurrent PUT clients")
    parser.add_argument("--puts", type=int, default=50, help="PUTs per client")
    parser.add_argument("--warm", type=int, default=20, help="untimed PUTs per client before them")
    parser.add_argument("--pause", type=float, default=0.8, help="seconds between PUTs (paced run)")
    parser.add_argument(
        "--single", type=int, default=200, help="PUTs one at a time in process (CPU, statements)"
    )
    parser.add_argument("--profile", help="write a cProfile (CPU time) of the in-process PUTs to this file")
    parser.add_argument("--single-only", action="store_true", help="only the in-process PUTs")
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
        if args.orders is None:
            # SQLite serialises the workers' writes: its figures say little about the API, so keep it short.
            args.orders = 3_000 if url.startswith("sqlite") else 20_000
        csv_path = Path(folder) / "orders.csv"
        generate_csv(csv_path, args.orders)
        app = create_app({**SERVER_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            settings = current_settings()
            fresh_schema()
            started = time.perf_counter()
            report = import_orders_file(
                db.session,
                csv_path,
                now=utcnow(),
                settings=settings,
                actor=Actor(source="import:bench"),
                dry_run=False,
                chunk_rows=BATCH,
            )
            import_seconds = time.perf_counter() - started
            fresh_schema()
            with open_order_file(csv_path, BATCH) as order_file:
                items = [row.raw for chunk in order_file.chunks() for row in chunk]
            user = create_user(db.session, "bench-integration", "integration", None, now=utcnow())
            token = create_api_token(db.session, user, now=utcnow())
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if args.single:
            single_puts(app, items[-args.single - 1 :], headers, args.profile)
        if args.single_only:
            return
        batches = [
            ("POST", "/api/v1/work-orders", json.dumps(items[i : i + BATCH], default=str).encode(), headers)
            for i in range(0, len(items), BATCH)
        ]

        def put_scripts(i: int, prefix: str = "P", share: int = args.puts) -> list[Script]:
            mine = items[i * share : (i + 1) * share]
            return [
                in_order(
                    [
                        (
                            "PUT",
                            "/api/v1/work-orders/" + quote(f"{prefix}{item['order_no']}", safe=""),
                            json.dumps(
                                {**item, "order_no": f"{prefix}{item['order_no']}"}, default=str
                            ).encode(),
                            headers,
                        )
                    ]
                )
                for item in mine
            ]

        env = {f"CALLBACK_{key}": value for key, value in SERVER_CONFIG.items()}
        env |= {"CALLBACK_SQLALCHEMY_DATABASE_URI": url, "CALLBACK_INSTANCE_PATH": folder}
        with gunicorn("callback:create_app()", env) as port:
            posted = run_clients(port, 1, lambda _i: [in_order(batches)])
            # Untimed PUTs of other orders first: a worker compiles the statements, and a thread's connection
            # prepares them, once in its life (bench_claim's clients warm up likewise).
            warm = run_clients(port, args.clients, lambda i: put_scripts(i, "W", args.warm))
            paced = run_clients(port, args.clients, lambda i: put_scripts(i, "Q"), pause=args.pause)
            puts = run_clients(port, args.clients, put_scripts)
        import_rate = report.rows / import_seconds
        api_rate = len(items) / posted["wall"]
        print(f"{url.split(':')[0]}: {args.orders:,} orders ({report.counts}), gunicorn + deploy conf")
        print(f"import_orders_file (anchor): {import_rate:8.0f} orders/s ({import_seconds:.1f} s)")
        print(
            f"POST batches of {BATCH}:       {api_rate:8.0f} orders/s ({posted['wall']:.1f} s; per batch "
            f"p50 {posted['p50']:.0f} ms, p99 {posted['p99']:.0f} ms, {len(posted['failures'])} failed)"
        )
        print(f"batch API / import orders/s ratio: {api_rate / import_rate:.2f}  (target >= 0.5)")
        for pace, figures in ((f"{args.pause:g} s apart", paced), ("flat out", puts)):
            print(line(f"PUT, {args.clients} clients, {pace}", figures, "PUTs/s"))
            print(f"PUT p99 target < 50 ms ({pace}): {'met' if figures['p99'] < 50 else 'NOT met'}")
        for failure in (posted["failures"] + warm["failures"] + paced["failures"] + puts["failures"])[:5]:
            print("  failed:", failure)
        with app.app_context():
            db.drop_all()
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
