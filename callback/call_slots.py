"""Calling slots (CALL_SLOTS): parts of the week in which a retry is placed, as queXS rotates call times.

Pure: no Flask, no database. A slot is a named local window on working days (`workday`), on days off
(`offday`: weekends and public holidays per the work calendar, so 国庆 counts as "weekend") or on every day
(`any`). After a failed contact the next attempt goes to the earliest moment, no earlier than the retry
delay, in a slot not yet tried for the task; when every slot has been tried, in the least-tried ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from callback.workdays import ONE_DAY, CallingHours, WorkCalendar

DAY_KINDS = ("workday", "offday", "any")
# Far enough to pass any run of holidays (春节 with its weekends is 9 days) and still find every slot.
_SEARCH_DAYS = 31
_SLOT_RE = re.compile(
    r"^(?P<name>[a-z][a-z0-9_]{0,31})=(?P<days>[a-z]+)\s+(?P<h1>\d{1,2}):(?P<m1>\d{2})-(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)


@dataclass(frozen=True)
class CallSlot:
    """One calling slot: local minutes since midnight, start <= t < end, on the days of its kind."""

    name: str
    days: str
    start: int
    end: int

    def on_day(self, is_workday: bool) -> bool:
        """Tell whether the slot exists on a day (working or not)."""
        return self.days == "any" or (self.days == "workday") == is_workday


def parse_call_slots(value: Any) -> tuple[CallSlot, ...]:
    """Parse "name=workday|offday|any HH:MM-HH:MM, …" (or a list of such items); empty = no slots.

    Raise ValueError naming the bad item: unknown day kind, bad time, duplicate name, or two slots that
    overlap on the same day (a moment must belong to one slot at most).
    """
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    slots: list[CallSlot] = []
    for item in items:
        text = " ".join(str(item).split())
        if not text:
            continue
        match = _SLOT_RE.match(text)
        if match is None:
            raise ValueError(
                f"slot {text!r} must look like 'name=workday 08:00-12:00' (name: a-z, 0-9, _; "
                f"days: {', '.join(DAY_KINDS)})"
            )
        if match["days"] not in DAY_KINDS:
            raise ValueError(f"slot {text!r}: days must be one of {', '.join(DAY_KINDS)}")
        try:
            hours = CallingHours.parse(f"{match['h1']}:{match['m1']}-{match['h2']}:{match['m2']}")
        except ValueError as error:
            raise ValueError(f"slot {text!r}: {error}") from None
        slot = CallSlot(match["name"], match["days"], hours.start, hours.end)
        for other in slots:
            if other.name == slot.name:
                raise ValueError(f"slot name {slot.name!r} is used twice")
            same_days = "any" in (other.days, slot.days) or other.days == slot.days
            if same_days and slot.start < other.end and other.start < slot.end:
                raise ValueError(f"slots {other.name!r} and {slot.name!r} overlap")
        slots.append(slot)
    return tuple(slots)


def slot_of(moment: datetime, slots: Sequence[CallSlot], tz: ZoneInfo, calendar: WorkCalendar) -> str | None:
    """Return the name of the slot an aware instant falls in, or None."""
    local = moment.astimezone(tz)
    minute = local.hour * 60 + local.minute
    is_workday = calendar.is_workday(local.date())
    for slot in slots:
        if slot.on_day(is_workday) and slot.start <= minute < slot.end:
            return slot.name
    return None


def tried_counts(slot_names: Iterable[str | None]) -> Counter[str]:
    """Count the attempts per slot (attempts outside every slot are not counted)."""
    return Counter(name for name in slot_names if name)


def next_attempt_time(
    earliest: datetime,
    tried: Mapping[str, int],
    slots: Sequence[CallSlot],
    *,
    tz: ZoneInfo,
    calendar: WorkCalendar,
    calling_hours: CallingHours,
) -> datetime:
    """Return (UTC) the earliest moment at or after `earliest` in an untried slot, else the least-tried ones.

    Slots are cut to CALLING_HOURS; a slot entirely outside them is never chosen. Without any usable slot
    the answer is `earliest` itself (the fixed retry delay, as before CALL_SLOTS).
    """
    windows = {
        slot.name: (slot, max(slot.start, calling_hours.start), min(slot.end, calling_hours.end))
        for slot in slots
    }
    usable = {name: window for name, window in windows.items() if window[1] < window[2]}
    if not usable:
        return earliest.astimezone(UTC)
    fewest = min(tried.get(name, 0) for name in usable)
    candidates = [window for name, window in usable.items() if tried.get(name, 0) == fewest]
    local = earliest.astimezone(tz)
    minute_now = local.hour * 60 + local.minute
    day = local.date()
    for offset in range(_SEARCH_DAYS):
        is_workday = calendar.is_workday(day)
        starts = []
        for slot, start, end in candidates:
            if not slot.on_day(is_workday):
                continue
            if offset == 0:
                if minute_now >= end:
                    continue
                if minute_now >= start:
                    return earliest.astimezone(UTC)
            starts.append(start)
        if starts:
            first = min(starts)
            return datetime.combine(day, time(first // 60, first % 60), tzinfo=tz).astimezone(UTC)
        day += ONE_DAY
    return earliest.astimezone(UTC)


def slots_tried(slot_names: Iterable[str | None], slots: Sequence[CallSlot]) -> list[tuple[str, int]]:
    """Return (slot, attempts) for each slot a task's calls started in: configured order, then any others."""
    counts = tried_counts(slot_names)
    ordered = [slot.name for slot in slots if slot.name in counts]
    ordered += sorted(name for name in counts if name not in ordered)
    return [(name, counts[name]) for name in ordered]
