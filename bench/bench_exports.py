"""Benchmark the CSV and XLSX exports: memory stays flat from 20k to 100k rows, time to the first byte.

    .venv/bin/python bench/bench_exports.py [--small 20000] [--large 100000] [--dataset orders]

Generates `--large` orders (every stage, Chinese text) into a temporary SQLite database, then runs each
phase in its own process, so that each peak RSS belongs to that phase alone. A phase signs a supervisor in
and downloads `/reports/exports/<dataset>.<csv|xlsx>` through the app (the real route, streamed response read
chunk by chunk) limited to N rows by a period filter. Figures printed:

- anchor: the export's query alone, read with yield_per and thrown away (what any export must do);
- openpyxl: the same rows (the export's own cells, from `row_chunks`) written by openpyxl in write-only mode
  to a file: the XLSX anchor (issue 14: the XLSX export at >= 0.5x its speed);
- for csv and xlsx at each size: seconds, seconds to the first byte, bytes, and the growth of the RSS
  (sampled every 10 ms during the download) over the RSS before it: what the export itself holds;
- `peak RSS growth at large / small`: about 1 when memory stays flat (it would be about large/small, 5,
  if the export held its rows);
- `time / anchor` ratios at the large size.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 5000
START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
STATUSES = ("accepted", "surveyed", "construction", "connected", "archived")
SCHEMA = "bench_exports"


def database_url(url: str | None, folder: str) -> str:
    """The bench's database: a SQLite file in the folder, or the PostgreSQL database's bench schema."""
    if not url:
        return f"sqlite:///{Path(folder) / 'bench.sqlite'}"
    separator = "&" if "?" in url else "?"
    # public too: pg_trgm (the order search's index) lives there, shared with the test suite's tables.
    return f"{url}{separator}options=-csearch_path%3D{SCHEMA},public"


def make_app(folder: str, url: str | None):
    from callback import create_app

    os.environ["CALLBACK_INSTANCE_PATH"] = folder
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "SQLALCHEMY_DATABASE_URI": database_url(url, folder),
        }
    )


def generate(folder: str, url: str | None, orders: int, seed: int = 5) -> None:
    """Bulk-insert the orders, one every 5 minutes from 2025-01-01, and a supervisor (bench/bulk.py)."""
    from sqlalchemy import text

    from bench.bulk import bulk_insert
    from callback.extensions import db
    from callback.models import WorkOrder
    from callback.users import create_user

    rng = random.Random(seed)
    app = make_app(folder, url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        db.create_all()
        create_user(db.session, "bench", "supervisor", "bench password", now=datetime.now(UTC))
        rows = []
        for n in range(1, orders + 1):
            accepted = START + timedelta(minutes=5 * n)
            stage = rng.randrange(len(STATUSES))
            row = {
                "id": n,
                "order_no": f"E-{n:07d}",
                "customer_name": f"宏达五金店{n}",
                "customer_phone": f"+86138{n:08d}",
                "address": f"城关镇人民路 {n} 号",
                "customer_type": "small_micro",
                "service_center": f"第{n % 20}供电服务中心",
                "account_manager": f"经理{n % 97}",
                "has_engineering": rng.random() < 0.45,
                "status": STATUSES[stage],
                "accepted_at": accepted,
                "due_at": accepted + timedelta(days=10),
                "source_updated_at": accepted,
                "created_at": accepted,
                "updated_at": accepted,
            }
            for index, name in enumerate(
                ("surveyed_at", "construction_at", "connected_at", "archived_at"), 1
            ):
                row[name] = accepted + timedelta(days=index) if stage >= index else None
            rows.append(row)
            if len(rows) == BATCH:
                bulk_insert(db.session, WorkOrder.__table__, rows)
                rows = []
        bulk_insert(db.session, WorkOrder.__table__, rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        db.engine.dispose()


def period_for(rows: int) -> tuple[str, str]:
    """Local dates whose accepted orders number about `rows` (one order every 5 minutes)."""
    last = (START + timedelta(minutes=5 * rows)).astimezone(UTC).date()
    return date(2025, 1, 1).isoformat(), (last - timedelta(days=1)).isoformat()


def rss_kb() -> int:
    """Return the process's resident set size now, in kB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class RssSampler(threading.Thread):
    """Sample the process's RSS every 10 ms while a download runs; keep the highest."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_kb()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, rss_kb())

    def finish(self) -> int:
        self.done.set()
        self.join()
        return max(self.peak, rss_kb())


def phase(folder: str, url: str | None, kind: str, dataset: str, rows: int) -> dict:
    """Run one measurement in this process and return its figures."""
    from sqlalchemy import func, select

    from callback.extensions import db
    from callback.reports.exports import CHUNK_ROWS, DATASETS, parse_export_filter
    from callback.settings import current_settings

    app = make_app(folder, url)
    start, end = period_for(rows)
    with app.app_context():
        client = app.test_client()
        assert (
            client.post("/login", data={"username": "bench", "password": "bench password"}).status_code == 302
        )
        settings = current_settings()
        filters = parse_export_filter(
            {"from": start, "to": end}, dataset, today=date.today(), now=datetime.now(UTC)
        )
        query = DATASETS[dataset].query(filters, settings)
        count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        before = rss_kb()
        sampler = RssSampler()
        sampler.start()
        began = time.perf_counter()
        first_byte = None
        size = 0
        if kind == "anchor":
            for _ in db.session.execute(query.execution_options(yield_per=CHUNK_ROWS)).partitions():
                pass
        elif kind == "openpyxl":
            from openpyxl import Workbook

            from callback.reports.exports import row_chunks

            with app.test_request_context():
                workbook = Workbook(write_only=True)
                sheet = workbook.create_sheet(str(DATASETS[dataset].title)[:31])
                sheet.append(DATASETS[dataset].headers())
                for chunk in row_chunks(db.session, DATASETS[dataset], filters, settings):
                    for row in chunk:
                        sheet.append(row)
                target = Path(folder) / "openpyxl.xlsx"
                workbook.save(target)
                size = target.stat().st_size
        else:
            response = client.get(f"/reports/exports/{dataset}.{kind}?from={start}&to={end}", buffered=False)
            assert response.status_code == 200, response.status_code
            for piece in response.response:
                if first_byte is None:
                    first_byte = time.perf_counter() - began
                size += len(piece)
            response.close()
        elapsed = time.perf_counter() - began
        peak = sampler.finish()
        db.session.remove()
        db.engine.dispose()
    return {
        "rows": count,
        "seconds": elapsed,
        "first_byte": first_byte,
        "bytes": size,
        "growth_mb": max(peak - before, 0) / 1024,
    }


def run_phase(folder: str, url: str | None, kind: str, dataset: str, rows: int) -> dict:
    command = [sys.executable, __file__, "--phase", kind, "--folder", folder, "--dataset", dataset]
    command += ["--rows", str(rows), *(["--database-url", url] if url else [])]
    output = subprocess.run(  # noqa: S603  (this same script)
        command,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument(
        "--dataset", default="orders", choices=["orders", "ledger", "tasks", "attempts", "cases"]
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL (the schema bench_exports is used); SQLite if not given"
    )
    parser.add_argument("--keep", help="a folder to keep the SQLite database in (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="do not generate: reuse the kept database")
    parser.add_argument(
        "--openpyxl",
        choices=["both", "small", "none"],
        default="both",
        help="the sizes openpyxl write-only writes too (it took 30 min for 1M rows on a loaded machine)",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.folder, args.database_url, args.phase, args.dataset, args.rows)))
        return
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or temporary
        os.makedirs(folder, exist_ok=True)
        if not args.reuse:
            began = time.perf_counter()
            generate(folder, args.database_url, args.large)
            print(f"generated {args.large} orders in {time.perf_counter() - began:.1f} s", flush=True)
        results = {}
        openpyxl_sizes = {"both": (args.small, args.large), "small": (args.small,), "none": ()}[args.openpyxl]
        for rows in (args.small, args.large):
            for kind in ("anchor", "openpyxl", "csv", "xlsx"):
                if kind == "openpyxl" and rows not in openpyxl_sizes:
                    continue
                result = results[kind, rows] = run_phase(folder, args.database_url, kind, args.dataset, rows)
                first = (
                    f", first byte after {result['first_byte']:.2f} s"
                    if result["first_byte"] is not None
                    else ""
                )
                print(
                    f"{kind:8} {result['rows']:>9} rows: {result['seconds']:.2f} s{first}, "
                    f"{result['bytes'] / 1e6:.1f} MB sent, peak RSS growth {result['growth_mb']:.1f} MB",
                    flush=True,
                )
        for kind in ("csv", "xlsx"):
            small, large = results[kind, args.small], results[kind, args.large]
            ratio = large["growth_mb"] / max(small["growth_mb"], 1.0)
            print(f"{kind}: peak RSS growth at {large['rows']} rows / at {small['rows']} rows: {ratio:.2f}")
        anchor = results["anchor", args.large]["seconds"]
        for kind in ("csv", "xlsx"):
            ratio = results[kind, args.large]["seconds"] / anchor
            print(f"{kind} / anchor time ratio at {args.large} rows: {ratio:.2f}")
        for rows in openpyxl_sizes:
            speed = results["openpyxl", rows]["seconds"] / results["xlsx", rows]["seconds"]
            print(f"xlsx export speed / openpyxl write-only speed at {rows} rows: {speed:.2f} (target 0.5)")


if __name__ == "__main__":
    main()
