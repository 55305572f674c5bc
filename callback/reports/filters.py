"""What a report covers: a period of local dates and the order filters every figure shares."""

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, true

from callback.models import CustomerType, WorkOrder
from callback.workdays import day_start

ALL_CUSTOMER_TYPES = "all"
CUSTOMER_TYPE_CHOICES = (*(kind.value for kind in CustomerType), ALL_CUSTOMER_TYPES)
TEXT_FILTER_MAX = 50
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


class FilterError(ValueError):
    """A filter cannot be read; `field` names the query parameter, `status` the HTTP status."""

    def __init__(self, field: str, message: str | LazyString, status: int = 400) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = str(message)
        self.status = status


@dataclass(frozen=True)
class ReportFilter:
    """The period (inclusive local dates) and the orders a report looks at."""

    start: date
    end: date
    service_center: str | None = None
    account_manager: str | None = None
    # A CustomerType value, or "all".
    customer_type: str = CustomerType.SMALL_MICRO.value

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Return the period as a half-open UTC range: 00:00 local of `start` to 00:00 local after `end`."""
        return day_start(self.start, tz), day_start(self.end + timedelta(days=1), tz)

    def order_condition(self) -> ColumnElement[bool]:
        """Return the SQL condition on WorkOrder that the non-period filters make."""
        conditions: list[ColumnElement[bool]] = []
        if self.service_center:
            conditions.append(WorkOrder.service_center == self.service_center)
        if self.account_manager:
            conditions.append(WorkOrder.account_manager == self.account_manager)
        if self.customer_type != ALL_CUSTOMER_TYPES:
            conditions.append(WorkOrder.customer_type == self.customer_type)
        return and_(true(), *conditions)

    def query_args(self) -> dict[str, str]:
        """Return the filters as query parameters, to carry them into links."""
        args = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "customer_type": self.customer_type,
        }
        if self.service_center:
            args["service_center"] = self.service_center
        if self.account_manager:
            args["account_manager"] = self.account_manager
        return args

    def with_period(self, start: date, end: date) -> "ReportFilter":
        """Return the same filters over another period."""
        return replace(self, start=start, end=end)


def _date(args: Any, name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    # Only YYYY-MM-DD is documented; fromisoformat alone would also take 20260301 or 2026-W09.
    if not DATE_PATTERN.fullmatch(raw):
        raise FilterError(name, _l("must be a date such as 2026-03-01 (YYYY-MM-DD)"))
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(name, _l("must be a date such as 2026-03-01 (YYYY-MM-DD)")) from None


def _text(args: Any, name: str) -> str | None:
    value = (args.get(name) or "").strip()
    if len(value) > TEXT_FILTER_MAX:
        raise FilterError(name, _l("must be at most %(limit)s characters", limit=TEXT_FILTER_MAX))
    return value or None


def parse_filter(
    args: Any, *, today: date, default_customer_type: str = CustomerType.SMALL_MICRO.value
) -> ReportFilter:
    """Read from/to/service_center/account_manager/customer_type from query args, or raise FilterError.

    A missing `to` is today; a missing `from` is the first of `to`'s month.
    """
    end = _date(args, "to") or today
    start = _date(args, "from") or end.replace(day=1)
    if start > end:
        raise FilterError("from", _l("must not be after 'to'"), status=422)
    customer_type = (args.get("customer_type") or "").strip() or default_customer_type
    if customer_type not in CUSTOMER_TYPE_CHOICES:
        raise FilterError(
            "customer_type", _l("must be one of %(choices)s", choices=", ".join(CUSTOMER_TYPE_CHOICES))
        )
    return ReportFilter(
        start=start,
        end=end,
        service_center=_text(args, "service_center"),
        account_manager=_text(args, "account_manager"),
        customer_type=customer_type,
    )


def months(filters: ReportFilter) -> list[tuple[str, date, date]]:
    """List the local months the period touches as (YYYY-MM, first day in period, last day in period)."""
    result = []
    first = filters.start.replace(day=1)
    while first <= filters.end:
        following = (first + timedelta(days=32)).replace(day=1)
        result.append(
            (
                first.strftime("%Y-%m"),
                max(first, filters.start),
                min(following - timedelta(days=1), filters.end),
            )
        )
        first = following
    return result
