"""Calls per second across every dialer process, coordinated through one database row.

Each call takes the next free slot: a compare-and-set UPDATE moves the shared `next_slot_us` forward by
1/DIALER_CALLS_PER_SECOND, and the dialer sleeps until its slot. Any number of processes on any number of
machines share the row, so together they never place calls closer together than the interval. The moment
is wall-clock time: keep the dialer machines' clocks synchronised (NTP).
"""

import time
from collections.abc import Callable

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from callback.models.attempt import DialerPacing

PACING_ROW = 1
# The message follow-ups' own rate (SMS_PER_SECOND) is kept in a second row of the same table.
SMS_PACING_ROW = 2
MICROSECONDS = 1_000_000


class CallPacer:
    """Hand out call slots no closer together than 1/calls_per_second, shared through the database."""

    def __init__(
        self,
        engine: Engine,
        calls_per_second: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        row: int = PACING_ROW,
    ) -> None:
        self.engine = engine
        self.row = row
        self.interval_us = max(1, round(MICROSECONDS / calls_per_second))
        self.clock = clock
        self.sleep = sleep

    def reserve(self) -> float:
        """Take the next free slot and return its moment (seconds since the epoch); wait for nothing."""
        while True:
            now_us = int(self.clock() * MICROSECONDS)
            # Each try is its own short transaction, so no lock is held while a dialer sleeps.
            with self.engine.begin() as connection:
                current = connection.scalar(
                    select(DialerPacing.next_slot_us).where(DialerPacing.id == self.row)
                )
                if current is None:
                    self._create_row()
                    continue
                slot_us = max(current, now_us)
                taken = connection.execute(
                    update(DialerPacing)
                    .where(DialerPacing.id == self.row, DialerPacing.next_slot_us == current)
                    .values(next_slot_us=slot_us + self.interval_us)
                )
            if taken.rowcount == 1:
                return slot_us / MICROSECONDS
            # Another dialer took this slot between our read and our update: read again.

    def _create_row(self) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(DialerPacing).values(id=self.row, next_slot_us=0))
        except IntegrityError:
            pass  # another dialer made the row first

    def wait_for_slot(self) -> float:
        """Take the next free slot and sleep until it comes; return its moment."""
        slot = self.reserve()
        delay = slot - self.clock()
        if delay > 0:
            self.sleep(delay)
        return slot
