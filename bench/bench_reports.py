"""Benchmark the summary report (contract 4.4) and the dashboard's data against raw SQL, at growing sizes.

    .venv/bin/python bench/bench_reports.py                       # 100,000 orders on SQLite (make bench)
    .venv/bin/python bench/bench_reports.py --orders 1000000      # the size issue 14 asks for
    .venv/bin/python bench/bench_reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB

Generates N orders accepted over one year (90 % connected in it) with a callback task each, a completion
callback for 40 % of the connected, their calls (no answer, retries, completions, refusals, unreachable
numbers, do-not-call), satisfaction and applied-on answers, a case per 40 orders with findings and penalties.
On PostgreSQL the tables go into the schema `bench_reports` of the database given (created if missing), so
the test suite's tables in `public` are not touched. Then each measurement runs in its own process (its peak
RSS is its own), best of `--repeat`:

- anchor: hand-written SQL (text, no ORM) computing the same figures with the same calendar table:
  the connection figures alone (the issue's anchor), and every figure of the summary;
- summary: `callback.reports.summary.summary` (what `GET /api/v1/reports/summary` returns);
- dashboard: what `GET /reports/` computes (the figures and the charts from the same grouped queries, and the
  filter lists by index walks) for one month (the page's default period) and for the year;
- two-requests: what the dashboard computed before session 4, for comparison: the summary for the page, then
  `/reports/charts.json`'s data, and the filter lists by SELECT DISTINCT over every order;
- pandas (with `--pandas`): the computation issue 14 replaced (tests/reports/frame_oracle.py), for comparison.

Peak RSS growth is sampled every 10 ms during the call; the summary runs over one month (~N/12 orders) and
over the year (N): their ratio is about 1 when memory does not grow with the orders.
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
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

YEAR = 2025
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
BATCH = 5000
SCHEMA = "bench_reports"
CENTERS = [f"第{n}供电服务中心" for n in range(1, 21)]
CATEGORIES = ("offline_circulation", "meter_not_notified", "repeat_trips", "dissatisfied", "other")


def database_url(url: str | None, folder: str) -> str:
    """The bench's database: a SQLite file in the folder, or the PostgreSQL database's bench schema."""
    if not url:
        return f"sqlite:///{Path(folder) / 'bench.sqlite'}"
    separator = "&" if "?" in url else "?"
    # public too: pg_trgm (the order search's index) lives there, shared with the test suite's tables.
    return f"{url}{separator}options=-csearch_path%3D{SCHEMA},public"


def make_app(folder: str, url: str):
    from callback import create_app

    os.environ["CALLBACK_INSTANCE_PATH"] = folder
    return create_app(
        {"TESTING": True, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "SQLALCHEMY_DATABASE_URI": url}
    )


def _call(task: int, disposition: str, started: datetime) -> dict:
    return {"task_id": task, "channel": "operator", "disposition": disposition, "started_at": started}


def generate(folder: str, url: str, orders: int, seed: int = 11) -> None:
    """Insert the orders and everything about them, batch by batch (COPY on PostgreSQL: bench/bulk.py)."""
    from sqlalchemy import text

    from bench.bulk import bulk_insert
    from callback.extensions import db
    from callback.models import (
        Answer,
        CallAttempt,
        CallbackTask,
        Finding,
        Penalty,
        SupervisionCase,
        WorkOrder,
    )

    rng = random.Random(seed)
    start = datetime(YEAR, 1, 1, 1, 0, tzinfo=UTC)
    app = make_app(folder, url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        db.create_all()
        tables = {
            model: [] for model in (WorkOrder, CallbackTask, CallAttempt, Answer, SupervisionCase, Penalty)
        }
        tables[Finding] = []
        task_id = attempt_id = 0

        def flush(force: bool = False) -> None:
            # All tables at once, parents first: the foreign keys hold on PostgreSQL.
            if force or any(len(rows) >= BATCH for rows in tables.values()):
                for model, rows in tables.items():
                    if rows:
                        bulk_insert(db.session, model.__table__, rows)
                        rows.clear()

        for n in range(1, orders + 1):
            accepted = start + timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
            connected = accepted + timedelta(hours=rng.uniform(4, 24 * 12)) if rng.random() < 0.9 else None
            tables[WorkOrder].append(
                {
                    "id": n,
                    "order_no": f"B-{n:07d}",
                    "customer_name": f"客户{n}",
                    "customer_phone": "+8613800138000",
                    "customer_type": "small_micro" if n % 10 else "residential",
                    "service_center": CENTERS[n % len(CENTERS)],
                    "account_manager": f"经理{n % 97}",
                    "has_engineering": rng.random() < 0.45,
                    "status": "connected" if connected else "accepted",
                    "accepted_at": accepted,
                    "due_at": accepted + timedelta(days=10),
                    "connected_at": connected,
                    "source_updated_at": accepted,
                    "created_at": accepted,
                    "updated_at": accepted,
                    "stated_applied_on": None,  # the worklist's copy of the latest applied_on answer
                }
            )
            order = tables[WorkOrder][-1]
            kinds = [("intake", accepted + timedelta(hours=1))]
            if connected and rng.random() < 0.4:
                kinds.append(("completion", connected + timedelta(hours=1)))
            for kind, created in kinds:
                task_id += 1
                roll = rng.random()
                state = (
                    "done"
                    if roll < 0.8
                    else "unreachable"
                    if roll < 0.88
                    else "open"
                    if roll < 0.95
                    else "cancelled"
                    if roll < 0.98
                    else "do_not_call"
                )
                tables[CallbackTask].append(
                    {
                        "id": task_id,
                        "order_id": n,
                        "kind": kind,
                        "state": state,
                        "channel": "operator",
                        "not_before": created,
                        "due_by": created + timedelta(days=2),
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                moment = created + timedelta(minutes=rng.randrange(5, 60 * 24 * 3))
                calls = {
                    "done": ["completed"] if rng.random() < 0.8 else ["no_answer", "completed"],
                    "unreachable": ["no_answer", "busy", "no_answer"],
                    "open": [] if rng.random() < 0.5 else ["voicemail"],
                    "cancelled": [],
                    "do_not_call": ["do_not_call"],
                }[state]
                if state == "done" and rng.random() < 0.05:
                    calls = ["refused"]
                for disposition in calls:
                    attempt_id += 1
                    tables[CallAttempt].append({"id": attempt_id, **_call(task_id, disposition, moment)})
                    if disposition == "completed":
                        tables[Answer].append(
                            {
                                "attempt_id": attempt_id,
                                "question": "satisfaction",
                                "value": rng.choice([5, 5, 4, 4, 4, 3, 2, 1]),
                                "answered_at": moment,
                            }
                        )
                        if kind == "intake" and rng.random() < 0.35:
                            applied = accepted - timedelta(days=rng.choice([0, 0, 3, 10, 30]))
                            order["stated_applied_on"] = applied.date()
                            tables[Answer].append(
                                {
                                    "attempt_id": attempt_id,
                                    "question": "applied_on",
                                    "value": applied.date().isoformat(),
                                    "answered_at": moment,
                                }
                            )
                    moment += timedelta(hours=rng.randrange(2, 30))
            if n % 40 == 0:
                opened = accepted + timedelta(days=rng.randrange(1, 20))
                lettered = rng.random() < 0.5
                tables[SupervisionCase].append(
                    {
                        "id": n // 40,
                        "order_id": n,
                        "category": rng.choice(CATEGORIES),
                        "service_center": CENTERS[n % len(CENTERS)],
                        "account_manager": f"经理{n % 97}",
                        "state": rng.choice(["open", "letter_issued", "closed", "dismissed"]),
                        "opened_at": opened,
                        "due_at": opened + timedelta(days=14),
                        "letter_no": f"JD-{n:07d}" if lettered else None,
                        "letter_issued_at": opened + timedelta(days=2) if lettered else None,
                        "referred_to_discipline": False,
                        "closed_at": opened + timedelta(days=20) if rng.random() < 0.4 else None,
                        "updated_at": opened,
                    }
                )
                if attempt_id:
                    tables[Finding].append(
                        {
                            "attempt_id": attempt_id,
                            "category": rng.choice(CATEGORIES),
                            "reason": "bench",
                            "found_at": opened,
                            "case_id": n // 40,
                        }
                    )
                if lettered:
                    tables[Penalty].append(
                        {
                            "case_id": n // 40,
                            "person": "员工",
                            "amount_yuan": Decimal(rng.choice(["200", "150", "100.50"])),
                            "reason": "考核",
                            "recorded_at": opened + timedelta(days=5),
                        }
                    )
            flush()
        flush(force=True)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        counts = {
            model.__tablename__: db.session.scalar(text(f"SELECT count(*) FROM {model.__tablename__}"))  # noqa: S608
            for model in tables
        }
        print("rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
        db.session.remove()
        db.engine.dispose()


# The anchor: the same figures as hand-written SQL. {seconds}(a, b) and {day}(m) differ between dialects.
DIALECT = {
    "sqlite": {
        "seconds": "((julianday({b}) - julianday({a})) * 86400.0)",
        "day": "date({m}, '{offset} seconds')",
        "text": "CASE WHEN json_type({v}) = 'text' THEN json_extract({v}, '$') END",
        "number": "CAST(json_extract({v}, '$') AS REAL)",
        "month": "strftime('%Y-%m', {m}, '{offset} seconds')",
        "iso": "{d}",
    },
    "postgresql": {
        "seconds": "EXTRACT(EPOCH FROM ({b} - {a}))",
        "day": "CAST({m} + interval '{offset} seconds' AS date)",
        "text": "CASE WHEN json_typeof({v}) = 'string' THEN {v} #>> '{{}}' END",
        "number": "CAST({v} #>> '{{}}' AS DOUBLE PRECISION)",
        "month": "to_char({m} + interval '{offset} seconds', 'YYYY-MM')",
        "iso": "to_char({d}, 'YYYY-MM-DD')",
    },
}


def anchor_statements(dialect: str, key: str, offset: int) -> dict[str, str]:
    """The raw SQL of the anchor: connection figures, callback figures, cases and penalties."""
    # S608: the only values formatted in are this file's own SQL snippets and an integer offset.
    d = DIALECT[dialect]

    def seconds(a: str, b: str) -> str:
        return d["seconds"].format(a=a, b=b)

    def work(m: str, c: str) -> str:
        return (
            f"{c}.work_seconds_before + CASE WHEN ({m} >= {c}.starts_at AND {c}.is_workday) OR "
            f"({m} < {c}.starts_at AND {c}.prev_is_workday) THEN {seconds(c + '.starts_at', m)} ELSE 0 END"
        )

    period = "o.connected_at >= :lo AND o.connected_at < :hi AND o.customer_type = 'small_micro'"
    connections = f"""
        WITH applied AS (
            SELECT order_id, starts_at, ends_at FROM (
                SELECT t.order_id, ad.starts_at, ad.ends_at, row_number() OVER (
                    PARTITION BY t.order_id ORDER BY a.started_at DESC, s.id DESC) AS latest
                FROM answers s JOIN call_attempts a ON s.attempt_id = a.id
                JOIN callback_tasks t ON a.task_id = t.id JOIN work_orders o ON t.order_id = o.id
                JOIN calendar_days ad ON ad.calendar = :key
                    AND {d["iso"].format(d="ad.day")} = substr({d["text"].format(v="s.value")}, 1, 10)
                WHERE s.question = 'applied_on' AND {period}) ranked
            WHERE latest = 1)
        SELECT o.has_engineering, count(*), sum({seconds("o.accepted_at", "o.connected_at")}),
            sum(({work("o.connected_at", "cc")}) - ({work("o.accepted_at", "ca")})),
            sum(CASE WHEN o.connected_at > o.due_at THEN 1 ELSE 0 END),
            sum(CASE WHEN ap.starts_at IS NULL
                  OR (ap.starts_at <= o.accepted_at AND o.accepted_at < ap.ends_at)
                THEN {seconds("o.accepted_at", "o.connected_at")}
                ELSE {seconds("ap.starts_at", "o.connected_at")} END),
            count(ap.order_id)
        FROM work_orders o
        LEFT JOIN applied ap ON ap.order_id = o.id
        LEFT JOIN calendar_days ca
            ON ca.calendar = :key AND ca.day = {d["day"].format(m="o.accepted_at", offset=offset)}
        LEFT JOIN calendar_days cc
            ON cc.calendar = :key AND cc.day = {d["day"].format(m="o.connected_at", offset=offset)}
        WHERE {period}
        GROUP BY o.has_engineering"""  # noqa: S608
    # Per service centre and local month, as the summary's utility figures are (in a fixed-offset zone).
    callbacks = f"""
        SELECT service_center, month, count(*), sum(CASE WHEN state = 'done' THEN 1 ELSE 0 END),
            sum(CASE WHEN state = 'unreachable' THEN 1 ELSE 0 END), sum(attempts),
            sum(CASE WHEN best = 0 THEN 1 ELSE 0 END), sum(CASE WHEN best = 1 THEN 1 ELSE 0 END),
            sum(CASE WHEN best = 2 OR (best IS NULL AND state = 'do_not_call') THEN 1 ELSE 0 END),
            sum(CASE WHEN best = 3 THEN 1 ELSE 0 END), sum(CASE WHEN best = 4 THEN 1 ELSE 0 END),
            sum(CASE WHEN best IS NULL AND state NOT IN ('do_not_call', 'cancelled') THEN 1 ELSE 0 END),
            sum(CASE WHEN first_interview IS NOT NULL THEN 1 ELSE 0 END),
            sum(CASE WHEN first_interview <= due_by THEN 1 ELSE 0 END),
            sum(scores), sum(score_total), sum(satisfied)
        FROM (
            SELECT t.id, t.state, t.due_by, o.service_center,
                {d["month"].format(m="t.created_at", offset=offset)} AS month,
                min(CASE a.disposition WHEN 'completed' THEN 0 WHEN 'partial' THEN 1
                    WHEN 'refused' THEN 2 WHEN 'callback_requested' THEN 2 WHEN 'do_not_call' THEN 2
                    WHEN 'wrong_number' THEN 3 WHEN 'invalid_number' THEN 3
                    WHEN 'no_answer' THEN 4 WHEN 'busy' THEN 4 WHEN 'voicemail' THEN 4 END) AS best,
                count(a.id) AS attempts,
                min(CASE WHEN a.disposition IN ('completed', 'partial') THEN a.started_at END)
                    AS first_interview,
                count(s.id) AS scores, sum({d["number"].format(v="s.value")}) AS score_total,
                sum(CASE WHEN {d["number"].format(v="s.value")} >= 4 THEN 1 ELSE 0 END) AS satisfied
            FROM callback_tasks t JOIN work_orders o ON t.order_id = o.id
            LEFT JOIN call_attempts a ON a.task_id = t.id AND a.disposition IS NOT NULL
            LEFT JOIN answers s ON s.attempt_id = a.id AND s.question = 'satisfaction'
            WHERE t.created_at >= :lo AND t.created_at < :hi AND o.customer_type = 'small_micro'
            GROUP BY t.id, t.state, t.due_by, o.service_center) per_task
        GROUP BY service_center, month"""  # noqa: S608
    cases = """
        SELECT c.category, c.state, count(*),
            sum(CASE WHEN c.opened_at >= :lo AND c.opened_at < :hi THEN 1 ELSE 0 END),
            sum(CASE WHEN c.letter_issued_at >= :lo AND c.letter_issued_at < :hi THEN 1 ELSE 0 END),
            sum(CASE WHEN c.closed_at >= :lo AND c.closed_at < :hi AND c.state = 'closed' THEN 1 ELSE 0 END)
        FROM supervision_cases c JOIN work_orders o ON c.order_id = o.id
        WHERE o.customer_type = 'small_micro' AND (
            (c.opened_at >= :lo AND c.opened_at < :hi)
            OR (c.letter_issued_at >= :lo AND c.letter_issued_at < :hi)
            OR (c.referred_at >= :lo AND c.referred_at < :hi) OR (c.closed_at >= :lo AND c.closed_at < :hi))
        GROUP BY c.category, c.state"""
    penalties = """
        SELECT p.amount_yuan, count(*) FROM penalties p JOIN supervision_cases c ON p.case_id = c.id
        JOIN work_orders o ON c.order_id = o.id
        WHERE p.recorded_at >= :lo AND p.recorded_at < :hi AND o.customer_type = 'small_micro'
        GROUP BY p.amount_yuan"""
    return {"connections": connections, "callbacks": callbacks, "cases": cases, "penalties": penalties}


def rss_kb() -> int:
    """Return the process's resident set size now, in kB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class RssSampler(threading.Thread):
    """Sample the process's RSS every 10 ms while a measurement runs; keep the highest."""

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


