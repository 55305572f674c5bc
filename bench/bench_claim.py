"""How claiming the next callback scales with the size of the queue.

The anchor is the claim latency on a small queue measured in the same run; the figure printed is the
ratio at a large queue. With the (state, channel, due_by, id) index the ratio stays near 1: a claim
reads the head of the index, whatever the queue's length.

    .venv/bin/python bench/bench_claim.py [--small 2000] [--large 200000] [--claims 200]
"""

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from callback import create_app
from callback.extensions import db
from callback.models import CallbackTask, User, WorkOrder
from callback.settings import current_settings
from callback.worklist import claim_next

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def fill(count: int) -> None:
    """Insert `count` orders, each with an open intake task, in bulk; a third go to the dialer."""
    batch = 10_000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        orders = [
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
        ]
        ids = db.session.scalars(
            insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True), orders
        ).all()
        db.session.execute(
            insert(CallbackTask),
            [
                {
                    "order_id": order_id,
                    "kind": "intake",
                    "state": "open",
                    "channel": "auto" if order_id % 3 == 0 else "operator",
                    "not_before": NOW - timedelta(hours=1),
                    "due_by": NOW + timedelta(minutes=order_id % 5000),
                    "attempt_count": 0,
                    "failed_attempts": 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for order_id in ids
            ],
        )
    db.session.commit()


def claim_seconds(queue_size: int, claims: int, url: str | None) -> float:
    """Return the mean seconds per claim on a queue of `queue_size` tasks."""
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
            fill(queue_size)
            # A person holds one claim at a time: each claim is made by another operator.
            users = [User(username=f"bench{i}", role="operator", created_at=NOW) for i in range(claims)]
            db.session.add_all(users)
            db.session.commit()
            settings = current_settings()
            started = time.perf_counter()
            for user in users:
                assert claim_next(db.session, user.id, now=NOW, settings=settings) is not None
                db.session.commit()
            elapsed = (time.perf_counter() - started) / claims
            db.drop_all()
            db.session.remove()
            db.engine.dispose()
            return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    anchor = claim_seconds(args.small, args.claims, args.database_url)
    large = claim_seconds(args.large, args.claims, args.database_url)
    print(f"claim on {args.small:,} tasks (anchor): {anchor * 1000:.2f} ms")
    print(f"claim on {args.large:,} tasks: {large * 1000:.2f} ms")
    print(f"ratio large/anchor: {large / anchor:.2f}  (near 1 = claims do not slow as the queue grows)")


if __name__ == "__main__":
    main()
