"""Write the audit trail. Every service that changes state records here, in the same transaction.

Each event carries its channel (web, api, cli, dialer, webhook) and the client's address, found here rather
than passed by the callers: inside a request, the blueprint decides the channel and the request gives the
address (the client's, once ProxyFix has applied TRUSTED_PROXIES); outside a request, the code that runs a
loop says what it is with `channel("dialer")`, and everything else is the command line.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import ColumnElement, Insert, bindparam, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FromClause

from callback.models import AuditChannel, AuditEvent

# Requests to these blueprints come from machines, not people at a browser.
BLUEPRINT_CHANNELS: dict[str, AuditChannel] = {"api": AuditChannel.API, "twilio": AuditChannel.WEBHOOK}
# The same by path, for blueprints added later under these prefixes (another telephony provider).
PATH_CHANNELS: tuple[tuple[str, AuditChannel], ...] = (
    ("/api/", AuditChannel.API),
    ("/twilio/", AuditChannel.WEBHOOK),
    ("/aliyun/", AuditChannel.WEBHOOK),
    ("/webhooks/", AuditChannel.WEBHOOK),
)

_outside_request: ContextVar[AuditChannel] = ContextVar("audit_channel", default=AuditChannel.CLI)


@contextmanager
def channel(name: AuditChannel | str) -> Iterator[None]:
    """Attribute the events written outside a request in this block to `name` (the dialer's loop)."""
    token = _outside_request.set(AuditChannel(name))
    try:
        yield
    finally:
        _outside_request.reset(token)


def current_origin() -> tuple[str, str | None]:
    """Return the channel and client address of the code running now."""
    if not has_request_context():
        return _outside_request.get().value, None
    found = BLUEPRINT_CHANNELS.get(request.blueprint or "")
    if found is None:
        found = next((c for prefix, c in PATH_CHANNELS if request.path.startswith(prefix)), AuditChannel.WEB)
    if found == AuditChannel.WEBHOOK and request.method == "GET":
        found = AuditChannel.WEB  # a page beside the webhooks (the IVR transcript), read in a browser
    address = request.remote_addr
    return found.value, address[:64] if address else None


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
    """Add audit events for the entries in one bulk insert, with the channel and address of the caller."""
    via, address = current_origin()
    rows = [
        {
            "at": now,
            "actor_id": actor.user_id,
            "source": actor.source,
            "channel": via,
            "address": address,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "details": entry.details,
        }
        for entry in entries
    ]
    if rows:
        # Into the table (Core): the ORM's bulk insert would add its per-statement work for nothing to load.
        session.execute(insert(AuditEvent.__table__), rows)


def insert_per_row(
    source: FromClause,
    entity_id: ColumnElement[Any],
    *,
    action: str,
    entity_type: str,
    where: ColumnElement[bool] | None = None,
) -> Insert:
    """Return an INSERT of one audit event per row of `source` (a CTE of changed rows), for one statement.

    PostgreSQL can then change rows and audit them in a single round trip (`WITH changed AS (UPDATE …
    RETURNING …) INSERT INTO audit_events … SELECT … FROM changed`). The row written is the one `record`
    writes; the values that do not come from `source` are bound at execution by `bound_origin`.
    """
    values = select(
        bindparam("audit_at", type_=AuditEvent.__table__.c.at.type),
        bindparam("audit_actor_id", type_=AuditEvent.__table__.c.actor_id.type),
        bindparam("audit_source", type_=AuditEvent.__table__.c.source.type),
        bindparam("audit_channel", type_=AuditEvent.__table__.c.channel.type),
        bindparam("audit_address", type_=AuditEvent.__table__.c.address.type),
        bindparam("audit_action", action, type_=AuditEvent.__table__.c.action.type),
        bindparam("audit_entity_type", entity_type, type_=AuditEvent.__table__.c.entity_type.type),
        entity_id,
        bindparam("audit_details", type_=AuditEvent.__table__.c.details.type),
    ).select_from(source)
    if where is not None:
        values = values.where(where)
    return insert(AuditEvent).from_select(
        ["at", "actor_id", "source", "channel", "address", "action", "entity_type", "entity_id", "details"],
        values,
    )


def bound_origin(actor: Actor, now: datetime, details: dict[str, Any]) -> dict[str, Any]:
    """Return the parameters `insert_per_row` binds: when, who, from where (as `record`), and the details."""
    via, address = current_origin()
    return {
        "audit_at": now,
        "audit_actor_id": actor.user_id,
        "audit_source": actor.source,
        "audit_channel": via,
        "audit_address": address,
        "audit_details": details,
    }


def export_entry(
    dataset: str, fmt: str, filters: dict[str, Any], rows: int, *, full_numbers: bool = False
) -> AuditEntry:
    """Describe one export for the audit trail: what was taken, with which filters, how many rows."""
    return AuditEntry(
        "export",
        "export",
        None,
        {
            "dataset": dataset,
            "format": fmt,
            "filters": {key: jsonable(value) for key, value in filters.items() if value not in (None, "")},
            "rows": rows,
            "full_numbers": full_numbers,
        },
    )
