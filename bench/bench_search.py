"""How the top bar's search answers on a large table of orders (issue 12).

The anchor is a lookup of one order by its exact number (the unique index) in the same run, on the same
database; each figure is the mean time of one kind of search as a ratio to it. Phone and order-number
searches read an index, so their ratios stay small whatever the table's size; name and address are
searched among the newest TEXT_SCAN_LIMIT orders only, so that ratio stops growing past that size.

    .venv/bin/python bench/bench_search.py [--orders 200000] [--repeat 50] [--database-url URL]
"""

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from callback import create_app
from callback.audit import Actor
from callback.extensions import db
from callback.models import WorkOrder
from callback.search import TEXT_SCAN_LIMIT, parse_query, search

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
BRANDS = ["宏达", "明珠", "金穗", "华联", "顺发"]
SHOPS = ["五金店", "餐馆", "超市", "服装店", "理发店", "便利店", "药房", "茶楼", "电器行", "建材店"]
TOWNS = ["城关镇", "城南街道", "城北街道", "东湖镇", "西山乡", "南岭镇"]
ROADS = ["人民路", "解放路", "中山路", "建设路", "新华路", "胜利路"]


def fill(count: int, rng: random.Random) -> None:
    """Insert `count` orders in bulk with varied numbers, phones, names and addresses."""
    batch = 10_000
    for start in range(0, count, batch):
        rows = []
        for i in range(start, min(start + batch, count)):
            rows.append(
                {
                    "order_no": f"GD-{2020 + i % 7}-{i:08d}",
                    "order_no_key": f"gd-{2020 + i % 7}-{i:08d}",
                    "customer_name": f"{rng.choice(BRANDS)}{rng.choice(SHOPS)}{i}",
                    "customer_phone": f"+861{rng.choice('3578')}{rng.randrange(10**9):09d}",
                    "address": f"{rng.choice(TOWNS)}{rng.choice(ROADS)} {rng.randrange(1, 300)} 号",
                    "customer_type": "small_micro",
                    "service_center": "城关",
                    "has_engineering": False,
                    "status": "accepted",
                    "accepted_at": NOW - timedelta(minutes=count - i),
                    "due_at": NOW + timedelta(days=5),
                    "source_updated_at": NOW,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        db.session.execute(insert(WorkOrder), rows)
    db.session.commit()


def mean_seconds(work: Callable[[], object], repeat: int) -> float:
    work()  # warm the caches once
    started = time.perf_counter()
    for _ in range(repeat):
        work()
    return (time.perf_counter() - started) / repeat


def run(orders: int, repeat: int, url: str | None) -> None:
    rng = random.Random(12)  # test data, not secrets
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder}/bench.sqlite"})
        with app.app_context():
            db.drop_all()
            db.create_all()
            fill(orders, rng)
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE work_orders")
            sample = db.session.scalar(select(WorkOrder).where(WorkOrder.id == orders * 3 // 4))
            assert sample is not None
            phone, number = sample.customer_phone, sample.order_no
            actor = Actor(source="bench")

            def find(text: str) -> int:
                found = search(db.session, parse_query(text), role="supervisor", actor=actor, now=NOW)
                db.session.rollback()  # no audit rows pile up
                return len(found.orders)

            anchor = mean_seconds(
                lambda: db.session.scalar(select(WorkOrder.id).where(WorkOrder.order_no == number)), repeat
            )
            cases = {
                "phone (exact, E.164 index)": phone[3:6] + " " + phone[6:10] + " " + phone[10:],
                "order number, full": number.lower(),
                "order number, prefix of 8": number[:8].lower(),
                "name, part (bounded scan)": sample.customer_name[-6:],
                "address, part (bounded scan)": "解放路 1",
                "nothing matches (bounded scan)": "无此客户名",
            }
            print(
                f"{orders:,} orders on {db.engine.dialect.name}; name/address scan limit {TEXT_SCAN_LIMIT:,}"
            )
            print(f"anchor: one order by its exact number: {anchor * 1000:.3f} ms")
            for name, text in cases.items():
                assert find(text) >= (0 if "nothing" in name else 1), name
                seconds = mean_seconds(lambda text=text: find(text), repeat)
                print(f"{name:32} {seconds * 1000:9.2f} ms   ratio {seconds / anchor:8.1f}")
            db.drop_all()
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    run(args.orders, args.repeat, args.database_url)


if __name__ == "__main__":
    main()