def phase(folder: str, url: str, kind: str, period: str, repeat: int) -> dict:
    """Run one measurement, best of `repeat`, in this process; return seconds and peak RSS growth."""
    from sqlalchemy import select, text

    from callback.extensions import db
    from callback.models import WorkOrder
    from callback.reports.aggregates import tune_for_reports
    from callback.reports.calendar_days import ensure_calendar
    from callback.reports.charts import chart_data, dashboard_data
    from callback.reports.filters import ReportFilter
    from callback.reports.summary import summary
    from callback.settings import current_settings
    from callback.web.reports import _filter_choices

    filters = (
        ReportFilter(start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
        if period == "year"
        else ReportFilter(start=date(YEAR, 11, 1), end=date(YEAR, 11, 30))
    )
    app = make_app(folder, url)
    with app.app_context():
        settings = current_settings()
        # The calendar's days are filled once (the first report does it, and its view commits them).
        calendar = ensure_calendar(db.session, settings, date(YEAR - 5, 1, 1), date(YEAR + 1, 12, 31))
        db.session.commit()
        lo, hi = filters.bounds(settings.tz)
        params = {"lo": lo.replace(tzinfo=None), "hi": hi.replace(tzinfo=None), "key": calendar.key}
        statements = anchor_statements(db.engine.dialect.name, calendar.key, calendar.max_offset)

        def run() -> object:
            if kind.startswith("anchor"):
                # The same transaction settings as the reports' (PostgreSQL: JIT off, 32 MB of work_mem).
                tune_for_reports(db.session)
            if kind == "anchor-connections":
                return db.session.execute(text(statements["connections"]), params).all()
            if kind == "anchor":
                return [db.session.execute(text(sql), params).all() for sql in statements.values()]
            if kind == "summary":
                return summary(db.session, filters, settings, NOW)
            if kind == "dashboard":
                # What GET /reports/ computes: the figures and charts from shared groups, the filter lists.
                return dashboard_data(db.session, filters, settings, NOW), _filter_choices()
            if kind == "two-requests":
                # What the dashboard computed before session 4: the page's summary, then charts.json's data,
                # and the filter lists by SELECT DISTINCT over every order.
                return (
                    summary(db.session, filters, settings, NOW),
                    chart_data(db.session, filters, settings, NOW),
                    db.session.scalars(select(WorkOrder.service_center).distinct()).all(),
                    db.session.scalars(select(WorkOrder.account_manager).distinct()).all(),
                )
            if kind == "pandas":
                from tests.reports import frame_oracle

                return frame_oracle.summary(db.session, filters, settings, NOW)
            raise ValueError(kind)

        run()  # warm: statement caches, the first read of the pages
        db.session.rollback()
        best, growth = float("inf"), 0.0
        for _ in range(repeat):
            before = rss_kb()
            sampler = RssSampler()
            sampler.start()
            began = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - began)
            growth = max(growth, (sampler.finish() - before) / 1024)
            db.session.rollback()
        orders = db.session.scalar(
            text(
                "SELECT count(*) FROM work_orders WHERE connected_at >= :lo AND connected_at < :hi "
                "AND customer_type = 'small_micro'"
            ),
            params,
        )
        db.session.remove()
        db.engine.dispose()
    return {"seconds": best, "growth_mb": growth, "orders": orders}


