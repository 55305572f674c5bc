"""Validate one work order from the marketing system: the API and the file import share this."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from callback.models import STAGE_SEQUENCE, STAGE_TIME_FIELDS, CustomerType, Ledger, OrderStatus
from callback.text import has_control_characters

ORDER_NO_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
TEXT_LIMITS = {"customer_name": 100, "address": 200, "service_center": 50, "account_manager": 50}
DATETIME_FIELDS = ("accepted_at", "due_at", *(f"{s.value}_at" for s in STAGE_SEQUENCE[1:]), "cancelled_at")
# Text forms seen in the utility's exports besides ISO 8601 (contract 5).
TEXT_DATETIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
)
# The source's version may run ahead of our clock by this much (clock skew), no more: a version far in
# the future would make every later, real update `stale` and freeze the order.
UPDATED_AT_MAX_AHEAD = timedelta(minutes=10)
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
    field: str
    message: str | LazyString

    def as_dict(self) -> dict[str, str]:
        """Render the error for JSON or CSV, in the current language."""
        return {"field": self.field, "message": str(self.message)}


@dataclass(frozen=True)
class ValidOrder:
    """An order that passed validation: the intake fields, normalised, and the source's version."""

    values: dict[str, Any]
    updated_at: datetime
    # Whether the source said anything about the ledger: supervisors also set it by hand, and a source
    # that does not keep ledgers (no `ledger` field at all) must not wipe theirs.
    ledger_given: bool = True

    @property
    def order_no(self) -> str:
        order_no: str = self.values["order_no"]
        return order_no


class _Invalid(ValueError):
    def __init__(self, message: str | LazyString) -> None:
        self.message = message


