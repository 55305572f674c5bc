"""The calls-per-second cap holds across dialer processes sharing one database.

A correctness check of the limiter (no more calls than the cap in any one-second window), not a speed test.
"""

import itertools
import threading
import time

from flask import current_app
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from callback.extensions import db
from callback.models import CallAttempt
from callback.telephony.dialer import Dialer
from callback.telephony.pacing import CallPacer
from callback.telephony.port import CallPlaced
from tests.conftest import TEST_NOW
from tests.telephony.helpers import store_connected_orders

CALLS_PER_SECOND = 4
# The pacer sleeps until a slot's moment; the clock read after waking may differ by this much.
SLACK_SECONDS = 0.05


def test_slots_are_spaced_by_the_interval_even_when_asked_for_at_once(app):
    moments: list[float] = []
    pacer = CallPacer(db.engine, 2, clock=lambda: 1000.0, sleep=moments.append)
    slots = [pacer.reserve() for _ in range(4)]
    assert slots == [1000.0, 1000.5, 1001.0, 1001.5]


class TimestampingProvider:
    name = "timestamping"

    def __init__(self, placed: list[tuple[float, int]], lock: threading.Lock) -> None:
        self.placed = placed
        self.lock = lock

    def place_call(self, call):
        with self.lock:
            self.placed.append((time.time(), call.attempt_id))
        return CallPlaced(f"CA{call.attempt_id:032d}")

    def find_call(self, call, placed_after):
        return None

    def end_call(self, sid: str) -> None:
        pass

    def run_pending(self) -> None:
        pass


slots_given: list[float] = []


class RecordingPacer(CallPacer):
    """The real pacer, noting each slot it hands out."""

    def reserve(self) -> float:
        slot = super().reserve()
        slots_given.append(slot)
        return slot


def test_two_dialers_together_stay_under_the_cap_and_never_call_a_task_twice(app, settings):
    slots_given.clear()
    store_connected_orders(settings, *(f"RATE-{n:02d}" for n in range(14)))
    url = db.engine.url
    config = dict(current_app.config)
    placed: list[tuple[float, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run_dialer() -> None:
        engine = create_engine(url)  # each "process" has its own engine and connections
        try:
            with Session(engine) as session:
                pacer = RecordingPacer(engine, CALLS_PER_SECOND)
                Dialer(
                    session, TimestampingProvider(placed, lock), pacer, settings, config, lambda: TEST_NOW
                ).run_pass()
        except BaseException as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run_dialer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    times = sorted(moment for moment, _ in placed)
    assert len(times) == 14
    assert len({attempt_id for _, attempt_id in placed}) == 14
    # The two dialers share one pacing row: the slots they were given are spaced by the interval, and no
    # call was placed before its slot. (Wall-clock gaps between calls are not asserted: a busy machine may
    # delay one call, after which the next, on time, follows it closely.)
    slots = sorted(slots_given)
    assert len(slots) >= 14  # a dialer may take a slot and then find the last task gone
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / CALLS_PER_SECOND - SLACK_SECONDS, slots
    assert times[0] >= slots[0] - SLACK_SECONDS
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CallAttempt)) == 14
