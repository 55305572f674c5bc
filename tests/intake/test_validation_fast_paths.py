"""The import's fast paths for phone numbers and text dates answer exactly as the general ones."""

from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from callback.fields import normalise_phone, parse_datetime

TZ = ZoneInfo("Asia/Shanghai")


def phonenumbers_answer(text: str) -> str | None:
    """Return what phonenumbers itself makes of a mainland number: E.164, or None when it is refused."""
    number = phonenumbers.parse(text, "CN")
    callable_types = {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
    if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in callable_types:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def our_answer(text: str) -> str | None:
    try:
        return normalise_phone(text)
    except ValueError:
        return None


def test_bare_eleven_digit_numbers_get_the_same_answer_as_phonenumbers_for_every_prefix():
    # Both ends of every five-digit prefix: the fast path must neither accept nor refuse differently.
    disagreements = [
        text
        for prefix in range(10_000)
        for text in (f"1{prefix:04d}000000", f"1{prefix:04d}987654")
        if our_answer(text) != phonenumbers_answer(text)
    ]
    assert disagreements == []


def test_common_mobiles_are_normalised_and_lookalikes_refused():
    assert normalise_phone("13800138000") == "+8613800138000"
    assert normalise_phone(" 17400123456 ") == "+8617400123456"
    for refused in ("17406123456", "14012345678", "12345678901"):
        with pytest.raises(ValueError):
            normalise_phone(refused)
    # Written forms other than 11 bare digits still go through phonenumbers.
    assert normalise_phone("+86 138 0013 8000") == "+8613800138000"
    assert normalise_phone("010-62345678") == "+861062345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026/3/1 9:30", datetime(2026, 3, 1, 9, 30)),
        ("2026/03/01 09:30:15", datetime(2026, 3, 1, 9, 30, 15)),
        ("2026/3/1", datetime(2026, 3, 1)),
        ("2026-03-01", datetime(2026, 3, 1)),
        ("2026-3-1 9:30", datetime(2026, 3, 1, 9, 30)),
        ("2026-03-01T09:30:00", datetime(2026, 3, 1, 9, 30)),
        ("2026-03-01T09:30:00+08:00", datetime(2026, 3, 1, 9, 30)),
    ],
)
def test_text_dates_in_the_exports_forms_are_read_as_local_time(text, expected):
    assert parse_datetime(text, TZ) == expected.replace(tzinfo=TZ)


@pytest.mark.parametrize(
    "text", ["2026/2/30 9:30", "2026/3/1 24:00", "2026-3-1", "2026/13/01", "1 March 2026"]
)
def test_impossible_or_unknown_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_datetime(text, TZ)