def _text(value: Any, limit: int | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(_l("must be text"))
    text = value.strip()
    if not text:
        return None
    if limit is not None and len(text) > limit:
        raise _Invalid(_l("must be at most %(limit)d characters", limit=limit))
    if has_control_characters(text):
        raise _Invalid(_l("must not contain control characters"))
    return text


def _choice(value: Any, choices: type[CustomerType] | type[Ledger] | type[OrderStatus]) -> str | None:
    text = _text(value, None)
    if text is None:
        return None
    allowed = _values_of(choices)
    if text not in allowed:
        raise _Invalid(_l("must be one of %(choices)s", choices=", ".join(allowed)))
    return text


@cache
def _values_of(choices: type[CustomerType] | type[Ledger] | type[OrderStatus]) -> tuple[str, ...]:
    return tuple(choice.value for choice in choices)


def _boolean(value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _Invalid(_l("must be true or false"))
    return value


def normalise_phone(value: Any) -> str | None:
    """Return a mainland mobile or landline (with area code) in E.164, or raise _Invalid."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _text(value, 40)
    if text is None:
        return None
    if BARE_MOBILE.fullmatch(text):
        # phonenumbers decides a mainland mobile's validity by its leading digits: ask once per prefix.
        if _mobile_prefix_is_valid(text[:MOBILE_PREFIX_DIGITS]):
            return "+86" + text
        raise _Invalid(
            _l("must be a mainland mobile number (11 digits starting with 1) or a landline with area code")
        )
    return _normalise_with_phonenumbers(text)


@lru_cache(maxsize=16384)
def _mobile_prefix_is_valid(prefix: str) -> bool:
    """Return whether phonenumbers takes 11-digit numbers with this prefix for callable mainland numbers."""
    try:
        _normalise_with_phonenumbers(prefix.ljust(11, "0"))
    except _Invalid:
        return False
    return True


def _normalise_with_phonenumbers(text: str) -> str:
    """Parse any written form of a mainland number with phonenumbers; return E.164 or raise _Invalid."""
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
        raise _Invalid(
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
        raise _Invalid(_l("must be a date and time such as 2026-03-01T09:30:00+08:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _parse_datetime_text(text: str) -> datetime:
    for shape in TEXT_DATETIME_SHAPES:
        match = shape.fullmatch(text)
        if match is not None:
            year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
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
    raise _Invalid(_l("must be a date and time such as 2026-03-01T09:30:00+08:00"))


def validate_order(
    raw: Mapping[str, Any], tz: ZoneInfo, received_at: datetime
) -> ValidOrder | list[FieldError]:
    """Check one order; return it normalised, or every problem with the field it concerns."""
    if not isinstance(raw, Mapping):
        return [FieldError("", _l("each order must be a JSON object"))]
    errors: list[FieldError] = []
    values: dict[str, Any] = {}

    def field(name: str, convert: Any, *args: Any, required: bool = False) -> Any:
        try:
            value = convert(raw.get(name), *args)
        except _Invalid as invalid:
            errors.append(FieldError(name, invalid.message))
            return None
        if value is None and required:
            errors.append(FieldError(name, _l("is required")))
        return value

    order_no = field("order_no", _text, None, required=True)
    if order_no is not None and not ORDER_NO_PATTERN.fullmatch(order_no):
        errors.append(FieldError("order_no", _l("must be 1 to 32 letters, digits, '-' or '_'")))
    values["order_no"] = order_no
    values["customer_name"] = field("customer_name", _text, TEXT_LIMITS["customer_name"], required=True)
    values["customer_phone"] = field("customer_phone", normalise_phone, required=True)
    values["address"] = field("address", _text, TEXT_LIMITS["address"])
    values["customer_type"] = field("customer_type", _choice, CustomerType) or CustomerType.SMALL_MICRO.value
    values["service_center"] = field("service_center", _text, TEXT_LIMITS["service_center"], required=True)
    values["account_manager"] = field("account_manager", _text, TEXT_LIMITS["account_manager"])
    values["has_engineering"] = field("has_engineering", _boolean, required=True)
    values["ledger"] = field("ledger", _choice, Ledger)
    values["status"] = field("status", _choice, OrderStatus, required=True)
    for name in DATETIME_FIELDS:
        values[name] = field(name, parse_datetime, tz, required=name in ("accepted_at", "due_at"))
    updated_at = field("updated_at", parse_datetime, tz) or received_at
    if updated_at > received_at + UPDATED_AT_MAX_AHEAD:
        errors.append(
            FieldError(
                "updated_at",
                _l(
                    "must not be more than %(minutes)d minutes after the time it arrives",
                    minutes=UPDATED_AT_MAX_AHEAD.seconds // 60,
                ),
            )
        )

    if not errors:
        errors.extend(_check_timeline(values))
    if errors:
        return errors
    return ValidOrder(values=values, updated_at=updated_at, ledger_given="ledger" in raw)


def _check_timeline(values: dict[str, Any]) -> list[FieldError]:
    """Check the stage times against the status: present where due, absent where not, never decreasing."""
    errors: list[FieldError] = []
    status = OrderStatus(values["status"])
    current_field = STAGE_TIME_FIELDS[status]
    if values[current_field] is None:
        errors.append(
            FieldError(current_field, _l("is required when status is %(status)s", status=status.value))
        )
    if status is not OrderStatus.CANCELLED:
        reached = STAGE_SEQUENCE.index(status)
        for later in (*STAGE_SEQUENCE[reached + 1 :], OrderStatus.CANCELLED):
            name = STAGE_TIME_FIELDS[later]
            if values[name] is not None:
                errors.append(
                    FieldError(name, _l("must be empty while status is %(status)s", status=status.value))
                )
    if values["due_at"] < values["accepted_at"]:
        errors.append(FieldError("due_at", _l("must not be before accepted_at")))
    previous_name = None
    for stage in STAGE_SEQUENCE:
        name = STAGE_TIME_FIELDS[stage]
        if values[name] is None:
            continue
        if previous_name is not None and values[name] < values[previous_name]:
            errors.append(FieldError(name, _l("must not be before %(field)s", field=previous_name)))
        previous_name = name
    cancelled_at = values["cancelled_at"]
    if cancelled_at is not None and previous_name is not None and cancelled_at < values[previous_name]:
        errors.append(FieldError("cancelled_at", _l("must not be before %(field)s", field=previous_name)))
    return errors
