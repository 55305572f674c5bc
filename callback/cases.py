"""Supervision cases: the only module that opens cases or moves them (contract 4.3)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback import findings as rules
from callback.audit import Actor, AuditEntry, jsonable, record
from callback.models import (
    ENDED_CASE_STATES,
    CallAttempt,
    CaseCategory,
    CaseEvent,
    CaseEvidence,
    CaseState,
    Finding,
    SupervisionCase,
    WorkOrder,
)

# Integrity problems go to discipline inspection (纪检) the moment they are found.
REFERRED_AT_ONCE = frozenset({CaseCategory.INTEGRITY.value})


def open_case_for(session: Session, order_id: int, category: str) -> SupervisionCase | None:
    """Return the case of this order and category that is still being worked, if any."""
    return session.scalar(
        select(SupervisionCase).where(
            SupervisionCase.order_id == order_id,
            SupervisionCase.category == category,
            SupervisionCase.state.not_in([state.value for state in ENDED_CASE_STATES]),
        )
    )


def act_on_findings(
    session: Session,
    order: WorkOrder,
    attempt: CallAttempt,
    verdicts: Sequence[rules.Finding],
    *,
    answers: dict[str, Any],
    now: datetime,
    actor: Actor,
) -> tuple[list[Finding], list[SupervisionCase]]:
    """Store each finding and file it: a new case, or evidence on the open case of its category."""
    stored: list[Finding] = []
    opened: list[SupervisionCase] = []
    for verdict in verdicts:
        finding = Finding(
            attempt_id=attempt.id,
            category=verdict.category,
            reason=verdict.reason,
            detail=verdict.detail,
            found_at=now,
        )
        session.add(finding)
        session.flush()
        case, is_new = _case_for_finding(session, order, verdict.category, now=now, actor=actor)
        finding.case_id = case.id
        session.add(
            CaseEvidence(
                case_id=case.id,
                attempt_id=attempt.id,
                finding_id=finding.id,
                answers=answers,
                order_snapshot=attempt.order_snapshot,
                detail={"reason": verdict.reason, **verdict.detail},
                added_at=now,
            )
        )
        if not is_new:
            _log(session, case, "evidence_added", actor, now, note=f"finding {finding.id}")
        stored.append(finding)
        if is_new:
            opened.append(case)
    return stored, opened


def _case_for_finding(
    session: Session, order: WorkOrder, category: str, *, now: datetime, actor: Actor
) -> tuple[SupervisionCase, bool]:
    """Return the open case of this order and category, opening one if there is none."""
    existing = open_case_for(session, order.id, category)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            case = _new_case(session, order.id, category, description=None, now=now, actor=actor)
    except IntegrityError:
        # A concurrent finding opened it first (the partial unique index said so): add to that one.
        existing = open_case_for(session, order.id, category)
        if existing is None:
            raise
        return existing, False
    return case, True


def _new_case(
    session: Session, order_id: int, category: str, *, description: str | None, now: datetime, actor: Actor
) -> SupervisionCase:
    case = SupervisionCase(
        order_id=order_id,
        category=category,
        state=CaseState.OPEN.value,
        description=description,
        opened_at=now,
        opened_by_id=actor.user_id,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    _log(session, case, "opened", actor, now, to_state=CaseState.OPEN.value)
    if category in REFERRED_AT_ONCE:
        case.referred_to_discipline = True
        case.referred_at = now
        _log(session, case, "referred", actor, now, note="integrity finding: referred at once")
    return case


def _log(
    session: Session,
    case: SupervisionCase,
    action: str,
    actor: Actor,
    now: datetime,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str | None = None,
) -> None:
    """Add a line to the case's history and the audit trail."""
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor_id=actor.user_id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            note=note,
        )
    )
    record(
        session,
        actor,
        now,
        [AuditEntry(f"case.{action}", "supervision_case", case.id, {"from": from_state, "to": to_state})],
    )


def snapshot_json(order: WorkOrder) -> dict[str, Any]:
    """Return the order's current record in a JSON-safe form."""
    return {name: jsonable(value) for name, value in order.snapshot().items()}
