"""The worklist: claims, leases, releases and the retry policy (contract 4.2)."""

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from callback.audit import Actor
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from callback.models import Answer, CallAttempt, CallbackTask, Disposition, TaskChannel
from callback.worklist import (
    WorklistError,
    claim,
    claim_next,
    finish_automated_attempt,
    record_attempt,
    release,
    start_automated_attempt,
)
from callback.worklist.attempts import add_answer, note_stated_application
from tests.factories import order_payload, store_orders

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 11:00 in Beijing


def store_numbered_orders(count, now=NOW):
    store_orders(*(order_payload(f"W-{i:04d}") for i in range(count)), now=now)


def call(task, user, settings, disposition, now, **kwargs):
    outcome = record_attempt(
        db.session,
        task.id,
        user.id,
        disposition=disposition,
        answers=kwargs.get("answers"),
        callback_at=kwargs.get("callback_at"),
        note=None,
        now=now,
        settings=settings,
    )
    db.session.commit()
    return outcome


def test_claim_gives_the_earliest_due_task_first_then_the_oldest(app, settings, make_user):
    store_numbered_orders(2)
    early = validate_order(order_payload("EARLY"), settings.tz, NOW - timedelta(days=3))
    upsert_orders(
        db.session, [early], now=NOW - timedelta(days=3), settings=settings, actor=Actor(source="t")
    )
    db.session.commit()
    first = claim_next(db.session, make_user().id, now=NOW, settings=settings)
    second = claim_next(db.session, make_user("bob").id, now=NOW, settings=settings)
    assert first.order.order_no == "EARLY"
    assert second.order.order_no == "W-0000"
    assert first.lease_expires_at == NOW + timedelta(minutes=settings.lease_minutes)


def test_nothing_is_claimed_outside_calling_hours(app, settings, make_user):
    store_numbered_orders(1)
    office_hours = replace(settings, calling_hours=type(settings.calling_hours).parse("08:00-20:00"))
    evening = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # 20:30 in Beijing
    assert claim_next(db.session, make_user().id, now=evening, settings=office_hours) is None
    assert claim_next(db.session, make_user("b").id, now=NOW, settings=office_hours) is not None


def test_release_hands_the_task_back_and_only_the_holder_may(app, settings, make_user):
    store_numbered_orders(1)
    holder, other = make_user("holder"), make_user("other")
    task = claim_next(db.session, holder.id, now=NOW, settings=settings)
    with pytest.raises(WorklistError) as refused:
        release(db.session, task.id, other.id, now=NOW)
    assert refused.value.status == 409
    release(db.session, task.id, holder.id, now=NOW)
    db.session.commit()
    assert claim_next(db.session, other.id, now=NOW, settings=settings).id == task.id


def test_an_expired_lease_cannot_record_an_attempt(app, settings, make_user):
    store_numbered_orders(1)
    user = make_user()
    task = claim_next(db.session, user.id, now=NOW, settings=settings)
    late = NOW + timedelta(minutes=settings.lease_minutes + 1)
    with pytest.raises(WorklistError) as refused:
        call(task, user, settings, "no_answer", late)
    assert (refused.value.status, refused.value.code) == (409, "lease_expired")


def test_failed_contacts_retry_after_their_delay_then_become_unreachable(app, settings, make_user):
    """Without CALL_SLOTS the fixed delays alone decide (tests/test_call_slots.py has the rotation)."""
    settings = replace(settings, call_slots=())
    store_numbered_orders(1)
    user = make_user()
    now = NOW
    for number, disposition in enumerate(["busy", "no_answer", "voicemail"], start=1):
        task = claim_next(db.session, user.id, now=now, settings=settings)
        assert task is not None, f"attempt {number} found nothing to claim"
        outcome = call(task, user, settings, disposition, now)
        if number < settings.max_attempts:
            assert outcome.task.state == "open"
            assert outcome.task.not_before == now + settings.retry_delays[disposition]
            assert claim_next(db.session, user.id, now=now, settings=settings) is None
            now = outcome.task.not_before
    assert outcome.task.state == "unreachable"
    assert outcome.task.attempt_count == 3
    assert outcome.attempt.aapor_code == "3.14"


