"""Does rotating retries through calling slots (CALL_SLOTS) reach more customers per call than fixed delays?

    .venv/bin/python bench/bench_slots.py                      # 500 tasks, seed 1
    .venv/bin/python bench/bench_slots.py --tasks 3000 --seed 7 --database-url postgresql+psycopg://…

The same N automated callbacks run twice through the real worklist, each run in a fresh database and a
virtual clock: the dialer's `start_automated_attempt` claims every workable task (within CALLING_HOURS,
once its `not_before` has come), the simulated customer of `callback.telephony.simulated` decides the call's
outcome (`simulated_outcome`: no answer when the customer is not at the phone in that slot, a habit drawn
once per customer and slot with the slot's share, else SIMULATION_MIX), and
`finish_automated_attempt` records it and schedules the retry, up to MAX_ATTEMPTS failed contacts.

- anchor: `CALL_SLOTS = ""`, today's fixed RETRY_DELAY_MINUTES (busy 30, no answer 120, voicemail 180);
- slots: the default CALL_SLOTS (weekday morning, afternoon, evening, weekend/holiday).

First attempts are spread at random over the calling hours of one working week (Mon 30 Nov to Fri 4 Dec
2026). The customers are at the phone with the per-slot shares of `--slot-answer` (an assumption about small
businesses, busy by day: not a measurement), then behave by the default SIMULATION_MIX. Both runs draw from
the same seed. Printed per run: attempts, contacts (completed or partial), contact rate per attempt, the
share of tasks reached, and the slots / anchor ratio of the contact rate per attempt.
"""

import argparse
import os
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, func, select, update

import callback.config_defaults
from callback import create_app
from callback.audit import Actor
from callback.call_slots import parse_call_slots, slot_of
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import ValidOrder, validate_order
from callback.models import CallAttempt, CallbackTask, Disposition, TaskState
from callback.settings import current_settings
from callback.telephony.simulated import OUTCOME_DISPOSITIONS, simulated_outcome
from callback.worklist import finish_automated_attempt, make_ready, start_automated_attempt

DEFAULT_SLOT_ANSWER = "weekday_morning=35,weekday_afternoon=45,weekday_evening=80,weekend=70"
CREATED = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # Sunday 23:00 in Beijing, before the week starts
WEEK_START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 08:00 in Beijing
CONTACTS = {Disposition.COMPLETED.value, Disposition.PARTIAL.value}


def first_attempt_times(count: int, seed: int) -> list[datetime]:
    """Spread first attempts over the calling hours (08:00-20:00) of Monday to Friday, to the minute."""
    rng = random.Random(seed)
    return [
        WEEK_START + timedelta(days=rng.randrange(5), minutes=rng.randrange(12 * 60)) for _ in range(count)
    ]


