"""Supervision cases: the only module that opens cases or moves them (contract 4.3)."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, jsonable, record
from callback.errors import ServiceError
from callback.findings import Verdict
from callback.models import (
    ENDED_CASE_STATES,
    CallAttempt,
    CaseCategory,
    CaseEvent,
    CaseEvidence,
    CaseState,
    Finding,
    LetterSequence,
    Penalty,
    Role,
    SupervisionCase,
    User,
    WorkOrder,
)
from callback.settings import Settings
from callback.text import has_control_characters

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
    verdicts: Sequence[Verdict],
    *,
    answers: dict[str, Any],
    now: datetime,
    actor: Actor,
    settings: Settings,
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
        case, is_new = _case_for_finding(
            session, order, verdict.category, now=now, actor=actor, settings=settings
        )
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
    session: Session, order: WorkOrder, category: str, *, now: datetime, actor: Actor, settings: Settings
) -> tuple[SupervisionCase, bool]:
    """Return the open case of this order and category, opening one if there is none."""
    existing = open_case_for(session, order.id, category)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            case = _new_case(
                session, order, category, description=None, now=now, actor=actor, settings=settings
            )
    except IntegrityError:
        # A concurrent finding opened it first (the partial unique index said so): add to that one.
        existing = open_case_for(session, order.id, category)
        if existing is None:
            raise
        return existing, False
    return case, True


def _new_case(
    session: Session,
    order: WorkOrder,
    category: str,
    *,
    description: str | None,
    now: datetime,
    actor: Actor,
    settings: Settings,
) -> SupervisionCase:
    case = SupervisionCase(
        order_id=order.id,
        category=category,
        # Kept equal to the order's by intake (callback.intake.service): the case list filters on these.
        service_center=order.service_center,
        account_manager=order.account_manager,
        state=CaseState.OPEN.value,
        description=description,
        opened_at=now,
        due_at=settings.calendar.add_workdays(now, settings.case_sla_workdays, settings.tz),
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
    assignee_id: int | None = None,
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
            assignee_id=assignee_id,
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


class CaseError(ServiceError):
    """A case cannot move as asked."""


# The only moves a case can make (contract 4.3); anything else is a 409.
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.INVESTIGATING, CaseState.DISMISSED}),
    CaseState.INVESTIGATING: frozenset({CaseState.LETTER_ISSUED, CaseState.DISMISSED}),
    CaseState.LETTER_ISSUED: frozenset({CaseState.RECTIFIED}),
    CaseState.RECTIFIED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
    CaseState.DISMISSED: frozenset(),
}
NOTE_REQUIRED = frozenset({CaseState.CLOSED, CaseState.DISMISSED})
HAND_OPENED_DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
PERSON_MAX = 50
MAX_PENALTY_YUAN = Decimal("1000000")


def _text(value: Any, field: str, limit: int, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CaseError(
                422,
                "invalid",
                _("%(field)s is required", field=field),
                [{"field": field, "message": _("is required")}],
            )
        return None
    if not isinstance(value, str) or len(value.strip()) > limit or has_control_characters(value):
        message = _("must be text of at most %(limit)d characters, without control characters", limit=limit)
        raise CaseError(422, "invalid", f"{field} {message}", [{"field": field, "message": message}])
    return value.strip()


def allowed_moves(case: SupervisionCase) -> list[str]:
    """List the states the case may move to now, in workflow order."""
    return [state.value for state in CaseState if state in TRANSITIONS[CaseState(case.state)]]


def is_overdue(case: SupervisionCase, now: datetime) -> bool:
    """Tell whether a case still being worked has passed its SLA."""
    return case.state not in {s.value for s in ENDED_CASE_STATES} and now > case.due_at


def get_case(session: Session, case_id: int, *, for_update: bool = False) -> SupervisionCase:
    """Return the case or raise 404."""
    case = session.get(
        SupervisionCase, case_id, with_for_update=for_update or None, populate_existing=for_update
    )
    if case is None:
        raise CaseError(404, "not_found", _("No case %(id)d.", id=case_id))
    return case


def find_order(session: Session, order_no: str) -> WorkOrder | None:
    """Find an order by the number a person typed: exactly, else ignoring case and surrounding spaces.

    Numbers are stored as the marketing system sent them (`GD-2026-0001`); a supervisor typing
    `gd-2026-0001` means that order. When two stored numbers differ only in case, only the exact one counts.
    """
    typed = order_no.strip()
    exact = session.scalar(select(WorkOrder).where(WorkOrder.order_no == typed))
    if exact is not None or not typed:
        return exact
    alike = session.scalars(
        select(WorkOrder).where(func.upper(WorkOrder.order_no) == typed.upper()).limit(2)
    ).all()
    return alike[0] if len(alike) == 1 else None


def open_case_by_hand(
    session: Session,
    *,
    order_no: Any,
    category: Any,
    description: Any,
    now: datetime,
    settings: Settings,
    actor: Actor,
) -> SupervisionCase:
    """Open a case a supervisor found (site inspection, a complaint); one open case per order and category."""
    details = []
    if category not in [c.value for c in CaseCategory]:  # lists: JSON may send unhashable values
        details.append(
            {"field": "category", "message": _("must be one of %(choices)s", choices=", ".join(CaseCategory))}
        )
    order = find_order(session, order_no) if isinstance(order_no, str) else None
    if order is None:
        details.append({"field": "order_no", "message": _("no such work order")})
    if details or order is None:
        raise CaseError(422, "invalid", _("The case cannot be opened."), details)
    text = _text(description, "description", HAND_OPENED_DESCRIPTION_MAX, required=True)
    existing = open_case_for(session, order.id, category)
    if existing is not None:
        raise CaseError(
            409,
            "case_already_open",
            _("Case %(id)d of this order and category is still open.", id=existing.id),
        )
    try:
        with session.begin_nested():
            case = _new_case(
                session, order, category, description=text, now=now, actor=actor, settings=settings
            )
    except IntegrityError:
        raise CaseError(
            409, "case_already_open", _("A case of this order and category is already open.")
        ) from None
    return case


def transition(
    session: Session,
    case_id: int,
    *,
    to: Any,
    note: Any,
    now: datetime,
    settings: Settings,
    actor: Actor,
    requirements: Any = None,
    deadline: Any = None,
) -> SupervisionCase:
    """Move a case along its workflow; issuing the letter numbers it."""
    case = get_case(session, case_id, for_update=True)
    if to not in [s.value for s in CaseState]:
        raise CaseError(
            422,
            "invalid",
            _("Unknown state."),
            [{"field": "to", "message": _("must be one of %(choices)s", choices=", ".join(CaseState))}],
        )
    target = CaseState(to)
    if target not in TRANSITIONS[CaseState(case.state)]:
        raise CaseError(
            409,
            "invalid_transition",
            _("A case cannot move from %(current)s to %(target)s.", current=case.state, target=target.value),
        )
    clean_note = _text(note, "note", NOTE_MAX, required=target in NOTE_REQUIRED)
    from_state = case.state
    if target is CaseState.LETTER_ISSUED:
        case.letter_requirements = _text(requirements, "requirements", NOTE_MAX, required=False)
        case.letter_deadline = _deadline(deadline, now, settings)
        case.letter_no = next_letter_number(session, now.astimezone(settings.tz).year, settings.letter_prefix)
        case.letter_issued_at = now
    if target in NOTE_REQUIRED:
        case.closed_at = now
    case.state = target.value
    case.updated_at = now
    _log(session, case, "moved", actor, now, from_state=from_state, to_state=target.value, note=clean_note)
    return case


def _deadline(value: Any, now: datetime, settings: Settings) -> date:
    """Read the rectification deadline (default: 10 working days from issue)."""
    if value in (None, ""):
        days = settings.rectification_days
        return settings.calendar.add_workdays(now, days, settings.tz).astimezone(settings.tz).date()
    try:
        deadline = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        deadline = None
    if deadline is None or deadline < now.astimezone(settings.tz).date():
        message = _("must be a date (YYYY-MM-DD) not in the past")
        raise CaseError(422, "invalid", f"deadline {message}", [{"field": "deadline", "message": message}])
    return deadline


def next_letter_number(session: Session, year: int, prefix: str) -> str:
    """Take the next letter number of the year, safely under concurrency (e.g. JD-2026-0001)."""
    bumped = session.scalar(
        update(LetterSequence)
        .where(LetterSequence.year == year)
        .values(last_number=LetterSequence.last_number + 1)
        .returning(LetterSequence.last_number)
        .execution_options(synchronize_session=False)
    )
    if bumped is None:
        try:
            with session.begin_nested():
                session.add(LetterSequence(year=year, last_number=1))
            bumped = 1
        except IntegrityError:  # another issuer created the year's row first
            return next_letter_number(session, year, prefix)
    return f"{prefix}-{year}-{bumped:04d}"


def _refuse_if_ended(case: SupervisionCase) -> None:
    """Refuse to change a closed or dismissed case: it takes no more penalties, assignments or referrals."""
    if case.state in {state.value for state in ENDED_CASE_STATES}:
        raise CaseError(409, "case_ended", _("This case is finished; it can no longer be changed."))


def add_penalty(
    session: Session,
    case_id: int,
    *,
    person: Any,
    amount_yuan: Any,
    reason: Any,
    now: datetime,
    actor: Actor,
    form_token: str | None = None,
) -> Penalty:
    """Record a 考核 on a case whose letter has been issued.

    With a `form_token` (one per rendered form) the same form sent again returns the penalty it recorded
    the first time and records nothing: a double click never penalises twice.
    """
    case = get_case(session, case_id, for_update=True)
    _refuse_if_ended(case)
    token = form_token.strip()[:64] if isinstance(form_token, str) and form_token.strip() else None
    if token is not None:
        earlier = session.scalar(
            select(Penalty).where(Penalty.case_id == case.id, Penalty.form_token == token)
        )
        if earlier is not None:
            return earlier
    if case.letter_issued_at is None or case.state == CaseState.DISMISSED:
        raise CaseError(
            409, "letter_not_issued", _("Penalties are recorded once the supervision letter is issued.")
        )
    name = _text(person, "person", PERSON_MAX, required=True)
    why = _text(reason, "reason", NOTE_MAX, required=True)
    amount = _amount(amount_yuan)
    penalty = Penalty(
        case_id=case.id,
        person=name,
        amount_yuan=amount,
        reason=why,
        recorded_at=now,
        recorded_by_id=actor.user_id,
        form_token=token,
    )
    session.add(penalty)
    session.flush()
    case.updated_at = now
    _log(session, case, "penalty", actor, now, note=f"{name}: {amount} 元 — {why}")
    return penalty


def _amount(value: Any) -> Decimal:
    message = _(
        "must be an amount in yuan above 0 and at most %(limit)s, with at most 2 decimals",
        limit=MAX_PENALTY_YUAN,
    )
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CaseError(
            422, "invalid", f"amount_yuan {message}", [{"field": "amount_yuan", "message": message}]
        )
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal(-1)
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_PENALTY_YUAN
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise CaseError(
            422, "invalid", f"amount_yuan {message}", [{"field": "amount_yuan", "message": message}]
        )
    return amount.quantize(Decimal("0.01"))


def refer_to_discipline(
    session: Session, case_id: int, *, note: Any, now: datetime, actor: Actor
) -> SupervisionCase:
    """Refer a case to discipline inspection (纪检)."""
    case = get_case(session, case_id, for_update=True)
    _refuse_if_ended(case)
    if case.referred_to_discipline:
        raise CaseError(
            409, "already_referred", _("This case has already been referred to discipline inspection.")
        )
    clean_note = _text(note, "note", NOTE_MAX, required=False)
    case.referred_to_discipline = True
    case.referred_at = now
    case.updated_at = now
    _log(session, case, "referred", actor, now, note=clean_note)
    return case


def assign(
    session: Session, case_id: int, *, assignee_id: int | None, now: datetime, actor: Actor
) -> SupervisionCase:
    """Give a case to a supervisor (or take it back with None)."""
    case = get_case(session, case_id, for_update=True)
    _refuse_if_ended(case)
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.has_role(Role.SUPERVISOR, Role.ADMIN):
            message = _("must be a supervisor or an administrator")
            raise CaseError(
                422, "invalid", f"assignee {message}", [{"field": "assignee_id", "message": message}]
            )
    case.assignee_id = assignee_id
    case.updated_at = now
    _log(
        session,
        case,
        "assigned",
        actor,
        now,
        note=str(assignee_id) if assignee_id else None,
        assignee_id=assignee_id,
    )
    if assignee_id is not None and assignee_id != actor.user_id:
        from callback.notifications import notify_assigned  # the bell of the new assignee (issue 12)

        notify_assigned(session, case, now=now)
    return case


def may_note(user: User, case: SupervisionCase) -> bool:
    """Tell whether a user may add notes and attachments: supervisors, admins; inspectors on referred ones."""
    if user.has_role(Role.SUPERVISOR, Role.ADMIN):
        return True
    return user.has_role(Role.DISCIPLINE) and case.referred_to_discipline


def add_note(
    session: Session, case_id: int, *, text: Any, user: User, now: datetime, actor: Actor
) -> CaseEvent:
    """Add a note to a case at any time, whatever its state (an investigation goes on after closing)."""
    case = get_case(session, case_id)
    if not may_note(user, case):
        raise CaseError(403, "forbidden", _("You may not add notes to this case."))
    clean = _text(text, "note", NOTE_MAX, required=True)
    case.updated_at = now
    _log(session, case, "note", actor, now, note=clean)
    return _last_event(session, case)


def _last_event(session: Session, case: SupervisionCase) -> CaseEvent:
    session.flush()
    return session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc()).limit(1)
    ).one()