def test_a_waiting_retry_lets_later_tasks_be_claimed_and_comes_first_once_its_time_has_come(
    app, settings, make_user
):
    store_numbered_orders(3)
    first_operator, second_operator, third_operator = (make_user(f"op-{n}") for n in range(3))
    task = claim_next(db.session, first_operator.id, now=NOW, settings=settings)
    retry = call(task, first_operator, settings, "no_answer", NOW).task
    meanwhile = claim_next(db.session, second_operator.id, now=NOW, settings=settings)
    db.session.commit()
    assert meanwhile is not None and meanwhile.id != retry.id
    just_before = claim_next(
        db.session, third_operator.id, now=retry.not_before - timedelta(seconds=1), settings=settings
    )
    db.session.commit()
    assert just_before is not None and just_before.id not in (retry.id, meanwhile.id)
    release(db.session, just_before.id, third_operator.id, now=retry.not_before)
    db.session.commit()
    again = claim_next(db.session, third_operator.id, now=retry.not_before, settings=settings)
    assert again.id == retry.id  # same due_by as the others, and the oldest


def test_callback_requested_reopens_at_the_appointment_without_counting_as_failed(app, settings, make_user):
    store_numbered_orders(1)
    user = make_user()
    task = claim_next(db.session, user.id, now=NOW, settings=settings)
    outcome = call(task, user, settings, "callback_requested", NOW, callback_at="2026-11-24T15:00:00")
    assert outcome.task.state == "open"
    assert outcome.task.failed_attempts == 0
    assert outcome.task.not_before.astimezone(settings.tz).isoformat() == "2026-11-24T15:00:00+08:00"


@pytest.mark.parametrize(
    ("disposition", "state"),
    [("refused", "done"), ("wrong_number", "unreachable"), ("invalid_number", "unreachable")],
)
def test_final_dispositions(app, settings, make_user, disposition, state):
    store_numbered_orders(1)
    user = make_user()
    task = claim_next(db.session, user.id, now=NOW, settings=settings)
    assert call(task, user, settings, disposition, NOW).task.state == state


