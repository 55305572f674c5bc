"""The do-not-call list (issue 13): numbers listed and unlisted, and whether a number may be called now.

Services take the session and `now`; callers commit. Every change is audited; the audit trail names the
entry, never the number (the entry holds it). The worklist ends listed tasks (callback/worklist/donotcall.py).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.errors import ServiceError
from callback.fields import InvalidValue, normalise_phone, parse_datetime
from callback.models import DoNotCallEntry, DoNotCallReason, DoNotCallSource
from callback.text import has_control_characters

MAX_NOTE_LENGTH = 500


class DoNotCallError(ServiceError):
    """A listing or removal cannot be made as asked."""


def parse_number(value: Any, field: str = "number") -> str:
    """Return the number in E.164, normalised as intake does, or raise 422 naming the field."""
    try:
        number = normalise_phone(value)
    except InvalidValue as error:
        message = str(error.message)
    else:
        if number is not None:
            return number
        message = _("is required")
    raise DoNotCallError(
        422, "invalid", _("The phone number is invalid."), [{"field": field, "message": message}]
    )


@dataclass(frozen=True)
class Listing:
    """A checked request to list a number."""

    number: str
    reason: DoNotCallReason
    expires_at: datetime | None
    note: str | None


def check_listing(number: Any, reason: Any, expires_at: Any, note: Any, *, now: datetime, tz: Any) -> Listing:
    """Validate a listing as the API and the pages send it; raise 422 naming each bad field."""
    errors: list[dict[str, str]] = []
    try:
        clean_number = parse_number(number)
    except DoNotCallError as error:
        errors.extend(error.details)
        clean_number = ""
    if reason not in [r.value for r in DoNotCallReason]:
        errors.append(
            {
                "field": "reason",
                "message": _("must be one of %(choices)s", choices=", ".join(DoNotCallReason)),
            }
        )
    moment = None
    if expires_at not in (None, ""):
        try:
            moment = parse_datetime(expires_at, tz)
        except (ValueError, TypeError):
            moment = None
        if moment is None or moment <= now:
            errors.append({"field": "expires_at", "message": _("must be a future date and time, or empty")})
    if note is not None and (
        not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH or has_control_characters(note)
    ):
        errors.append(
            {
                "field": "note",
                "message": _(
                    "must be text of at most %(limit)d characters, without control characters",
                    limit=MAX_NOTE_LENGTH,
                ),
            }
        )
    if errors:
        raise DoNotCallError(422, "invalid", _("The do-not-call entry is invalid."), errors)
    return Listing(clean_number, DoNotCallReason(reason), moment, (note or "").strip() or None)


def live_condition(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Return the condition of an entry that stops calls at `now` (a time, or a bound parameter of one)."""
    return and_(
        DoNotCallEntry.removed_at.is_(None),
        or_(DoNotCallEntry.expires_at.is_(None), DoNotCallEntry.expires_at > now),
    )


def listed_condition(number_column: Any, now: datetime) -> ColumnElement[bool]:
    """Return an SQL condition true when the number in `number_column` is listed at `now`."""
    return exists().where(DoNotCallEntry.number == number_column, live_condition(now))


def is_listed(session: Session, e164: str | None, now: datetime) -> DoNotCallEntry | None:
    """Return the entry that stops calls to this number at `now`, or None."""
    if not e164:
        return None
    return session.scalar(select(DoNotCallEntry).where(DoNotCallEntry.number == e164, live_condition(now)))


def active_entry(session: Session, e164: str) -> DoNotCallEntry | None:
    """Return the number's entry that was not removed (it may have expired), or None."""
    return session.scalar(
        select(DoNotCallEntry).where(DoNotCallEntry.number == e164, DoNotCallEntry.removed_at.is_(None))
    )


def add(
    session: Session, listing: Listing, *, source: DoNotCallSource, actor: Actor, now: datetime
) -> DoNotCallEntry:
    """List a number; 409 when it is listed already. An expired listing is closed and replaced."""
    previous = active_entry(session, listing.number)
    if previous is not None:
        if previous.is_live(now):
            raise DoNotCallError(
                409,
                "already_listed",
                _("This number is already on the do-not-call list."),
                [{"field": "number", "message": _("already listed")}],
            )
        previous.removed_at = now
        record(
            session,
            actor,
            now,
            [AuditEntry("do_not_call.expired", "do_not_call_entry", previous.id, {"replaced": True})],
        )
        session.flush()
    entry = DoNotCallEntry(
        number=listing.number,
        reason=listing.reason.value,
        source=source.value,
        note=listing.note,
        added_by_id=actor.user_id,
        added_at=now,
        expires_at=listing.expires_at,
    )
    session.add(entry)
    session.flush()
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                "do_not_call.added",
                "do_not_call_entry",
                entry.id,
                {
                    "reason": entry.reason,
                    "source": entry.source,
                    "expires_at": listing.expires_at.isoformat() if listing.expires_at else None,
                },
            )
        ],
    )
    return entry


def remove(session: Session, number: Any, *, actor: Actor, now: datetime) -> DoNotCallEntry:
    """Take a number off the list, keeping its entry as history; 404 when it is not listed."""
    e164 = parse_number(number)
    entry = active_entry(session, e164)
    if entry is None:
        raise DoNotCallError(404, "not_found", _("This number is not on the do-not-call list."))
    entry.removed_at = now
    entry.removed_by_id = actor.user_id
    record(session, actor, now, [AuditEntry("do_not_call.removed", "do_not_call_entry", entry.id, {})])
    session.flush()
    return entry


def hidden_numbers(session: Session, numbers: set[str], now: datetime) -> set[str]:
    """Return those of the numbers listed with reason `integrity`: whistle-blowers whose identity is hidden.

    A removed or expired listing no longer hides anyone: the customer asked to be called again.
    """
    if not numbers:
        return set()
    return set(
        session.scalars(
            select(DoNotCallEntry.number).where(
                DoNotCallEntry.number.in_(numbers),
                DoNotCallEntry.reason == DoNotCallReason.INTEGRITY.value,
                live_condition(now),
            )
        )
    )


ENTRY_STATES = ("live", "expired", "removed", "all")


def entries_query(
    now: datetime, *, search: str | None = None, reason: str | None = None, state: str = "live"
) -> Select[DoNotCallEntry]:
    """Return the entries matching a search (digits of the number, or the note), newest first."""
    query = select(DoNotCallEntry).order_by(DoNotCallEntry.added_at.desc(), DoNotCallEntry.id.desc())
    if state == "live":
        query = query.where(live_condition(now))
    elif state == "expired":
        query = query.where(DoNotCallEntry.removed_at.is_(None), DoNotCallEntry.expires_at <= now)
    elif state == "removed":
        query = query.where(DoNotCallEntry.removed_at.is_not(None))
    if reason:
        query = query.where(DoNotCallEntry.reason == reason)
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        if digits.startswith("0") and len(digits) > 3:
            digits = digits[1:]  # a landline typed with its trunk 0: +86 drops it
        terms = [DoNotCallEntry.note.contains(search.strip(), autoescape=True)]
        if digits:
            terms.append(DoNotCallEntry.number.contains(digits, autoescape=True))
        query = query.where(or_(*terms))
    return query
