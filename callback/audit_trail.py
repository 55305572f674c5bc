"""Read the audit trail: filters, the query, and one representation for the API, the page and the CSV.

The trail is evidence, so it is read exactly as written, with one exception: phone numbers inside an event's
details (an order update records the old and new number) are shown masked, so reading the trail is not
itself a read of full numbers.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select, true

from callback.formatting import mask_phone
from callback.models import AuditChannel, AuditEvent, User
from callback.text import has_control_characters
from callback.workdays import day_start

ACTOR_MAX = 200
ACTION_PATTERN = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?|[a-z0-9_]+\*")
ENTITY_PATTERN = re.compile(r"([a-z_]{1,32})(?::(\d{1,10}))?")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_ID = 2**31 - 1
# Detail keys whose values are phone numbers.
PHONE_KEYS = frozenset({"customer_phone", "phone"})


class AuditFilterError(ValueError):
    """Some filters cannot be read: `problems` names each query parameter with its message."""

    def __init__(self, problems: list[tuple[str, str]], status: int = 400) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems
        self.status = status


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    start: datetime | None = None  # inclusive, UTC
    end: datetime | None = None  # exclusive, UTC
    channel: str | None = None

    def condition(self) -> Any:
        """Return the SQL condition on AuditEvent (joined to its actor) these filters make."""
        conditions = []
        if self.actor:
            conditions.append(or_(User.username == self.actor, AuditEvent.source == self.actor))
        if self.action:
            if self.action.endswith("*"):
                conditions.append(AuditEvent.action.startswith(self.action.rstrip("*"), autoescape=True))
            else:
                conditions.append(AuditEvent.action == self.action)
        if self.entity_type:
            conditions.append(AuditEvent.entity_type == self.entity_type)
        if self.entity_id is not None:
            conditions.append(AuditEvent.entity_id == self.entity_id)
        if self.start is not None:
            conditions.append(AuditEvent.at >= self.start)
        if self.end is not None:
            conditions.append(AuditEvent.at < self.end)
        if self.channel:
            conditions.append(AuditEvent.channel == self.channel)
        return and_(true(), *conditions)


def _moment(raw: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """Read a local date (the whole day) or an ISO 8601 date and time; None when it is neither."""
    try:
        return _read_moment(raw, tz, end=end)
    except OverflowError:  # the year 9999 and beyond
        return None


def _read_moment(raw: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    if DATE_PATTERN.fullmatch(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            return None
        return day_start(day + timedelta(days=1) if end else day, tz)
    if not DATE_PATTERN.match(raw) or ("T" not in raw.upper() and " " not in raw):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment + timedelta(microseconds=1) if end else moment


def parse_audit_filter(args: Mapping[str, Any], tz: ZoneInfo) -> AuditFilter:
    """Read actor/action/entity/from/to/channel from query args, or raise AuditFilterError naming each."""
    problems: list[tuple[str, str | LazyString]] = []

    def text(name: str) -> str:
        return str(args.get(name) or "").strip()

    actor = text("actor")
    if len(actor) > ACTOR_MAX:
        problems.append(("actor", _l("must be at most %(limit)s characters", limit=ACTOR_MAX)))
    elif has_control_characters(actor):
        problems.append(("actor", _l("must not contain control characters")))
    action = text("action")
    if action and (len(action) > 40 or not ACTION_PATTERN.fullmatch(action)):
        problems.append(("action", _l("must be an action such as task.claimed, or a prefix such as task.*")))
    entity_type, entity_id = None, None
    entity = text("entity")
    if entity:
        match = ENTITY_PATTERN.fullmatch(entity)
        if match is None or (match.group(2) is not None and not 0 < int(match.group(2)) <= MAX_ID):
            problems.append(
                ("entity", _l("must be a type such as work_order, or a type and id: work_order:12"))
            )
        else:
            entity_type = match.group(1)
            entity_id = int(match.group(2)) if match.group(2) else None
    bounds: dict[str, datetime | None] = {}
    for name in ("from", "to"):
        raw = text(name)
        bounds[name] = _moment(raw, tz, end=name == "to") if raw else None
        if raw and bounds[name] is None:
            problems.append(
                (name, _l("must be a date such as 2026-03-01 or a time such as 2026-03-01T09:30"))
            )
    channel = text("channel")
    channels = [c.value for c in AuditChannel]
    if channel and channel not in channels:
        problems.append(("channel", _l("must be one of %(choices)s", choices=", ".join(channels))))
    if problems:
        raise AuditFilterError([(field, str(message)) for field, message in problems])
    start, end = bounds["from"], bounds["to"]
    if start is not None and end is not None and start >= end:
        raise AuditFilterError([("from", str(_l("must not be after 'to'")))], status=422)
    return AuditFilter(
        actor=actor or None,
        action=action or None,
        entity_type=entity_type,
        entity_id=entity_id,
        start=start,
        end=end,
        channel=channel or None,
    )


def audit_query(filters: AuditFilter) -> Select[AuditEvent, str]:
    """Select the matching events with their actor's name, newest first."""
    return (
        select(AuditEvent, User.username)
        .outerjoin(User, AuditEvent.actor_id == User.id)
        .where(filters.condition())
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


def redact(value: Any, key: str | None = None) -> Any:
    """Return event details with every phone number masked."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, key) for item in value]
    if key in PHONE_KEYS and isinstance(value, str):
        return mask_phone(value)
    return value


def event_json(event: AuditEvent, username: str | None, tz: ZoneInfo) -> dict[str, Any]:
    """Represent one event: when, who, from where, what, on which entity, with which details."""
    return {
        "id": event.id,
        "at": event.at.astimezone(tz).isoformat(),
        "actor": username,
        "actor_id": event.actor_id,
        "source": event.source,
        "channel": event.channel,
        "address": event.address,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "details": redact(event.details or {}),
    }
