"""EXPLAIN (ANALYZE, BUFFERS) each grouped statement of the dashboard's data, on bench_reports.py's database.

Runs `dashboard_data` once for a month of bench_reports.py's year (its wall time first), then EXPLAINs
every GROUP BY statement it ran, in the same transaction (the report's settings: JIT off, work_mem,
random_page_cost):

    .venv/bin/python bench/explain_dashboard.py --keep /tmp/s4r/pg1m \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/cb_s4_reports_1m [--only tasks]
"""

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_reports import NOW, YEAR, database_url, make_app

# A word of each statement, to EXPLAIN only one.
STATEMENTS = {
    "connections": "has_engineering",
    "tasks": "per_task",
    "cases": "supervision_cases.category",
    "penalties": "penalties.amount_yuan",
    "findings": "findings.category",
}


def main() -> None:
    """Run the dashboard's data once, then EXPLAIN its grouped statements."""
    from sqlalchemy import event

    from callback.extensions import db
    from callback.reports.charts import dashboard_data
    from callback.reports.filters import ReportFilter
    from callback.settings import current_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", required=True, help="bench_reports.py's kept folder")
    parser.add_argument("--database-url", required=True, help="bench_reports.py's PostgreSQL database")
    parser.add_argument("--month", type=int, default=11)
    parser.add_argument("--only", choices=sorted(STATEMENTS), help="EXPLAIN only this statement")
    args = parser.parse_args()
    app = make_app(args.keep, database_url(args.database_url, args.keep))
    with app.app_context():
        captured: list[tuple[str, Any]] = []

        def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
            if "GROUP BY" in statement:
                captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", grab)
        last = (date(YEAR, args.month + 1, 1) if args.month < 12 else date(YEAR + 1, 1, 1)).toordinal() - 1
        filters = ReportFilter(start=date(YEAR, args.month, 1), end=date.fromordinal(last))
        started = time.perf_counter()
        dashboard_data(db.session, filters, current_settings(), NOW)
        print(f"dashboard_data: {time.perf_counter() - started:.2f} s", flush=True)
        event.remove(db.engine, "before_cursor_execute", grab)
        connection = db.session.connection()
        for statement, parameters in captured:
            names = [name for name, word in STATEMENTS.items() if word in statement]
            if args.only and args.only not in names:
                continue
            print("=" * 100, f"\n{', '.join(names) or statement[:100]}")
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            print("\n".join(row[0] for row in plan), flush=True)
        db.session.rollback()


if __name__ == "__main__":
    main()
