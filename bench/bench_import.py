"""Benchmark import-orders: rows per second and peak memory, as ratios to anchors measured in the same run.

    .venv/bin/python bench/bench_import.py [--rows 200000] [--chunk-rows 2000] [--profile OUT.prof]

Generates a CSV export of N rows (1% with a bad phone number), then runs each phase in its own process so
each peak RSS is its own:

- parse-only: pandas read_csv over the file in chunks, doing nothing (the anchor);
- read: the importer's file reader (chunks of rows mapped to API fields);
- validate: read + validate_order on every row;
- raw-insert: read (the same parsed rows), then each chunk inserted as is into an equivalent table with the
  same unique key (`order_no`): executemany on SQLite, COPY on PostgreSQL (the insert anchor);
- import: the real importer into a fresh database (temporary SQLite, or `--database-url`).

Figures: import rows/s, each phase's time / parse-only, and import rows/s / raw-insert rows/s (the target
is >= 0.2).
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PHASES = ("parse-only", "read", "validate", "raw-insert", "import")
RAW_FIELDS = (
    "order_no",
    "customer_name",
    "customer_phone",
    "address",
    "customer_type",
    "service_center",
    "account_manager",
    "has_engineering",
    "ledger",
    "status",
    "accepted_at",
    "due_at",
    "surveyed_at",
    "construction_at",
    "connected_at",
    "archived_at",
)
MEMORY_MARK_ROWS = 50_000
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
HEADER = [
    "工单编号",
    "客户名称",
    "联系电话",
    "用电地址",
    "客户类别",
    "供电服务中心",
    "客户经理",
    "是否有工程",
    "台账",
    "状态",
    "受理时间",
    "到期时间",
    "勘查时间",
    "施工时间",
    "接电时间",
    "归档时间",
]
STAGES = ("受理", "勘查", "施工", "接电", "归档")
MOBILE_PREFIXES = ("130", "133", "135", "138", "139", "150", "158", "177", "186", "189", "199")


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Write a realistic export: Chinese headers and labels, text dates over the past year."""
    rng = random.Random(seed)
    local_now = NOW.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    centres = [f"第{n}供电服务中心" for n in range(1, 31)]
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for n in range(rows):
            accepted = local_now - timedelta(days=rng.uniform(0, 365), hours=rng.uniform(0, 8))
            stage = rng.choice(STAGES)
            times = [accepted]
            for _ in STAGES[1 : STAGES.index(stage) + 1]:
                times.append(times[-1] + timedelta(hours=rng.uniform(2, 60)))
            stage_cells = [t.strftime("%Y/%m/%d %H:%M") for t in times[1:]]
            phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"
            if rng.random() < 0.01:
                phone = phone[:-1]  # a digit lost in Excel: rejected
            writer.writerow(
                [
                    f"GD{n:09d}",
                    f"客户{n}号五金店",
                    phone,
                    f"城关镇人民路{n % 500}号",
                    rng.choice(("小微企业", "小微企业", "居民", "其他")),
                    rng.choice(centres),
                    f"经理{n % 97}",
                    rng.choice(("是", "否")),
                    rng.choice(("", "", "", "先接入后改造", "系统流程在途", "预推进工程")),
                    stage,
                    accepted.strftime("%Y-%m-%d %H:%M"),
                    (accepted + timedelta(days=10)).strftime("%Y-%m-%d"),
                    *stage_cells,
                    *[""] * (len(STAGES) - 1 - len(stage_cells)),
                ]
            )


def raw_table(postgres: bool):
    """Return a table equivalent to work_orders for the imported fields, with the same unique key.

    Times are timestamps on PostgreSQL (COPY parses the text); SQLite stores a datetime as text anyway.
    """
    from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table

    types = {"has_engineering": Boolean}
    time_type = DateTime if postgres else String(32)
    return Table(
        "bench_raw_orders",
        MetaData(),
        Column("id", Integer, primary_key=True),
        *(
            Column(
                name,
                types.get(name, time_type if name.endswith("_at") else String(200)),
                unique=name == "order_no",
            )
            for name in RAW_FIELDS
        ),
    )