def run(tasks: int, seed: int, call_slots: str | None, slot_answer: str, url: str | None) -> dict[str, float]:
    """Run every task through its attempts on a virtual clock; return the counts."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        config = {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{Path(folder) / 'bench.sqlite'}",
            "AUTO_KINDS": "intake",
            # The dialer makes every attempt here: no hand-over to the operators before MAX_ATTEMPTS.
            "AUTO_MAX_ATTEMPTS": 3,
            "MAX_ATTEMPTS": 3,
        }
        if call_slots is not None:
            config["CALL_SLOTS"] = call_slots
        app = create_app(config)
        with app.app_context():
            db.drop_all()
            db.create_all()
            settings = current_settings()
            store_tasks(tasks, seed, settings)
            rng = random.Random(seed)
            # The customers' day does not depend on the scheduler: their slot is the default CALL_SLOTS' in
            # both runs (in the anchor's the attempts record none).
            customer_slots = parse_call_slots(callback.config_defaults.CALL_SLOTS)
            shares = {
                name: int(share) for name, share in (item.split("=") for item in slot_answer.split(","))
            }
            now = settings.calling_hours.next_open(first_pending(now=CREATED), settings.tz)
            while True:
                make_ready(db.session, now=now)
                while (
                    attempt := start_automated_attempt(db.session, now=now, settings=settings)
                ) is not None:
                    slot = slot_of(now, customer_slots, settings.tz, settings.calendar)
                    customer = attempt.task.order.customer_phone
                    outcome = simulated_outcome(rng, settings.simulation_mix, shares, slot, customer)
                    disposition = Disposition(OUTCOME_DISPOSITIONS[outcome])
                    finish_automated_attempt(db.session, attempt, disposition, now=now, settings=settings)
                db.session.commit()
                later = first_pending(now=now)
                if later is None:
                    break
                now = settings.calling_hours.next_open(later, settings.tz)
            attempts = db.session.scalar(select(func.count()).select_from(CallAttempt))
            contacts = db.session.scalar(
                select(func.count()).select_from(CallAttempt).where(CallAttempt.disposition.in_(CONTACTS))
            )
            reached = db.session.scalar(
                select(func.count(func.distinct(CallAttempt.task_id))).where(
                    CallAttempt.disposition.in_(CONTACTS)
                )
            )
            db.drop_all()
            db.session.remove()
            db.engine.dispose()
    return {"attempts": attempts, "contacts": contacts, "reached": reached, "tasks": tasks}


def first_pending(*, now: datetime) -> datetime | None:
    """Return the next `not_before` after `now` among open tasks (the next moment the dialer has work)."""
    return db.session.scalar(
        select(func.min(CallbackTask.not_before)).where(
            CallbackTask.state == TaskState.OPEN.value, CallbackTask.not_before > now
        )
    )


def store_tasks(count: int, seed: int, settings) -> None:
    """Store `count` orders through intake, then give each intake task its first attempt's time."""
    items = []
    for number in range(count):
        payload = {
            "order_no": f"SLOT-{number:05d}",
            "customer_name": "宏达五金店",
            "customer_phone": f"1380013{number:04d}",
            "address": "城关镇人民路 12 号",
            "customer_type": "small_micro",
            "service_center": "城关供电服务中心",
            "has_engineering": False,
            "status": "accepted",
            "accepted_at": "2026-11-27T09:30:00",
            "due_at": "2026-12-10T17:00:00",
        }
        valid = validate_order(payload, settings.tz, CREATED)
        assert isinstance(valid, ValidOrder), valid
        items.append(valid)
    upsert_orders(db.session, items, now=CREATED, settings=settings, actor=Actor(source="bench"))
    task_ids = db.session.scalars(select(CallbackTask.id).order_by(CallbackTask.id)).all()
    times = first_attempt_times(len(task_ids), seed)
    db.session.execute(
        update(CallbackTask.__table__)
        .where(CallbackTask.__table__.c.id == bindparam("task_id"))
        .values(not_before=bindparam("at"), waiting=True),
        [{"task_id": task_id, "at": at} for task_id, at in zip(task_ids, times, strict=True)],
    )
    db.session.commit()


def describe(name: str, counts: dict[str, float]) -> float:
    rate = counts["contacts"] / counts["attempts"]
    print(
        f"{name:<7} attempts {counts['attempts']:6,}  contacts {counts['contacts']:6,}  "
        f"contact rate per attempt {rate:.3f}  tasks reached {counts['reached'] / counts['tasks']:.1%}"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slot-answer", default=DEFAULT_SLOT_ANSWER)
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    print(f"{args.tasks:,} tasks, seed {args.seed}, customers at the phone: {args.slot_answer}")
    anchor = describe("fixed", run(args.tasks, args.seed, "", args.slot_answer, args.database_url))
    slots = describe("slots", run(args.tasks, args.seed, None, args.slot_answer, args.database_url))
    print(f"contact rate per attempt, slots / fixed delays: {slots / anchor:.2f}")


if __name__ == "__main__":
    main()
