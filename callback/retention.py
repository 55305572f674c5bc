"""Retention (issue 9): de-identify the personal data of orders finished long ago.

An order is purged when it is finished (connected, archived or cancelled) more than N days ago, counted from
the time of its current status; no case about it is still open; and no callback of it is still to be made.
Its customer's name, phone and address are replaced; the free text of its calls (operators' notes, the
`comment` answer, the IVR transcript's spoken text) is cleared; its calls' recordings lose their audio (the
hash stays); the order snapshots kept with its attempts and
case evidence are de-identified the same way; and the personal values inside its audit events (an order
update records old and new values) are replaced, the event marked `"purged": true`. Times, flags, statuses,
answers' codes, findings and cases stay as they were, so every report over any period is unchanged.

The audit keeps that the purge happened: one `order.purged` event per order. On PostgreSQL the audit trail
refuses every UPDATE; the purge switches on `callback.audit_scrub` for its own transaction only, which the
trigger accepts for a change of `details` alone that carries the `purged` mark (callback/models/audit.py).

Work goes in batches by id (`BATCH_SIZE` orders, one transaction each, committed by the caller), so a large
table is never locked for long and an interrupted run resumes where it stopped: purged orders no longer match.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, text, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.models import (
    ACTIVE_TASK_STATES,
    ENDED_CASE_STATES,
    Answer,
    AuditEvent,
    CallAttempt,
    CallbackTask,
    CallRecording,
    CaseEvidence,
    OrderStatus,
    RecordingStatus,
    SupervisionCase,
    WorkOrder,
)
from callback.recordings import delete_recordings_for_orders
from callback.survey import QUESTIONNAIRE

BATCH_SIZE = 500
# How many ids one look for purgeable orders spans, in batches: bounded work per query on any table.
WINDOW_FACTOR = 4
PURGED_TEXT = "已脱敏"
# Not a number anybody can be called on (no Chinese number starts with 0 after +86), and never one intake
# stores, so it also marks an order as already purged.
PURGED_PHONE = "+8600000000000"
PERSONAL_ORDER_FIELDS = {"customer_name": PURGED_TEXT, "customer_phone": PURGED_PHONE, "address": PURGED_TEXT}
FREE_TEXT_QUESTIONS = tuple(question.code for question in QUESTIONNAIRE if question.type == "text")
# Transcript events whose text is a code from the provider, not words: they stay.
CODED_TRANSCRIPT_EVENTS = frozenset({"status", "machine"})
FINISHED_AT = {
    OrderStatus.CONNECTED: WorkOrder.connected_at,
    OrderStatus.ARCHIVED: WorkOrder.archived_at,
    OrderStatus.CANCELLED: WorkOrder.cancelled_at,
}


@dataclass
class PurgeCounts:
    """What a purge changed (or, in a dry run, would change)."""

    orders: int = 0
    attempts: int = 0
    answers: int = 0
    evidence: int = 0
    audit_events: int = 0
    recordings: int = 0
    order_ids: list[int] = field(default_factory=list)

    def add(self, other: "PurgeCounts") -> None:
        self.orders += other.orders
        self.attempts += other.attempts
        self.answers += other.answers
        self.evidence += other.evidence
        self.audit_events += other.audit_events
        self.recordings += other.recordings


def purgeable_orders(cutoff: datetime | None, order_nos: Sequence[str] = ()) -> Select[int]:
    """Select the ids of orders to purge: finished before `cutoff`, no open case, no callback to make.

    With `order_nos` (a customer's request to delete their data) only those orders, finished at any time.
    """
    finished: ColumnElement[bool]
    if cutoff is None:
        finished = WorkOrder.status.in_([status.value for status in FINISHED_AT])
    else:
        finished = or_(
            *(
                and_(WorkOrder.status == status.value, moment < cutoff)
                for status, moment in FINISHED_AT.items()
            )
        )
    if order_nos:
        finished = and_(finished, WorkOrder.order_no.in_(list(order_nos)))
    open_case = exists().where(
        SupervisionCase.order_id == WorkOrder.id,
        SupervisionCase.state.not_in([state.value for state in ENDED_CASE_STATES]),
    )
    pending_call = exists().where(
        CallbackTask.order_id == WorkOrder.id,
        CallbackTask.state.in_([state.value for state in ACTIVE_TASK_STATES]),
    )
    return (
        select(WorkOrder.id)
        .where(finished, WorkOrder.customer_phone != PURGED_PHONE, ~open_case, ~pending_call)
        .order_by(WorkOrder.id)
    )


def next_batch(
    session: Session,
    cutoff: datetime | None,
    after_id: int,
    size: int | None = None,
    order_nos: Sequence[str] = (),
) -> list[int]:
    """Return the next ids to purge after `after_id` (at most `size`; none when the table is done).

    Each query looks at a window of ids only: asked for "the first `size` after `after_id`" at once, a
    database may gather every purgeable row through the status index and sort them all, for every batch.
    """
    size = size or BATCH_SIZE
    last = session.scalar(select(func.max(WorkOrder.id))) or 0
    while after_id < last:
        upper = after_id + size * WINDOW_FACTOR
        query = purgeable_orders(cutoff, order_nos).where(WorkOrder.id > after_id, WorkOrder.id <= upper)
        ids = list(session.scalars(query.limit(size)))
        if ids:
            return ids
        after_id = upper
    return []


def deidentify_snapshot(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """Replace the customer's name, phone and address in an order snapshot; keep every other field."""
    if not snapshot:
        return snapshot
    return {
        key: (PERSONAL_ORDER_FIELDS[key] if key in PERSONAL_ORDER_FIELDS and value is not None else value)
        for key, value in snapshot.items()
    }


def clear_answers(answers: dict[str, Any] | None) -> dict[str, Any] | None:
    """Replace free-text answers (the comment); keep the coded ones."""
    if not answers:
        return answers
    return {
        key: (PURGED_TEXT if key in FREE_TEXT_QUESTIONS and value not in (None, "") else value)
        for key, value in answers.items()
    }


def clear_transcript(transcript: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Drop an IVR transcript's spoken text and its links to the recording (a SmartCall record_file is a
    signed link to the voice); keep when, which question, keys pressed, statuses."""
    if not transcript:
        return transcript
    return [
        {
            k: v
            for k, v in entry.items()
            if (k != "text" or entry.get("event") in CODED_TRANSCRIPT_EVENTS) and k != "source_url"
        }
        for entry in transcript
    ]


def recordings_of_orders(session: Session, order_ids: Select[int]) -> int:
    """Count the recordings of the orders' calls whose audio a purge would delete (for a dry run)."""
    return (
        session.scalar(
            select(func.count(CallRecording.id))
            .join(CallAttempt, CallRecording.attempt_id == CallAttempt.id)
            .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
            .where(
                CallbackTask.order_id.in_(order_ids),
                CallRecording.status != RecordingStatus.DELETED.value,
            )
        )
        or 0
    )


def scrub_details(details: dict[str, Any] | None) -> dict[str, Any] | None:
    """Replace personal values inside an audit event's details; None when it holds none."""
    if not details:
        return None
    changed = False
    scrubbed = dict(details)
    changes = details.get("changes")
    if isinstance(changes, dict):
        new_changes = dict(changes)
        for key, placeholder in PERSONAL_ORDER_FIELDS.items():
            if key in new_changes:
                old = new_changes[key]
                new_changes[key] = (
                    [placeholder if v is not None else None for v in old]
                    if isinstance(old, list)
                    else placeholder
                )
                changed = True
        scrubbed["changes"] = new_changes
    for key, placeholder in PERSONAL_ORDER_FIELDS.items():
        if key in details:
            scrubbed[key] = placeholder
            changed = True
    if not changed:
        return None
    return {**scrubbed, "purged": True}


def purge_orders(
    session: Session, order_ids: Sequence[int], *, now: datetime, actor: Actor, older_than_days: int | None
) -> PurgeCounts:
    """De-identify these orders and everything personal kept about them; audit one `order.purged` each."""
    counts = PurgeCounts(orders=len(order_ids), order_ids=list(order_ids))
    if not order_ids:
        return counts
    ids = list(order_ids)
    session.execute(
        update(WorkOrder)
        .where(WorkOrder.id.in_(ids))
        .values(
            customer_name=PURGED_TEXT,
            customer_phone=PURGED_PHONE,
            address=case((WorkOrder.address.is_(None), None), else_=PURGED_TEXT),
        )
        .execution_options(synchronize_session=False)
    )
    attempts = session.execute(
        select(CallAttempt.id, CallAttempt.note, CallAttempt.order_snapshot, CallAttempt.transcript)
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .where(CallbackTask.order_id.in_(ids))
    ).all()
    if attempts:
        session.execute(
            update(CallAttempt),
            [
                {
                    "id": row.id,
                    "note": None if row.note in (None, "") else PURGED_TEXT,
                    "order_snapshot": deidentify_snapshot(row.order_snapshot) or {},
                    "transcript": clear_transcript(row.transcript) or [],
                }
                for row in attempts
            ],
        )
        counts.attempts = len(attempts)
        if FREE_TEXT_QUESTIONS:
            result = session.execute(
                update(Answer)
                .where(
                    Answer.attempt_id.in_([row.id for row in attempts]),
                    Answer.question.in_(FREE_TEXT_QUESTIONS),
                )
                .values(value=PURGED_TEXT)
                .execution_options(synchronize_session=False)
            )
            counts.answers = result.rowcount or 0  # type: ignore[attr-defined]
    evidence = session.execute(
        select(CaseEvidence.id, CaseEvidence.answers, CaseEvidence.order_snapshot)
        .join(SupervisionCase, CaseEvidence.case_id == SupervisionCase.id)
        .where(SupervisionCase.order_id.in_(ids))
    ).all()
    if evidence:
        session.execute(
            update(CaseEvidence),
            [
                {
                    "id": row.id,
                    "answers": clear_answers(row.answers) or {},
                    "order_snapshot": deidentify_snapshot(row.order_snapshot) or {},
                }
                for row in evidence
            ],
        )
        counts.evidence = len(evidence)
    counts.audit_events = _scrub_audit(session, ids)
    # The customer's voice goes with their name: the recordings' audio is deleted, their hashes stay.
    counts.recordings = delete_recordings_for_orders(session, ids, now, actor=actor)
    # Why: the retention period, or (no period) the customer's request naming the order.
    reason = {"older_than_days": older_than_days} if older_than_days is not None else {"on_request": True}
    record(
        session,
        actor,
        now,
        [AuditEntry("order.purged", "work_order", order_id, reason) for order_id in ids],
    )
    return counts


def _scrub_audit(session: Session, ids: list[int]) -> int:
    """Replace personal values in the audit events about these orders; return how many changed."""
    rows = session.execute(
        select(AuditEvent.id, AuditEvent.details).where(
            AuditEvent.entity_type == "work_order", AuditEvent.entity_id.in_(ids)
        )
    ).all()
    scrubbed = [(row.id, scrub_details(row.details)) for row in rows]
    scrubbed = [(event_id, details) for event_id, details in scrubbed if details is not None]
    if not scrubbed:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # Let the append-only trigger accept this transaction's marked rewrite of `details`, and no more.
        session.execute(text("SELECT set_config('callback.audit_scrub', 'on', true)"))
    session.execute(
        update(AuditEvent), [{"id": event_id, "details": details} for event_id, details in scrubbed]
    )
    return len(scrubbed)


def cutoff_for(now: datetime, older_than_days: int) -> datetime:
    """Return the moment before which an order must have finished to be purged."""
    return now - timedelta(days=older_than_days)


def why_kept(session: Session, order_no: str) -> str | None:
    """Say why an order asked for by number cannot be purged now; None when it can."""
    order = session.scalar(select(WorkOrder).where(WorkOrder.order_no == order_no))
    if order is None:
        return "no such order"
    if order.customer_phone == PURGED_PHONE:
        return "already de-identified"
    if order.status not in {status.value for status in FINISHED_AT}:
        return f"not finished (status {order.status}): callbacks may still be due; use the do-not-call list"
    if session.scalar(purgeable_orders(None, [order_no])) is None:
        return "a supervision case about it is still open, or a callback is still to be made"
    return None