def raw_insert(db, order_file_chunks) -> int:
    """Insert every row as read, a chunk at a time: executemany (SQLite) or COPY (PostgreSQL)."""
    from sqlalchemy import insert

    postgres = db.engine.dialect.name == "postgresql"
    table = raw_table(postgres)
    table.drop(db.engine, checkfirst=True)
    table.create(db.engine)
    rows = 0
    statement = insert(table)
    for chunk in order_file_chunks:
        values = [tuple(row.raw.get(name) for name in RAW_FIELDS) for row in chunk]
        if postgres:
            cursor = db.session.connection().connection.cursor()
            with cursor.copy(f"COPY bench_raw_orders ({', '.join(RAW_FIELDS)}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
        else:
            db.session.execute(statement, [dict(zip(RAW_FIELDS, value, strict=True)) for value in values])
        db.session.commit()
        rows += len(chunk)
    table.drop(db.engine)
    return rows


def run_phase(
    phase: str, csv_path: Path, workdir: Path, chunk_rows: int, database_url: str | None
) -> dict[str, Any]:
    """Run one phase in this process and return its figures; imports and app set-up are not timed."""
    os.environ["CALLBACK_INSTANCE_PATH"] = str(workdir / "instance")
    import pandas as pd

    from callback import create_app
    from callback.audit import Actor
    from callback.extensions import db
    from callback.intake.files import open_order_file
    from callback.intake.importer import import_orders_file
    from callback.intake.validation import validate_order
    from callback.settings import current_settings

    database = database_url or f"sqlite:///{workdir / f'bench-{phase}.sqlite'}"
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": database})
    figures: dict[str, Any] = {"phase": phase}
    rss_at_mark: list[float] = []

    def note_memory(rows_read: int, rows_total: int | None) -> None:
        if not rss_at_mark and rows_read >= MEMORY_MARK_ROWS:
            rss_at_mark.append(peak_rss_mb())

    with app.app_context():
        db.drop_all()
        db.create_all()
        settings = current_settings()
        figures["load_average"] = os.getloadavg()[0]
        started = time.perf_counter()
        cpu_started = time.process_time()
        if phase == "parse-only":
            rows = 0
            with pd.read_csv(
                csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig", chunksize=chunk_rows
            ) as reader:
                for frame in reader:
                    rows += len(frame)
            figures["rows"] = rows
        elif phase in ("read", "validate"):
            rows = 0
            with open_order_file(csv_path, chunk_rows) as order_file:
                for chunk in order_file.chunks():
                    rows += len(chunk)
                    if phase == "validate":
                        for row in chunk:
                            validate_order(row.raw, settings.tz, NOW)
            figures["rows"] = rows
        elif phase == "raw-insert":
            with open_order_file(csv_path, chunk_rows) as order_file:
                figures["rows"] = raw_insert(db, order_file.chunks())
        else:
            report = import_orders_file(
                db.session,
                csv_path,
                now=NOW,
                settings=settings,
                actor=Actor(source=f"import:{csv_path.name}"),
                dry_run=False,
                on_progress=note_memory,
                chunk_rows=chunk_rows,
            )
            figures.update(
                rows=report.rows,
                counts=report.counts,
                tasks_created=report.tasks_created,
                peak_rss_mb_at_mark=rss_at_mark[0] if rss_at_mark else None,
            )
        figures["seconds"] = time.perf_counter() - started
        figures["cpu_seconds"] = time.process_time() - cpu_started
        db.drop_all()
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def main() -> None:
    """Generate the file, run every phase in a child process and print the figures as ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk-rows", type=int, default=2000)
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="comma-separated subset of " + ", ".join(PHASES)
    )
    parser.add_argument("--profile", help="write a cProfile of the import phase to this file")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"),
        help="import into this database (it is emptied) instead of a temporary SQLite file",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)  # internal: run one phase in this child
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        figures = run_phase(
            args.phase, Path(args.csv), Path(args.workdir), args.chunk_rows, args.database_url
        )
        print(json.dumps(figures))
        return

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "orders.csv"
        started = time.perf_counter()
        generate_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")
        results: dict[str, dict[str, Any]] = {}
        for phase in args.phases.split(","):
            command = [sys.executable]
            if phase == "import" and args.profile:
                command += ["-m", "cProfile", "-o", args.profile]
            command += [
                __file__,
                "--phase",
                phase,
                "--csv",
                str(csv_path),
                "--workdir",
                str(workdir),
                "--chunk-rows",
                str(args.chunk_rows),
            ]
            if args.database_url:
                command += ["--database-url", args.database_url]
            child = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            if child.returncode != 0:
                sys.exit(f"phase {phase} failed:\n{child.stderr[-3000:]}")
            results[phase] = json.loads(child.stdout.strip().splitlines()[-1])
            seconds, rss = results[phase]["seconds"], results[phase]["peak_rss_mb"]
            print(
                f"  {phase}: {seconds:.1f} s, CPU {results[phase]['cpu_seconds']:.1f} s, "
                f"peak RSS {rss:.0f} MB, "
                f"load average {results[phase]['load_average']:.1f} at its start"
            )
        report(results, args.rows)


def report(results: dict[str, dict[str, Any]], rows: int) -> None:
    """Print each figure as a ratio to the parse-only anchor of this run."""
    anchor = results.get("parse-only")
    imported = results.get("import")
    if imported:
        print(
            f"import: {rows / imported['seconds']:,.0f} rows/s; counts {imported['counts']}, "
            f"callback tasks created {imported['tasks_created']}"
        )
    if anchor:
        for phase in ("read", "validate", "import"):
            if phase in results:
                print(f"{phase} / parse-only time ratio: {results[phase]['seconds'] / anchor['seconds']:.1f}")
    raw = results.get("raw-insert")
    if imported and raw:
        print(
            f"raw insert (anchor): {rows / raw['seconds']:,.0f} rows/s; "
            f"import / raw insert rows/s ratio: {raw['seconds'] / imported['seconds']:.2f}  (target >= 0.2)"
        )
        # On a busy machine wall time follows the neighbours; this process's CPU does not (PostgreSQL's own
        # work is in its server process, so there this ratio leaves the server's part out).
        print(
            "import / raw insert ratio by this process's CPU: "
            f"{raw['cpu_seconds'] / imported['cpu_seconds']:.2f}"
        )
    if imported and imported.get("peak_rss_mb_at_mark"):
        mark = imported["peak_rss_mb_at_mark"]
        print(
            f"peak RSS MB at {MEMORY_MARK_ROWS // 1000}k rows vs at {rows // 1000}k rows: "
            f"{mark:.0f} vs {imported['peak_rss_mb']:.0f}, ratio {imported['peak_rss_mb'] / mark:.2f}"
        )
    if imported and anchor:
        print(f"import / parse-only peak RSS ratio: {imported['peak_rss_mb'] / anchor['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
