"""Benchmark the summary report (contract 4.4) as a ratio to an anchor measured in the same run.

    .venv/bin/python bench/bench_reports.py [--orders 100000] [--repeat 3]

Generates N connected orders over one year into a temporary SQLite database with bulk inserts (a third of
them with a callback that gave `applied_on`, one case with a letter and a penalty per 50 orders), then times:

- anchor: `SELECT count(*)` of the year's connected orders plus a pandas read of the same rows and columns;
- summary: the whole summary (connections with working days and customer-lived days, callbacks, cases,
  penalties), as the API computes it.

The figure printed is summary time / anchor time: how much the report costs beyond reading its rows.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
from sqlalchemy import func, insert, select

from callback import create_app
from callback.extensions import db
from callback.models import (
    Answer,
    CallAttempt,
    CallbackTask,
    Penalty,
    SupervisionCase,
    WorkOrder,
)
from callback.reports.filters import ReportFilter
from callback.reports.summary import build_report
from callback.settings import current_settings

YEAR = 2025
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
BATCH = 5000


def generate(orders: int, seed: int = 11) -> None:
    """Bulk-insert the orders and the callbacks, cases and penalties about them."""
    rng = random.Random(seed)
    start = datetime(YEAR, 1, 1, 1, 0, tzinfo=UTC)
    centers = [f"第{n}供电服务中心" for n in range(1, 21)]
    rows, tasks, attempts, answers, cases, penalties = [], [], [], [], [], []
    for n in range(1, orders + 1):
        accepted = start + timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
        connected = accepted + timedelta(hours=rng.uniform(4, 24 * 12))
        rows.append(
            {
                "id": n,
                "order_no": f"B-{n:07d}",
                "customer_name": f"客户{n}",
                "customer_phone": "+8613800138000",
                "customer_type": "small_micro" if n % 10 else "residential",
                "service_center": centers[n % len(centers)],
                "account_manager": f"经理{n % 97}",
                "has_engineering": rng.random() < 0.45,
                "status": "connected",
                "accepted_at": accepted,
                "due_at": accepted + timedelta(days=15),
                "connected_at": connected,
                "source_updated_at": connected,
                "created_at": connected,
                "updated_at": connected,
            }
        )
        if n % 3 == 0:
            tasks.append(
                {
                    "id": n,
                    "order_id": n,
                    "kind": "completion",
                    "state": "done",
                    "channel": "auto",
                    "not_before": connected,
                    "due_by": connected + timedelta(days=2),
                    "attempt_count": 1,
                    "created_at": connected,
                    "updated_at": connected,
                }
            )
            attempts.append(
                {
                    "id": n,
                    "task_id": n,
                    "channel": "auto",
                    "disposition": "completed",
                    "started_at": connected,
                }
            )
            applied = (accepted - timedelta(days=rng.choice([0, 0, 3, 10]))).date().isoformat()
            answers.append(
                {"attempt_id": n, "question": "applied_on", "value": applied, "answered_at": connected}
            )
            answers.append(
                {
                    "attempt_id": n,
                    "question": "satisfaction",
                    "value": rng.randint(1, 5),
                    "answered_at": connected,
                }
            )
        if n % 50 == 0:
            cases.append(
                {
                    "id": n,
                    "order_id": n,
                    "category": "offline_circulation",
                    "state": "letter_issued",
                    "opened_at": connected,
                    "due_at": connected + timedelta(days=14),
                    "letter_no": f"JD-{YEAR}-{n:06d}",
                    "letter_issued_at": connected + timedelta(days=1),
                    "referred_to_discipline": False,
                    "updated_at": connected,
                }
            )
            penalties.append(
                {
                    "case_id": n,
                    "person": "员工",
                    "amount_yuan": Decimal(200),
                    "reason": "考核",
                    "recorded_at": connected + timedelta(days=2),
                }
            )
    for model, data in (
        (WorkOrder, rows),
        (CallbackTask, tasks),
        (CallAttempt, attempts),
        (Answer, answers),
        (SupervisionCase, cases),
        (Penalty, penalties),
    ):
        for offset in range(0, len(data), BATCH):
            db.session.execute(insert(model), data[offset : offset + BATCH])
    db.session.commit()


def anchor(filters: ReportFilter) -> float:
    """Count and read the year's connected orders with pandas: the least any report over them costs."""
    lo, hi = filters.bounds(current_settings().tz)
    condition = (WorkOrder.connected_at >= lo, WorkOrder.connected_at < hi, filters.order_condition())
    began = time.perf_counter()
    db.session.scalar(select(func.count()).select_from(WorkOrder).where(*condition))
    query = select(
        WorkOrder.id,
        WorkOrder.has_engineering,
        WorkOrder.accepted_at,
        WorkOrder.due_at,
        WorkOrder.connected_at,
    ).where(*condition)
    data = pd.read_sql(query, db.session.connection())
    assert len(data) > 0
    return time.perf_counter() - began


def measure(filters: ReportFilter) -> float:
    """Time the whole summary."""
    began = time.perf_counter()
    figures = build_report(db.session, filters, current_settings(), NOW).figures
    assert figures["connections"]["count"] > 0
    return time.perf_counter() - began


def main() -> None:
    """Generate, then time anchor and summary, best of `--repeat` each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite'}",
            }
        )
        with app.app_context():
            db.create_all()
            began = time.perf_counter()
            generate(args.orders)
            print(f"generated {args.orders} orders in {time.perf_counter() - began:.1f} s")
            filters = ReportFilter(start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
            anchors = [anchor(filters) for _ in range(args.repeat)]
            summaries = [measure(filters) for _ in range(args.repeat)]
            best_anchor, best_summary = min(anchors), min(summaries)
            print(f"anchor (count + pandas read of the rows): {best_anchor:.3f} s")
            print(f"summary: {best_summary:.3f} s")
            print(f"summary / anchor ratio: {best_summary / best_anchor:.2f}")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
