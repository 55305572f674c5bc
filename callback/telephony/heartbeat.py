"""Dialer heartbeats: written by each dialer every pass, read by /healthz, /metrics and /admin/dialers."""

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.models import CallAttempt, DialerHeartbeat

# A heartbeat not renewed for this long is a dialer that is gone: the next beat of any dialer drops it.
FORGET_AFTER = timedelta(days=1)


def default_dialer_name() -> str:
    """Name a dialer process host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def calls_still_in_flight(session: Session, attempt_ids: Iterable[int]) -> set[int]:
    """Return those of the attempts whose call has not ended yet (no disposition)."""
    ids = list(attempt_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(CallAttempt.id).where(CallAttempt.id.in_(ids), CallAttempt.disposition.is_(None))
        )
    )


def beat(session: Session, name: str, *, started_at: datetime, now: datetime, calls_in_flight: int) -> None:
    """Record that the dialer `name` finished a pass at `now`; forget dialers silent for a day."""
    values = {"started_at": started_at, "last_pass_at": now, "calls_in_flight": calls_in_flight}
    renew = (
        update(DialerHeartbeat)
        .where(DialerHeartbeat.name == name)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if session.execute(renew).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():  # two dialers given the same name may both be starting
                session.execute(insert(DialerHeartbeat).values(name=name, **values))
        except IntegrityError:
            session.execute(renew)
    session.execute(
        delete(DialerHeartbeat)
        .where(DialerHeartbeat.last_pass_at < now - FORGET_AFTER)
        .execution_options(synchronize_session=False)
    )


def forget(session: Session, name: str) -> None:
    """Remove a dialer's heartbeat when it stops cleanly."""
    session.execute(
        delete(DialerHeartbeat)
        .where(DialerHeartbeat.name == name)
        .execution_options(synchronize_session=False)
    )


def heartbeats(session: Session) -> list[DialerHeartbeat]:
    """Return every dialer's heartbeat, by name."""
    return list(session.scalars(select(DialerHeartbeat).order_by(DialerHeartbeat.name)))