def test_concurrent_claimers_never_share_a_task_and_lose_none(app, settings, make_user):
    store_numbered_orders(60)
    users = [make_user(f"op{i}") for i in range(8)]
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(user_id: int) -> None:
        try:
            with app.app_context():
                while True:
                    taken = claim(db.session, user_id, now=NOW, settings=settings)
                    db.session.commit()
                    if taken.task is None:
                        return
                    assert not taken.already_held
                    with lock:
                        claimed.append(taken.task.id)
                    # One claim at a time: the call is recorded before the next claim.
                    record_attempt(
                        db.session,
                        taken.task.id,
                        user_id,
                        disposition="refused",
                        answers=None,
                        callback_at=None,
                        note=None,
                        now=NOW,
                        settings=settings,
                    )
                    db.session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(user.id,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    all_tasks = db.session.scalars(select(CallbackTask.id)).all()
    assert len(claimed) == len(set(claimed)), "a task was handed out twice"
    assert sorted(claimed) == sorted(all_tasks), "a workable task was never handed out"
    assert set(db.session.scalars(select(CallbackTask.state))) == {"done"}


def test_a_person_holds_one_claim_and_claiming_again_returns_it(app, settings, make_user):
    store_numbered_orders(3)
    user = make_user()
    first = claim(db.session, user.id, now=NOW, settings=settings)
    again = claim(db.session, user.id, now=NOW + timedelta(minutes=1), settings=settings, kind="due_date")
    assert not first.already_held
    assert again.already_held and again.task.id == first.task.id
    assert db.session.scalar(select(func.count()).where(CallbackTask.state == "claimed")) == 1
    # Once the lease ran out, the person may claim afresh.
    later = NOW + timedelta(minutes=settings.lease_minutes, seconds=1)
    assert not claim(db.session, user.id, now=later, settings=settings).already_held


def test_claims_held_by_no_person_are_not_limited(app, settings):
    """The dialer claims with no person: one dialer works many calls at once."""
    store_numbered_orders(2)
    channel = TaskChannel.OPERATOR
    first = claim_next(db.session, None, now=NOW, settings=settings, channel=channel)
    second = claim_next(db.session, None, now=NOW, settings=settings, channel=channel)
    assert first is not None and second is not None and first.id != second.id


def test_concurrent_claims_of_one_person_give_one_claim(app, settings, make_user):
    store_numbered_orders(20)
    user_id = make_user().id
    got: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def work() -> None:
        try:
            with app.app_context():
                start.wait()
                taken = claim(db.session, user_id, now=NOW, settings=settings)
                db.session.commit()
                with lock:
                    got.append((taken.task.id, taken.already_held))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len({task_id for task_id, _held in got}) == 1, got
    assert [held for _id, held in got].count(False) == 1
    assert db.session.scalar(select(func.count()).where(CallbackTask.state == "claimed")) == 1


def test_an_order_cancelled_during_an_automated_call_is_not_called_again(app, settings):
    connected = order_payload("AUTO-1", status="connected", connected_at="2026-11-23T10:00:00")
    actor = Actor(source="test")
    upsert_orders(
        db.session, [validate_order(connected, settings.tz, NOW)], now=NOW, settings=settings, actor=actor
    )
    db.session.commit()
    attempt = start_automated_attempt(db.session, now=NOW, settings=settings)
    db.session.commit()
    assert attempt.task.state == "dialing"
    cancelled = {
        **connected,
        "status": "cancelled",
        "cancelled_at": "2026-11-23T11:05:00",
        "updated_at": "2026-11-23T11:05:00",
    }
    upsert_orders(
        db.session, [validate_order(cancelled, settings.tz, NOW)], now=NOW, settings=settings, actor=actor
    )
    db.session.commit()
    outcome = finish_automated_attempt(db.session, attempt, Disposition.NO_ANSWER, now=NOW, settings=settings)
    db.session.commit()
    assert outcome.task.state == "cancelled"


def test_the_date_a_customer_states_they_applied_is_kept_on_the_order(app, settings, make_user):
    store_numbered_orders(1)
    user = make_user()
    task = claim_next(db.session, user.id, now=NOW, settings=settings)
    answers = {"progress": "none", "satisfaction": 4, "applied_on": "2026-11-13"}
    call(task, user, settings, "completed", NOW, answers=answers)
    assert task.order.stated_applied_on == date(2026, 11, 13)


def test_the_latest_call_that_gives_a_date_wins(app, settings):
    store_numbered_orders(1)
    task = db.session.scalars(select(CallbackTask)).first()
    stated = [
        (NOW - timedelta(days=3), "2026-11-01"),
        (NOW - timedelta(days=1), "2026-11-07"),
        (NOW - timedelta(days=2), "2026-11-05"),  # stored last, but said in an earlier call than the 7th
    ]
    kept = []
    for started, value in stated:
        attempt = CallAttempt(task_id=task.id, channel="operator", disposition="refused", started_at=started)
        db.session.add(attempt)
        db.session.flush()
        add_answer(db.session, attempt, "applied_on", value, now=NOW)
        db.session.refresh(task.order)
        kept.append(task.order.stated_applied_on)
    assert kept == [date(2026, 11, 1), date(2026, 11, 7), date(2026, 11, 7)]


def test_answers_stored_past_the_worklist_give_the_latest_real_date(app, settings):
    store_numbered_orders(1)
    task = db.session.scalars(select(CallbackTask)).first()
    stated = [
        (NOW - timedelta(days=3), "2026-11-01"),
        (NOW - timedelta(days=2), "2026-11-05T10:00:00"),
        (NOW - timedelta(days=1), "不记得了"),  # no date: passed over
        (NOW - timedelta(hours=1), "2026-02-30"),  # no real date
    ]
    for started, value in stated:
        attempt = CallAttempt(task_id=task.id, channel="operator", disposition="refused", started_at=started)
        db.session.add(attempt)
        db.session.flush()
        db.session.add(Answer(attempt_id=attempt.id, question="applied_on", value=value, answered_at=NOW))
    db.session.flush()
    note_stated_application(db.session, task.id)
    db.session.refresh(task.order)
    assert task.order.stated_applied_on == date(2026, 11, 5)
