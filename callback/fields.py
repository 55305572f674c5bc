"""Single input values that every intake shares (API, file import, questionnaire, do-not-call list).

The field error they report, text, mainland phone numbers and datetimes: neutral ground that no service owns,
so the survey, the worklist and the do-not-call list need not import intake (issue 15).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from callback.text import has_control_characters

# Text forms seen in the utility's exports besides ISO 8601 (contract 5).
TEXT_DATETIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
)
# The common case of an export: a mainland mobile as 11 bare digits, and a text date with `-` or `/`.
BARE_MOBILE = re.compile(r"1[0-9]{10}")
# phonenumbers' metadata for China decides an 11-digit number starting with 1 by its first five digits at
# most (tests/intake/test_validation_fast_paths.py checks every such prefix against phonenumbers itself).
MOBILE_PREFIX_DIGITS = 5
# Exactly the forms TEXT_DATETIME_FORMATS and fromisoformat accept for these shapes (strptime takes one or two
# digits for every field but the year), read by one match instead of trying each format in turn.
TEXT_DATETIME_SHAPES = (
    re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})(?: ([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?)?"),
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?"),
    re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})()()()"),
)
PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)


@dataclass(frozen=True)
class FieldError:
    """One field's problem, as the API, the import's error file and the forms report it."""

    field: str
    message: str | LazyString

    def as_dict(self) -> dict[str, str]:
        """Render the error for JSON or CSV, in the current language."""
        return {"field": self.field, "message": str(self.message)}


class InvalidValue(ValueError):
    """A value that cannot be read; its message says what it must be."""

    def __init__(self, message: str | LazyString) -> None:
        self.message = message


def clean_text(value: Any, limit: int | None) -> str | None:
    """Return stripped text (None when empty); raise InvalidValue for non-text, overlong or control text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(_l("must be text"))
    text = value.strip()
    if not text:
        return None
    if limit is not None and len(text) > limit:
        raise InvalidValue(_l("must be at most %(limit)d characters", limit=limit))
    if has_control_characters(text):
        raise InvalidValue(_l("must not contain control characters"))
    return text


def normalise_phone(value: Any) -> str | None:
    """Return a mainland mobile or landline (with area code) in E.164, or raise InvalidValue."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = clean_text(value, 40)
    if text is None:
        return None
    if BARE_MOBILE.fullmatch(text):
        # phonenumbers decides a mainland mobile's validity by its leading digits: ask once per prefix.
        if _mobile_prefix_is_valid(text[:MOBILE_PREFIX_DIGITS]):
            return "+86" + text
        raise InvalidValue(
            _l("must be a mainland mobile number (11 digits starting with 1) or a landline with area code")
        )
    return _normalise_with_phonenumbers(text)


@lru_cache(maxsize=16384)
def _mobile_prefix_is_valid(prefix: str) -> bool:
    """Return whether phonenumbers takes 11-digit numbers with this prefix for callable mainland numbers."""
    try:
        _normalise_with_phonenumbers(prefix.ljust(11, "0"))
    except InvalidValue:
        return False
    return True


def _normalise_with_phonenumbers(text: str) -> str:
    """Parse any written form of a mainland number with phonenumbers; return E.164 or raise InvalidValue."""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in PHONE_TYPES
    ):
        raise InvalidValue(
            _l("must be a mainland mobile number (11 digits starting with 1) or a landline with area code")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_datetime(value: Any, tz: ZoneInfo) -> datetime | None:
    """Return an aware datetime; naive input is local time in `tz`."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        parsed = _parse_datetime_text(text)
    else:
        raise InvalidValue(_l("must be a date and time such as 2026-03-01T09:30:00+08:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _parse_datetime_text(text: str) -> datetime:
    for shape in TEXT_DATETIME_SHAPES:
        match = shape.fullmatch(text)
        if match is not None:
            year, month, day, hour, minute, second = [int(part) if part else 0 for part in match.groups()]
            try:
                return datetime(year, month, day, hour, minute, second)
            except ValueError:
                break  # no such day or hour: the general path below words the error
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    for form in TEXT_DATETIME_FORMATS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    raise InvalidValue(_l("must be a date and time such as 2026-03-01T09:30:00+08:00"))
