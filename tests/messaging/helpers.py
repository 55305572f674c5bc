"""Tasks whose last failed contact made them unreachable, recorded through the worklist as operators do."""

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from callback.extensions import db
from callback.models import CallAttempt, CallbackTask, SmsFollowup, TaskKind
from callback.settings import Settings
from callback.worklist import claim_next, record_attempt
from tests import factories
from tests.conftest import TEST_NOW

START = TEST_NOW - timedelta(hours=20)


def store_order(settings: Settings, order_no: str, **changes: object) -> int:
    """Store an accepted order; return its intake task's id (an operator's task)."""
    order = factories.store_order(order_no, now=START, settings=settings, **changes)
    return db.session.scalars(
        select(CallbackTask.id).where(
            CallbackTask.order_id == order.id, CallbackTask.kind == TaskKind.INTAKE.value
        )
    ).one()


def call(settings: Settings, operator_id: int, disposition: str, now: datetime, **extra: object):
    """Claim the next task as the operator and record one call."""
    task = claim_next(db.session, operator_id, now=now, settings=settings)
    assert task is not None
    outcome = record_attempt(
        db.session,
        task.id,
        operator_id,
        disposition=disposition,
        answers=extra.get("answers"),
        callback_at=None,
        note=None,
        now=now,
        settings=settings,
    )
    db.session.commit()
    return outcome


def make_unreachable(settings: Settings, operator_id: int, order_no: str, **changes: object) -> int:
    """Store an order and fail its callback MAX_ATTEMPTS times (no answer); return the task id.

    The calls come every 4 hours, so the retries wait the fixed delays (no CALL_SLOTS rotation, which would
    push the next call to the next slot: tests/test_retry_slots.py).
    """
    settings = replace(settings, call_slots=())
    task_id = store_order(settings, order_no, **changes)
    moment = START
    for _ in range(settings.max_attempts):
        call(settings, operator_id, "no_answer", moment)
        moment += timedelta(hours=4)
    task = db.session.get(CallbackTask, task_id)
    assert task is not None and task.state == "unreachable"
    return task_id


def followup_of(task_id: int) -> SmsFollowup | None:
    db.session.expire_all()
    return db.session.scalar(select(SmsFollowup).where(SmsFollowup.task_id == task_id))


def sms_attempts(task_id: int) -> list[CallAttempt]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CallAttempt).where(CallAttempt.task_id == task_id, CallAttempt.channel == "sms")
        )
    )
