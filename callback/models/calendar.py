"""The working-day calendar as a table, so that reports count working time in SQL."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime


class CalendarDay(Model):
    """One local day of one calendar (time zone + holidays + config overrides), filled by reports on demand.

    `calendar` is `WorkCalendar.key(tz)`: a change of TIMEZONE, EXTRA_HOLIDAYS, EXTRA_WORKDAYS or of the
    holidays package makes a new key, whose days are filled afresh; the old key's rows are never read again.
    `work_seconds_before` is the working time from an arbitrary origin of this key to the day's start:
    working time between two instants is a difference of two such figures (docs/reports.md).
    """

    __tablename__ = "calendar_days"

    calendar: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool]
    prev_is_workday: Mapped[bool]
    # 00:00 local of the day and of the next day, as UTC instants.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The UTC offset at the day's start, in seconds (Asia/Shanghai: 28800).
    utc_offset: Mapped[int]
    work_seconds_before: Mapped[int] = mapped_column(BigInteger)
