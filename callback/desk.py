"""What an operator's desk reads: a customer's call history, my calls, my appointments, my figures.

Reads only; the worklist owns every change. Times are UTC in, UTC out; "today" and "this week" are the
local day and week (Monday first) of TIMEZONE.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from callback.models import CallAttempt, CallbackTask, Disposition, TaskState, WorkOrder

HISTORY_LIMIT = 50
# A person answered: the calls that count as contacts for the contact rate (AAPOR: I, P, R).
CONTACT_DISPOSITIONS = frozenset(
    {
        Disposition.COMPLETED.value,
        Disposition.PARTIAL.value,
        Disposition.REFUSED.value,
        Disposition.CALLBACK_REQUESTED.value,
    }
)


def call_history(session: Session, order: WorkOrder, limit: int = HISTORY_LIMIT) -> list[CallAttempt]:
    """Return every call about this order or to its customer's number (IVR and operators), newest first."""
    return list(
        session.scalars(
            select(CallAttempt)
            .join(CallbackTask, CallbackTask.id == CallAttempt.task_id)
            .join(WorkOrder, WorkOrder.id == CallbackTask.order_id)
            .where(or_(WorkOrder.id == order.id, WorkOrder.customer_phone == order.customer_phone))
            .order_by(CallAttempt.started_at.desc(), CallAttempt.id.desc())
            .limit(limit)
        )
    )


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Return the start of the local day of `now`, as an aware datetime."""
    return datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)


def week_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Return the start of the local week (Monday) of `now`."""
    local = now.astimezone(tz).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(), tzinfo=tz)


@dataclass(frozen=True)
class Figures:
    calls: int
    completes: int
    contacts: int

    @property
    def contact_rate(self) -> float | None:
        """Contacts per call, or None before the first call."""
        return self.contacts / self.calls if self.calls else None


def operator_figures(session: Session, user_id: int, since: datetime, until: datetime) -> Figures:
    """Count the operator's finished calls in [since, until): calls, completed interviews, contacts."""
    rows = session.execute(
        select(CallAttempt.disposition, func.count())
        .where(
            CallAttempt.operator_id == user_id,
            CallAttempt.started_at >= since,
            CallAttempt.started_at < until,
            CallAttempt.disposition.is_not(None),
        )
        .group_by(CallAttempt.disposition)
    ).all()
    counts = {disposition: count for disposition, count in rows}
    return Figures(
        calls=sum(counts.values()),
        completes=counts.get(Disposition.COMPLETED.value, 0),
        contacts=sum(count for disposition, count in counts.items() if disposition in CONTACT_DISPOSITIONS),
    )


def my_calls(session: Session, user_id: int, since: datetime, until: datetime) -> list[CallAttempt]:
    """Return the operator's calls in [since, until), newest first."""
    return list(
        session.scalars(
            select(CallAttempt)
            .where(
                CallAttempt.operator_id == user_id,
                CallAttempt.started_at >= since,
                CallAttempt.started_at < until,
            )
            .order_by(CallAttempt.started_at.desc(), CallAttempt.id.desc())
        )
    )


def my_appointments(session: Session, user_id: int) -> list[CallbackTask]:
    """Return the open callbacks the operator booked an appointment for, earliest first."""
    return list(
        session.scalars(
            select(CallbackTask)
            .where(
                CallbackTask.appointment_owner_id == user_id,
                CallbackTask.state.in_([TaskState.OPEN.value, TaskState.CLAIMED.value]),
            )
            .order_by(CallbackTask.not_before, CallbackTask.id)
        )
    )
