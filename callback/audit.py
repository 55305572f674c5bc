"""Write the audit trail. Every service that changes state records here, in the same transaction."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from callback.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user, or a named source such as a CLI command or an import file."""

    user_id: int | None = None
    source: str | None = None


@dataclass
class AuditEntry:
    action: str
    entity_type: str
    entity_id: int | None
    details: dict[str, Any] = field(default_factory=dict)


def jsonable(value: Any) -> Any:
    """Make a value safe for the JSON details column."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record(session: Session, actor: Actor, now: datetime, entries: Iterable[AuditEntry]) -> None:
    """Add audit events for the entries in one bulk insert."""
    rows = [
        {
            "at": now,
            "actor_id": actor.user_id,
            "source": actor.source,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "details": entry.details,
        }
        for entry in entries
    ]
    if rows:
        session.execute(insert(AuditEvent), rows)
