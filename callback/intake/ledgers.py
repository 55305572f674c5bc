"""The three ledgers (三类台账): a supervisor puts an order on one, or takes it off, with a note.

Intake owns orders, so the hand-set ledger is written here. The marketing system's next update of the order
carries its own `ledger` (its whole current state) and replaces a hand-set one; both moves are audited, so the
ledger history of an order shows each of them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.errors import ServiceError
from callback.models import AuditEvent, Ledger, WorkOrder
from callback.text import has_control_characters

LEDGER_ACTION = "order.ledger"
NOTE_MAX = 500


class LedgerError(ServiceError):
    """The ledger cannot be changed as asked."""


def set_ledger(
    session: Session, order_no: Any, ledger: Any, *, note: Any, now: datetime, actor: Actor
) -> WorkOrder:
    """Put the order on a ledger (or take it off with None), with the note that says why."""
    details = []
    if ledger is not None and ledger not in [item.value for item in Ledger]:
        details.append(
            {"field": "ledger", "message": _("must be one of %(choices)s", choices=", ".join(Ledger))}
        )
    clean_note = note.strip() if isinstance(note, str) else ""
    if not clean_note:
        details.append({"field": "note", "message": _("is required")})
    elif len(clean_note) > NOTE_MAX:
        details.append(
            {"field": "note", "message": _("must be at most %(limit)s characters", limit=NOTE_MAX)}
        )
    elif has_control_characters(clean_note):
        details.append({"field": "note", "message": _("must not contain control characters")})
    order = (
        session.scalar(select(WorkOrder).where(WorkOrder.order_no == order_no.strip()).with_for_update())
        if isinstance(order_no, str) and order_no.strip()
        else None
    )
    if order is None:
        details.append({"field": "order_no", "message": _("no such work order")})
    if details or order is None:
        raise LedgerError(422, "invalid", _("The ledger cannot be changed."), details)
    if order.ledger == ledger:
        raise LedgerError(
            409, "ledger_unchanged", _("Order %(order_no)s is already there.", order_no=order.order_no)
        )
    previous = order.ledger
    order.ledger = ledger
    order.updated_at = now
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                LEDGER_ACTION, "work_order", order.id, {"from": previous, "to": ledger, "note": clean_note}
            )
        ],
    )
    return order


@dataclass(frozen=True)
class LedgerChange:
    """One move of an order between ledgers: by hand (with a note) or by the marketing system's update."""

    order_id: int
    at: datetime
    actor_id: int | None
    source: str | None
    from_ledger: str | None
    to_ledger: str | None
    note: str | None
    by_hand: bool


def _change(event: AuditEvent) -> LedgerChange | None:
    details = event.details or {}
    if event.action == LEDGER_ACTION:
        return LedgerChange(
            event.entity_id or 0,
            event.at,
            event.actor_id,
            event.source,
            details.get("from"),
            details.get("to"),
            details.get("note"),
            by_hand=True,
        )
    change = (details.get("changes") or {}).get("ledger")
    if isinstance(change, list) and len(change) == 2:  # [old, new], see intake.service
        return LedgerChange(
            event.entity_id or 0,
            event.at,
            event.actor_id,
            event.source,
            change[0],
            change[1],
            None,
            by_hand=False,
        )
    return None


def ledger_history(session: Session, order_id: int) -> list[LedgerChange]:
    """Return every ledger move of one order, newest first."""
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == "work_order",
            AuditEvent.entity_id == order_id,
            AuditEvent.action.in_([LEDGER_ACTION, "order.updated"]),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    return [change for event in events if (change := _change(event)) is not None]


def recent_hand_changes(session: Session, ledger: str, *, limit: int = 30) -> list[LedgerChange]:
    """Return the latest hand-made moves onto or off one ledger, newest first."""
    changes: list[LedgerChange] = []
    # The target ledger sits in the JSON details; read recent events in pages and keep the matching ones.
    offset, page = 0, 500
    while len(changes) < limit:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == LEDGER_ACTION)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(page)
            .offset(offset)
        ).all()
        for event in events:
            change = _change(event)
            if change is not None and ledger in (change.from_ledger, change.to_ledger):
                changes.append(change)
        if len(events) < page:
            break
        offset += page
    return changes[:limit]