def run_phase(args: argparse.Namespace, folder: str, kind: str, period: str) -> dict:
    command = [sys.executable, __file__, "--phase", kind, "--period", period, "--folder", folder]
    command += ["--repeat", str(args.repeat)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    result = json.loads(output.strip().splitlines()[-1])
    print(
        f"{kind:20} {period:5} ({result['orders']:>9,} connections): {result['seconds']:8.3f} s, "
        f"peak RSS growth {result['growth_mb']:7.1f} MB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database-url", help="PostgreSQL (the schema bench_reports is used); SQLite if not given"
    )
    parser.add_argument("--periods", default="month,year", help="month, year or both (the default)")
    parser.add_argument("--pandas", action="store_true", help="also time the pandas computation replaced")
    parser.add_argument("--keep", help="a folder to keep the SQLite database in (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="do not generate: reuse the kept database")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--period", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        url = database_url(args.database_url, args.folder)
        print(json.dumps(phase(args.folder, url, args.phase, args.period, args.repeat)))
        return
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or temporary
        os.makedirs(folder, exist_ok=True)
        if not args.reuse:
            began = time.perf_counter()
            generate(folder, database_url(args.database_url, folder), args.orders)
            print(f"generated {args.orders:,} orders in {time.perf_counter() - began:.1f} s", flush=True)
        results = {}
        kinds = ["anchor-connections", "anchor", "summary", "dashboard", "two-requests"]
        kinds += ["pandas"] if args.pandas else []
        periods = args.periods.split(",")
        for period in periods:
            for kind in kinds:
                results[kind, period] = run_phase(args, folder, kind, period)
        for period in periods:
            summary, anchor = results["summary", period], results["anchor", period]
            print(
                f"{period}: summary / raw SQL of every figure: {summary['seconds'] / anchor['seconds']:.2f}"
            )
            connections = results["anchor-connections", period]
            print(
                f"{period}: summary / raw SQL of the connection figures: "
                f"{summary['seconds'] / connections['seconds']:.2f}"
            )
            if args.pandas:
                pandas = results["pandas", period]["seconds"]
                print(f"{period}: pandas / summary: {pandas / summary['seconds']:.1f}")
        if len(periods) == 2:
            small, large = results["summary", "month"], results["summary", "year"]
            print(
                f"summary peak RSS growth, year / month ({large['orders']:,} / {small['orders']:,} "
                f"connections): {large['growth_mb'] / max(small['growth_mb'], 1.0):.2f}"
            )
        for period in periods:
            dashboard, anchor = results["dashboard", period]["seconds"], results["anchor", period]["seconds"]
            before = results["two-requests", period]["seconds"]
            print(
                f"{period}: dashboard data (figures, charts, filter lists) {dashboard:.3f} s; "
                f"dashboard / raw SQL of every figure: {dashboard / anchor:.2f}; "
                f"before (summary, then charts.json, DISTINCT lists) / raw SQL: {before / anchor:.2f}"
            )


if __name__ == "__main__":
    main()
