"""An appointment comes back first to its booking operator (APPOINTMENT_OWNER_MINUTES), then to anyone."""

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest

from callback.extensions import db
from callback.models import CallbackTask, TaskState, User
from callback.settings import ConfigError, Settings, load_settings
from callback.worklist import WorklistError, claim_next, claim_task, record_attempt
from tests.conftest import TEST_NOW
from tests.factories import newest_task, store_order

APPOINTED = TEST_NOW + timedelta(hours=2)


def book_appointment(settings: Settings, operator: User) -> CallbackTask:
    """The operator takes the next callback and the customer asks to be called back at APPOINTED."""
    task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
    assert task is not None
    record_attempt(
        db.session,
        task.id,
        operator.id,
        disposition="callback_requested",
        answers=None,
        callback_at=APPOINTED.isoformat(),
        note="客户在开会，下午再打",
        now=TEST_NOW,
        settings=settings,
    )
    db.session.commit()
    return task


@pytest.fixture
def operators(make_user: Callable[..., User]) -> tuple[User, User]:
    return make_user("chen", "operator"), make_user("zhao", "operator")


def test_the_booking_operator_is_recorded_on_the_task(app, settings, operators):
    chen, _zhao = operators
    store_order("GD-APPT-1")
    task = book_appointment(settings, chen)
    db.session.refresh(task)
    assert task.state == TaskState.OPEN and task.not_before == APPOINTED
    assert task.appointment_owner_id == chen.id


def test_within_the_window_only_the_booking_operator_gets_the_appointment(app, settings, operators):
    chen, zhao = operators
    store_order("GD-APPT-1")
    task = book_appointment(settings, chen)
    moment = APPOINTED + timedelta(minutes=settings.appointment_owner_minutes - 1)
    assert claim_next(db.session, zhao.id, now=moment, settings=settings) is None
    with pytest.raises(WorklistError) as refused:
        claim_task(db.session, task.id, zhao.id, now=moment, settings=settings)
    assert refused.value.status == 409
    mine = claim_next(db.session, chen.id, now=moment, settings=settings)
    assert mine is not None and mine.id == task.id


def test_the_booking_operator_gets_their_appointment_before_more_urgent_work(app, settings, operators):
    chen, zhao = operators
    store_order("GD-APPT-1")
    task = book_appointment(settings, chen)
    # A second order whose callback is due much sooner than the appointment's.
    urgent = newest_task(store_order("GD-URGENT"))
    urgent.due_by = task.due_by - timedelta(days=1)
    db.session.commit()
    first = claim_next(db.session, chen.id, now=APPOINTED, settings=settings)
    assert first is not None and first.id == task.id
    other = claim_next(db.session, zhao.id, now=APPOINTED, settings=settings)
    assert other is not None and other.id == urgent.id


def test_after_the_window_anyone_gets_the_appointment(app, settings, operators):
    chen, zhao = operators
    store_order("GD-APPT-1")
    task = book_appointment(settings, chen)
    moment = APPOINTED + timedelta(minutes=settings.appointment_owner_minutes)
    taken = claim_next(db.session, zhao.id, now=moment, settings=settings)
    assert taken is not None and taken.id == task.id


def test_the_window_is_configurable_and_zero_means_anyone_at_once(app, settings, operators):
    chen, zhao = operators
    store_order("GD-APPT-1")
    task = book_appointment(settings, chen)
    at_once = dataclasses.replace(settings, appointment_owner_minutes=0)
    taken = claim_next(db.session, zhao.id, now=APPOINTED, settings=at_once)
    assert taken is not None and taken.id == task.id


def test_the_dialer_leaves_a_held_appointment_alone(app, settings, operators):
    chen, _zhao = operators
    store_order("GD-APPT-1")
    book_appointment(settings, chen)
    assert claim_next(db.session, None, now=APPOINTED, settings=settings) is None


def test_another_outcome_ends_the_reservation(app, settings, operators):
    chen, zhao = operators
    store_order("GD-APPT-1")
    task = book_appointment(settings, chen)
    again = claim_next(db.session, chen.id, now=APPOINTED, settings=settings)
    assert again is not None
    record_attempt(
        db.session,
        task.id,
        chen.id,
        disposition="no_answer",
        answers=None,
        callback_at=None,
        note=None,
        now=APPOINTED,
        settings=settings,
    )
    db.session.commit()
    db.session.refresh(task)
    assert task.appointment_owner_id is None
    retry = task.not_before
    taken = claim_next(db.session, zhao.id, now=retry, settings=settings)
    assert taken is not None and taken.id == task.id


def test_appointment_owner_minutes_is_checked_at_start(app):
    config = dict(app.config, APPOINTMENT_OWNER_MINUTES="half an hour")
    with pytest.raises(ConfigError, match="APPOINTMENT_OWNER_MINUTES"):
        load_settings(config)
    assert load_settings(dict(app.config)).appointment_owner_minutes == 30
