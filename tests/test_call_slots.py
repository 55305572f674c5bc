"""Calling slots: CALL_SLOTS parsed, the slot of a moment, where the next attempt goes (issue 13)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

import callback.config_defaults
from callback.call_slots import next_attempt_time, parse_call_slots, slot_of, slots_tried
from callback.workdays import CallingHours, WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
SLOTS = parse_call_slots(callback.config_defaults.CALL_SLOTS)
OFFICE = CallingHours.parse("08:00-20:00")
CALENDAR = WorkCalendar()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def next_time(earliest, tried, *, hours=OFFICE, calendar=CALENDAR, slots=SLOTS):
    moment = next_attempt_time(earliest, tried, slots, tz=TZ, calendar=calendar, calling_hours=hours)
    return moment.astimezone(TZ)


def test_the_default_slots_are_weekday_morning_afternoon_evening_and_weekend():
    assert [(slot.name, slot.days) for slot in SLOTS] == [
        ("weekday_morning", "workday"),
        ("weekday_afternoon", "workday"),
        ("weekday_evening", "workday"),
        ("weekend", "offday"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("morning=workday 08:00-12:00,noon=workday 11:00-14:00", "overlap"),
        ("morning=weekdays 08:00-12:00", "days must be one of"),
        ("morning=workday 8-12", "must look like"),
        ("morning=workday 12:00-08:00", "start before they end"),
        ("morning=workday 08:00-12:00,morning=offday 08:00-12:00", "used twice"),
        ("all=any 08:00-20:00,weekend=offday 09:00-10:00", "overlap"),
    ],
)
def test_a_bad_call_slots_setting_is_refused_with_its_reason(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_call_slots(text)


def test_no_call_slots_means_the_fixed_delay_alone():
    assert parse_call_slots("") == ()
    earliest = local(2026, 11, 30, 9, 0)
    assert next_time(earliest, {"weekday_morning": 1}, slots=()) == earliest


def test_a_moment_belongs_to_the_slot_of_its_local_time_and_kind_of_day():
    assert slot_of(local(2026, 11, 30, 9, 0), SLOTS, TZ, CALENDAR) == "weekday_morning"  # Monday
    assert slot_of(local(2026, 11, 30, 12, 0), SLOTS, TZ, CALENDAR) == "weekday_afternoon"
    assert slot_of(local(2026, 11, 30, 19, 59), SLOTS, TZ, CALENDAR) == "weekday_evening"
    assert slot_of(local(2026, 11, 30, 20, 0), SLOTS, TZ, CALENDAR) is None
    assert slot_of(local(2026, 12, 5, 10, 0), SLOTS, TZ, CALENDAR) == "weekend"  # Saturday
    assert slot_of(local(2026, 10, 1, 10, 0), SLOTS, TZ, CALENDAR) == "weekend"  # National Day, a Thursday
    # A UTC instant is read in local time: 01:00 UTC is 09:00 in Beijing.
    assert slot_of(datetime(2026, 11, 30, 1, 0, tzinfo=UTC), SLOTS, TZ, CALENDAR) == "weekday_morning"


def test_after_a_failed_morning_call_the_next_goes_to_the_afternoon_not_the_same_morning():
    # Monday 09:10 no answer: two hours later is still morning; the afternoon is untried.
    assert next_time(local(2026, 11, 30, 11, 10), {"weekday_morning": 1}) == local(2026, 11, 30, 12, 0)


def test_the_retry_delay_is_never_shortened():
    # The delay ends inside an untried slot: that moment itself, not the slot's start.
    assert next_time(local(2026, 11, 30, 13, 40), {"weekday_morning": 1}) == local(2026, 11, 30, 13, 40)
    # After the afternoon's start the afternoon is not chosen at its start but after the delay.
    earliest = local(2026, 11, 30, 16, 30)
    tried = {"weekday_morning": 1, "weekday_afternoon": 1}
    assert next_time(earliest, tried) == local(2026, 11, 30, 17, 0)  # evening
    assert next_time(local(2026, 11, 30, 17, 30), tried) == local(2026, 11, 30, 17, 30)


def test_untried_slots_come_first_then_the_least_tried():
    weekdays_tried = {"weekday_morning": 1, "weekday_afternoon": 1, "weekday_evening": 1}
    # Monday 10:00: only the weekend is untried, so Saturday 08:00 rather than this morning.
    assert next_time(local(2026, 11, 30, 10, 0), weekdays_tried) == local(2026, 12, 5, 8, 0)
    # Every slot tried once: the earliest moment in any of them (the delay's end, in the morning).
    all_once = {**weekdays_tried, "weekend": 1}
    assert next_time(local(2026, 11, 30, 10, 0), all_once) == local(2026, 11, 30, 10, 0)
    # The afternoon tried least: there, even though the morning is open now.
    fewer = {"weekday_morning": 2, "weekday_afternoon": 1, "weekday_evening": 2, "weekend": 2}
    assert next_time(local(2026, 11, 30, 10, 0), fewer) == local(2026, 11, 30, 12, 0)


def test_slots_are_cut_to_calling_hours():
    tried = {"weekday_morning": 1, "weekday_afternoon": 1}
    # Calls end at 18:00: the evening slot is 17:00-18:00, so 18:30 waits for the next working day's evening.
    short = CallingHours.parse("09:00-18:00")
    assert next_time(local(2026, 11, 30, 16, 0), tried, hours=short) == local(2026, 11, 30, 17, 0)
    assert next_time(local(2026, 11, 30, 18, 30), tried, hours=short) == local(2026, 12, 1, 17, 0)
    # Calls end at 17:00: no evening at all, so the untried weekend is next, from 09:00 when calls start at 9.
    no_evening = CallingHours.parse("09:00-17:00")
    assert next_time(local(2026, 11, 30, 10, 0), tried, hours=no_evening) == local(2026, 12, 5, 9, 0)


def test_holidays_count_as_weekend_and_weekday_slots_skip_them():
    holiday = date(2026, 12, 2)  # a Wednesday made a day off
    calendar = WorkCalendar(extra_holidays=[holiday])
    weekdays_tried = {"weekday_morning": 1, "weekday_afternoon": 1, "weekday_evening": 1}
    # The weekend slot is untried and the holiday is the next day off.
    assert next_time(local(2026, 12, 1, 10, 0), weekdays_tried, calendar=calendar) == local(2026, 12, 2, 8, 0)
    # An evening wanted on Tuesday night: not the holiday's, Thursday's.
    others_tried = {"weekday_morning": 1, "weekday_afternoon": 1, "weekend": 1}
    assert next_time(local(2026, 12, 1, 20, 30), others_tried, calendar=calendar) == local(2026, 12, 3, 17, 0)
    # An adjusted working Saturday (调休) has weekday slots, not the weekend's.
    saturday = date(2026, 12, 5)
    worked = WorkCalendar(extra_workdays=[saturday])
    assert slot_of(local(2026, 12, 5, 18, 0), SLOTS, TZ, worked) == "weekday_evening"
    assert next_time(local(2026, 12, 4, 20, 30), others_tried, calendar=worked) == local(2026, 12, 5, 17, 0)


def test_slots_tried_lists_the_configured_order_and_skips_calls_outside_slots():
    names = ["weekend", None, "weekday_morning", "weekend", "old_slot"]
    assert slots_tried(names, SLOTS) == [("weekday_morning", 1), ("weekend", 2), ("old_slot", 1)]
