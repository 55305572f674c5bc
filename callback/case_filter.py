"""One filter of supervision cases for the case list page and the case API (issue 15).

Each surface reads its own parameters (the page ignores what its controls cannot send; the API answers 400),
then both narrow their query with the same CaseFilter.where.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select

from callback.models import ENDED_CASE_STATES, SupervisionCase

ENDED = [state.value for state in ENDED_CASE_STATES]


@dataclass(frozen=True)
class CaseFilter:
    """What a list of cases is narrowed to; None or False leaves that side open."""

    state: str | None = None
    category: str | None = None
    service_center: str | None = None
    account_manager: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    overdue: bool = False  # past its SLA and still being worked
    referred: bool = False
    active: bool = False  # still being worked (not closed or dismissed)
    opened_from: date | None = None  # local dates, inclusive
    opened_to: date | None = None

    def where(
        self, query: Select[Any], *, now: datetime, tz: ZoneInfo, with_state: bool = True
    ) -> Select[Any]:
        """Narrow a query of cases (joined to their orders or not); `with_state=False` leaves state open."""
        if with_state and self.state:
            query = query.where(SupervisionCase.state == self.state)
        if self.category:
            query = query.where(SupervisionCase.category == self.category)
        # The case's copy of its order's centre and manager (kept equal by intake): no join to the orders.
        if self.service_center:
            query = query.where(SupervisionCase.service_center == self.service_center)
        if self.account_manager:
            query = query.where(SupervisionCase.account_manager == self.account_manager)
        if self.assignee_id is not None:
            query = query.where(SupervisionCase.assignee_id == self.assignee_id)
        if self.unassigned:
            query = query.where(SupervisionCase.assignee_id.is_(None))
        if self.overdue:
            query = query.where(SupervisionCase.due_at < now, SupervisionCase.state.not_in(ENDED))
        if self.referred:
            query = query.where(SupervisionCase.referred_to_discipline.is_(True))
        if self.active:
            query = query.where(SupervisionCase.state.not_in(ENDED))
        if self.opened_from:
            query = query.where(
                SupervisionCase.opened_at >= datetime.combine(self.opened_from, time(), tzinfo=tz)
            )
        if self.opened_to:
            next_day = datetime.combine(self.opened_to + timedelta(days=1), time(), tzinfo=tz)
            query = query.where(SupervisionCase.opened_at < next_day)
        return query
