"""Validate one work order from the marketing system: the API and the file import share this."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from callback.fields import FieldError, InvalidValue, clean_text, normalise_phone, parse_datetime
from callback.models import STAGE_SEQUENCE, STAGE_TIME_FIELDS, CustomerType, Ledger, OrderStatus

ORDER_NO_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
TEXT_LIMITS = {"customer_name": 100, "address": 200, "service_center": 50, "account_manager": 50}
DATETIME_FIELDS = ("accepted_at", "due_at", *(f"{s.value}_at" for s in STAGE_SEQUENCE[1:]), "cancelled_at")
# The source's version may run ahead of our clock by this much (clock skew), no more: a version far in
# the future would make every later, real update `stale` and freeze the order.
UPDATED_AT_MAX_AHEAD = timedelta(minutes=10)


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


def _choice(value: Any, choices: type[CustomerType] | type[Ledger] | type[OrderStatus]) -> str | None:
    text = clean_text(value, None)
    if text is None:
        return None
    allowed = _values_of(choices)
    if text not in allowed:
        raise InvalidValue(_l("must be one of %(choices)s", choices=", ".join(allowed)))
    return text


@cache
def _values_of(choices: type[CustomerType] | type[Ledger] | type[OrderStatus]) -> tuple[str, ...]:
    return tuple(choice.value for choice in choices)


def _boolean(value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidValue(_l("must be true or false"))
    return value


def validate_order(
    raw: Mapping[str, Any], tz: ZoneInfo, received_at: datetime
) -> ValidOrder | list[FieldError]:
    """Check one order; return it normalised, or every problem with the field it concerns."""
    if not isinstance(raw, Mapping):
        return [FieldError("", _l("each order must be a JSON object"))]
    errors: list[FieldError] = []
    values: dict[str, Any] = {}

    def field(name: str, convert: Any, *args: Any, required: bool = False) -> Any:
        value = raw.get(name)
        if value is None:  # every converter reads None as None: skip the call (half an export's cells)
            if required:
                errors.append(FieldError(name, _l("is required")))
            return None
        try:
            value = convert(value, *args)
        except InvalidValue as invalid:
            errors.append(FieldError(name, invalid.message))
            return None
        if value is None and required:
            errors.append(FieldError(name, _l("is required")))
        return value

    order_no = field("order_no", clean_text, None, required=True)
    if order_no is not None and not ORDER_NO_PATTERN.fullmatch(order_no):
        errors.append(FieldError("order_no", _l("must be 1 to 32 letters, digits, '-' or '_'")))
    values["order_no"] = order_no
    values["customer_name"] = field("customer_name", clean_text, TEXT_LIMITS["customer_name"], required=True)
    values["customer_phone"] = field("customer_phone", normalise_phone, required=True)
    values["address"] = field("address", clean_text, TEXT_LIMITS["address"])
    values["customer_type"] = field("customer_type", _choice, CustomerType) or CustomerType.SMALL_MICRO.value
    values["service_center"] = field(
        "service_center", clean_text, TEXT_LIMITS["service_center"], required=True
    )
    values["account_manager"] = field("account_manager", clean_text, TEXT_LIMITS["account_manager"])
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
