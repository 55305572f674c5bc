"""Retries rotate through the calling slots (CALL_SLOTS), for operators and the dialer alike (issue 13)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callback.extensions import db
from callback.models import CallAttempt, Disposition
from callback.settings import ConfigError, load_settings
from callback.worklist import claim_next, finish_automated_attempt, start_automated_attempt
from tests.factories import store_order
from tests.test_worklist import call

MONDAY_0900 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
MONDAY_NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
MONDAY_1700 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_a_failed_morning_call_is_retried_in_the_afternoon_then_the_evening(app, settings, make_user):
    store_order(now=MONDAY_0900 - timedelta(minutes=5), settings=settings)
    user = make_user()
    task = claim_next(db.session, user.id, now=MONDAY_0900, settings=settings)

    first = call(task, user, settings, "no_answer", MONDAY_0900)  # 11:00 would still be the morning

    assert first.attempt.slot == "weekday_morning"
    assert first.task.not_before == MONDAY_NOON and first.task.waiting
    assert claim_next(db.session, user.id, now=MONDAY_NOON - timedelta(minutes=1), settings=settings) is None
    task = claim_next(db.session, user.id, now=MONDAY_NOON, settings=settings)
    second = call(task, user, settings, "busy", MONDAY_NOON)
    assert second.attempt.slot == "weekday_afternoon"
    assert second.task.not_before == MONDAY_1700


def test_without_call_slots_the_fixed_delay_stays(app, settings, make_user):
    fixed = replace(settings, call_slots=())
    store_order(now=MONDAY_0900, settings=fixed)
    user = make_user()
    task = claim_next(db.session, user.id, now=MONDAY_0900, settings=fixed)
    outcome = call(task, user, fixed, "no_answer", MONDAY_0900)
    assert outcome.task.not_before == MONDAY_0900 + timedelta(hours=2)
    assert outcome.attempt.slot is None


def test_an_appointment_keeps_its_time_even_in_a_slot_already_tried(app, settings, make_user):
    store_order(now=MONDAY_0900, settings=settings)
    user = make_user()
    task = claim_next(db.session, user.id, now=MONDAY_0900, settings=settings)
    appointed = MONDAY_0900 + timedelta(minutes=40)  # still the morning
    outcome = call(task, user, settings, "callback_requested", MONDAY_0900, callback_at=appointed.isoformat())
    assert outcome.task.not_before == appointed


def test_the_dialers_failed_call_is_retried_in_an_untried_slot_too(app, settings):
    automated = replace(settings, auto_kinds=frozenset({"intake"}))
    store_order(now=MONDAY_0900, settings=automated)
    attempt = start_automated_attempt(db.session, now=MONDAY_0900, settings=automated)
    assert attempt is not None and attempt.slot == "weekday_morning"

    outcome = finish_automated_attempt(
        db.session, attempt, Disposition.NO_ANSWER, now=MONDAY_0900 + timedelta(minutes=1), settings=automated
    )
    db.session.commit()

    assert outcome.task.not_before == MONDAY_NOON and outcome.task.state == "open"
    assert db.session.scalar(select(CallAttempt.slot)) == "weekday_morning"


def base_config(**changes):
    from callback import config_defaults as config

    values = {name: getattr(config, name) for name in dir(config) if name.isupper()}
    values.update(TWILIO_ACCOUNT_SID=None, **changes)
    return values


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"CALL_SLOTS": "morning=workday 08:00-12:00,noon=workday 11:00-13:00"}, "CALL_SLOTS: slots"),
        ({"CALL_SLOTS": "morning=weekday 08:00-12:00"}, "CALL_SLOTS: slot 'morning=weekday"),
        ({"SIMULATION_SLOT_ANSWER": "night=50"}, "SIMULATION_SLOT_ANSWER must give"),
        ({"SIMULATION_SLOT_ANSWER": "weekend=150"}, "SIMULATION_SLOT_ANSWER must give"),
    ],
)
def test_bad_slot_settings_stop_the_app_with_a_clear_message(changes, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(base_config(**changes))


def test_the_default_and_empty_slot_settings_load():
    assert [slot.name for slot in load_settings(base_config()).call_slots][-1] == "weekend"
    assert load_settings(base_config(CALL_SLOTS="")).call_slots == ()
    shares = load_settings(base_config(SIMULATION_SLOT_ANSWER="weekday_evening=85")).simulation_slot_answer
    assert shares == (("weekday_evening", 85),)
