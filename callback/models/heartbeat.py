"""Dialer heartbeats: each running dialer process says, every pass, that it is alive and how busy it is."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime


class DialerHeartbeat(Model):
    """One row per dialer process (named host:pid, or --name); updated at the end of every pass."""

    __tablename__ = "dialer_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_pass_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Calls this dialer placed that have not ended yet.
    calls_in_flight: Mapped[int] = mapped_column(default=0)
