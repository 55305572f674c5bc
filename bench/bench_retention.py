"""How the retention purge scales with the number of orders to de-identify.

Each order carries what a real one does: a done task, a call attempt with a note, an order snapshot and an
IVR transcript, a free-text comment answer, and an audit event of an update that changed the phone number.
The anchor is the time per order on a small table, measured in the same run; the figure printed is the ratio
on a large one. Working in batches by id (one transaction each), the ratio stays near 1: the cost per order
does not grow with the table.

    .venv/bin/python bench/bench_retention.py [--small 2000] [--large 20000]
"""

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from callback import create_app
from callback.audit import Actor
from callback.extensions import db
from callback.models import Answer, AuditEvent, CallAttempt, CallbackTask, WorkOrder
from callback.retention import cutoff_for, next_batch, purge_orders

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=400)


def fill(count: int) -> None:
    """Insert `count` orders finished 400 days ago, each with its task, attempt, answer and audit event."""
    batch = 5_000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        orders = [
            {
                "order_no": f"R-{start + i:08d}",
                "customer_name": "宏达五金店",
                "customer_phone": "+8613800138000",
                "address": "城关镇人民路 12 号",
                "customer_type": "small_micro",
                "service_center": "城关",
                "has_engineering": False,
                "status": "connected",
                "accepted_at": OLD - timedelta(days=5),
                "due_at": OLD,
                "connected_at": OLD,
                "source_updated_at": OLD,
                "created_at": OLD,
                "updated_at": OLD,
            }
            for i in range(size)
        ]
        order_ids = db.session.scalars(
            insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True), orders
        ).all()
        task_ids = db.session.scalars(
            insert(CallbackTask).returning(CallbackTask.id, sort_by_parameter_order=True),
            [
                {
                    "order_id": order_id,
                    "kind": "completion",
                    "state": "done",
                    "channel": "auto",
                    "not_before": OLD,
                    "due_by": OLD + timedelta(days=2),
                    "attempt_count": 1,
                    "failed_attempts": 0,
                    "created_at": OLD,
                    "updated_at": OLD,
                }
                for order_id in order_ids
            ],
        ).all()
        snapshot = {"order_no": "R", "customer_name": "宏达五金店", "customer_phone": "+8613800138000"}
        transcript = [
            {"at": OLD.isoformat(), "event": "said", "question": "trips", "text": "为办电您跑了几趟？"}
        ]
        attempt_ids = db.session.scalars(
            insert(CallAttempt).returning(CallAttempt.id, sort_by_parameter_order=True),
            [
                {
                    "task_id": task_id,
                    "channel": "auto",
                    "disposition": "completed",
                    "aapor_code": "1.1",
                    "started_at": OLD,
                    "note": "客户李四 13912345678",
                    "order_snapshot": snapshot,
                    "transcript": transcript,
                }
                for task_id in task_ids
            ],
        ).all()
        db.session.execute(
            insert(Answer),
            [
                {"attempt_id": attempt_id, "question": "comment", "value": "很慢", "answered_at": OLD}
                for attempt_id in attempt_ids
            ],
        )
        db.session.execute(
            insert(AuditEvent),
            [
                {
                    "at": OLD,
                    "action": "order.updated",
                    "entity_type": "work_order",
                    "entity_id": order_id,
                    "channel": "api",
                    "details": {"changes": {"customer_phone": ["+8613900139000", "+8613800138000"]}},
                }
                for order_id in order_ids
            ],
        )
    db.session.commit()


def purge_seconds_per_order(count: int, url: str | None) -> float:
    """Return the seconds per order of purging `count` orders, batch by batch as the command does."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder}/bench.sqlite"})
        with app.app_context():
            db.drop_all()
            db.create_all()
            fill(count)
            cutoff = cutoff_for(NOW, 365)
            actor = Actor(source="bench")
            purged = 0
            after_id = 0
            started = time.perf_counter()
            while ids := next_batch(db.session, cutoff, after_id):
                purged += purge_orders(db.session, ids, now=NOW, actor=actor, older_than_days=365).orders
                db.session.commit()
                after_id = ids[-1]
            elapsed = time.perf_counter() - started
            assert purged == count, (purged, count)
            db.drop_all()
            db.session.remove()
            db.engine.dispose()
            return elapsed / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    anchor = purge_seconds_per_order(args.small, args.database_url)
    large = purge_seconds_per_order(args.large, args.database_url)
    print(f"purge of {args.small:,} orders (anchor): {anchor * 1e6:.0f} µs per order")
    print(
        f"purge of {args.large:,} orders: {large * 1e6:.0f} µs per order ({args.large * large:.1f} s in all)"
    )
    print(
        f"ratio large/anchor per order: {large / anchor:.2f}  (near 1 = no slower per order on larger tables)"
    )


if __name__ == "__main__":
    main()
