"""Spot checks (录音抽检): scorecard versions, the weekly sample per operator, reviews and corrections."""

import hashlib
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback import cases
from callback.audit import Actor, AuditEntry, record
from callback.errors import ServiceError
from callback.findings import find
from callback.models import (
    AAPOR_CODES,
    INTERVIEW_DISPOSITIONS,
    CallAttempt,
    CaseCategory,
    CaseEvidence,
    CaseState,
    Disposition,
    Finding,
    QaReview,
    ReviewReason,
    Scorecard,
    SupervisionCase,
    TaskChannel,
)
from callback.qa.scorecard import DEFAULT_SCORECARD, ScorecardInvalid, score, validate_definition
from callback.settings import Settings
from callback.survey import validate_answers
from callback.text import has_control_characters

# Calls that opened one of these cases are always reviewed.
ALWAYS_REVIEWED = (CaseCategory.INTEGRITY.value, CaseCategory.FALSE_COMPLETION.value)
COMMENT_MAX = 2000
WITHDRAWABLE = (CaseState.OPEN.value, CaseState.INVESTIGATING.value)


class QaError(ServiceError):
    """A review or a scorecard cannot be saved as given."""


def iso_week(day: date) -> str:
    """Return the ISO week of a date as "2026-W48"."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str, settings: Settings) -> tuple[datetime, datetime]:
    """Return the UTC bounds [Monday 00:00, next Monday 00:00) of an ISO week in TIMEZONE."""
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    start = datetime.combine(monday, time(), settings.tz)
    return start, start + timedelta(days=7)


def current_scorecard(session: Session, *, now: datetime) -> Scorecard:
    """Return the latest scorecard version, storing the shipped default as version 1 when there is none."""
    latest = session.scalar(select(Scorecard).order_by(Scorecard.version.desc()).limit(1))
    if latest is not None:
        return latest
    scorecard = Scorecard(version=1, definition=DEFAULT_SCORECARD, created_at=now, created_by_id=None)
    try:
        with session.begin_nested():
            session.add(scorecard)
            session.flush()
    except IntegrityError:  # another request stored it first
        return session.scalars(select(Scorecard).order_by(Scorecard.version.desc()).limit(1)).one()
    return scorecard


def save_scorecard(session: Session, raw: Any, *, now: datetime, actor: Actor) -> Scorecard:
    """Store an edited scorecard as the next version; raise QaError(422) naming each problem."""
    try:
        definition = validate_definition(raw)
    except ScorecardInvalid as invalid:
        raise QaError(
            422,
            "invalid",
            _("The scorecard is invalid."),
            [{"field": k, "message": v} for k, v in invalid.errors.items()],
        ) from None
    latest = current_scorecard(session, now=now)
    scorecard = Scorecard(
        version=latest.version + 1, definition=definition, created_at=now, created_by_id=actor.user_id
    )
    session.add(scorecard)
    session.flush()
    record(
        session,
        actor,
        now,
        [AuditEntry("qa.scorecard_saved", "qa_scorecard", scorecard.id, {"version": scorecard.version})],
    )
    return scorecard


def _stratified(attempts: list[tuple[int, str]], n: int, seed: str) -> list[tuple[int, str]]:
    """Pick up to n (attempt id, disposition) pairs, taking from each disposition in turn. Pure."""
    rng = random.Random(hashlib.sha256(seed.encode()).hexdigest())  # noqa: S311  (sampling, not secrets)
    strata: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for item in sorted(attempts):
        strata[item[1]].append(item)
    for items in strata.values():
        rng.shuffle(items)
    order = sorted(strata, key=lambda name: (-len(strata[name]), name))
    picked: list[tuple[int, str]] = []
    while len(picked) < n and any(strata.values()):
        for name in order:
            if strata[name] and len(picked) < n:
                picked.append(strata[name].pop())
    return picked


def draw_weekly_samples(
    session: Session, *, now: datetime, settings: Settings, actor: Actor, week: str | None = None
) -> int:
    """Draw last ISO week's sample of every operator's calls for review; return how many calls were drawn.

    Per operator: every call that opened an integrity or false-completion case, then calls taken from each
    disposition in turn up to QA_SAMPLE_PER_OPERATOR. Idempotent: the draw is seeded by week and operator,
    a call is reviewed once (unique), and an operator's week already drawn is not drawn again.
    `week` ("2026-W48") draws that week instead (the demo draws its own).
    """
    week = week or iso_week(now.astimezone(settings.tz).date() - timedelta(days=7))
    start, end = week_bounds(week, settings)
    rows = session.execute(
        select(CallAttempt.id, CallAttempt.operator_id, CallAttempt.disposition).where(
            CallAttempt.channel == TaskChannel.OPERATOR.value,
            CallAttempt.operator_id.is_not(None),
            CallAttempt.disposition.is_not(None),
            CallAttempt.started_at >= start,
            CallAttempt.started_at < end,
        )
    ).all()
    if not rows:
        return 0
    case_calls = set(
        session.scalars(
            select(Finding.attempt_id).where(
                Finding.attempt_id.in_([row.id for row in rows]),
                Finding.category.in_(ALWAYS_REVIEWED),
                Finding.case_id.is_not(None),
            )
        ).all()
    )
    by_operator: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for row in rows:
        by_operator[row.operator_id].append((row.id, row.disposition))
    drawn_weeks = set(
        session.scalars(
            select(QaReview.operator_id).where(
                QaReview.week == week, QaReview.reason == ReviewReason.SAMPLE.value
            )
        ).all()
    )
    reviewed = set(
        session.scalars(
            select(QaReview.attempt_id).where(QaReview.attempt_id.in_([r.id for r in rows]))
        ).all()
    )
    drawn = 0
    for operator_id, calls in sorted(by_operator.items()):
        chosen = [(call, ReviewReason.CASE) for call in calls if call[0] in case_calls]
        if operator_id not in drawn_weeks:
            rest = [call for call in calls if call[0] not in case_calls]
            room = max(settings.qa_sample_per_operator - len(chosen), 0)
            chosen += [
                (call, ReviewReason.SAMPLE) for call in _stratified(rest, room, f"{week}:{operator_id}")
            ]
        for (attempt_id, disposition), reason in chosen:
            if attempt_id in reviewed:
                continue
            review = QaReview(
                attempt_id=attempt_id,
                operator_id=operator_id,
                week=week,
                reason=reason.value,
                stratum=disposition,
                drawn_at=now,
            )
            try:
                with session.begin_nested():
                    session.add(review)
                    session.flush()
            except IntegrityError:
                continue  # a concurrent tick drew it
            reviewed.add(attempt_id)
            drawn += 1
            record(
                session,
                actor,
                now,
                [AuditEntry("qa.drawn", "qa_review", review.id, {"attempt_id": attempt_id, "week": week})],
            )
    return drawn


def submit_review(
    session: Session,
    review_id: int,
    *,
    marks: dict[str, Any],
    comment: Any,
    corrected_disposition: Any,
    now: datetime,
    settings: Settings,
    actor: Actor,
) -> QaReview:
    """Score a sampled call on the current scorecard and, if asked, correct its disposition.

    A correction is audited and the call's findings recomputed from its answers and the order as recorded
    at the call: a new finding opens (or adds evidence to) a case; a finding that no longer holds is
    withdrawn, and its case dismissed with a note when it is still open and rests on no other call.
    """
    review = session.get(QaReview, review_id, with_for_update=True)
    if review is None:
        raise QaError(404, "not_found", _("No spot check %(id)d.", id=review_id))
    if actor.user_id == review.operator_id:
        raise QaError(403, "forbidden", _("Nobody reviews their own calls."))
    # A review scored before keeps its version (the page shows that one); a new one takes the current.
    kept = session.get(Scorecard, review.scorecard_id) if review.scorecard_id else None
    scorecard = kept or current_scorecard(session, now=now)
    errors: list[dict[str, str]] = []
    try:
        result = score(scorecard.definition, marks)
    except ScorecardInvalid as invalid:
        errors += [{"field": f"mark-{k}", "message": v} for k, v in invalid.errors.items()]
        result = None
    if comment is not None and (
        not isinstance(comment, str) or len(comment) > COMMENT_MAX or has_control_characters(comment)
    ):
        errors.append({"field": "comment", "message": _("at most %(n)d characters of text", n=COMMENT_MAX)})
    attempt = session.get(CallAttempt, review.attempt_id, with_for_update=True)
    assert attempt is not None  # noqa: S101  (foreign key)
    target: Disposition | None = None
    if corrected_disposition not in (None, "", attempt.disposition):
        if corrected_disposition not in [d.value for d in Disposition]:
            errors.append({"field": "disposition", "message": _("Choose one of the call outcomes.")})
        else:
            target = Disposition(corrected_disposition)
            if target in INTERVIEW_DISPOSITIONS:
                checked = validate_answers(
                    attempt.answer_map(), target.value, attempt.started_at.astimezone(settings.tz).date()
                )
                if isinstance(checked, list):
                    errors.append(
                        {
                            "field": "disposition",
                            "message": _("The recorded answers are not enough for this outcome."),
                        }
                    )
    if errors or result is None:
        raise QaError(422, "invalid", _("The review is incomplete."), errors)
    review.scorecard_id = scorecard.id
    review.marks = result.marks
    review.score = result.score
    review.max_score = result.max_score
    review.passed = result.passed
    review.instant_fail = result.instant_fail
    review.comment = (comment or "").strip() or None
    review.reviewer_id = actor.user_id
    review.reviewed_at = now
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                "qa.reviewed",
                "qa_review",
                review.id,
                {
                    "attempt_id": attempt.id,
                    "scorecard_version": scorecard.version,
                    "score": result.score,
                    "passed": result.passed,
                    "instant_fail": result.failed_items,
                },
            )
        ],
    )
    if target is not None:
        correct_disposition(session, review, attempt, target, now=now, settings=settings, actor=actor)
    session.flush()
    return review


def correct_disposition(
    session: Session,
    review: QaReview,
    attempt: CallAttempt,
    target: Disposition,
    *,
    now: datetime,
    settings: Settings,
    actor: Actor,
) -> None:
    """Give a reviewed call its right disposition and recompute its findings (the task stays as it is)."""
    previous = attempt.disposition
    attempt.disposition = target.value
    attempt.aapor_code = AAPOR_CODES[target]
    review.corrected_from = previous
    review.corrected_to = target.value
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                "attempt.disposition_corrected",
                "call_attempt",
                attempt.id,
                {"from": previous, "to": target.value, "review_id": review.id},
            )
        ],
    )
    answers = attempt.answer_map()
    verdicts = (
        find(answers, attempt.order_snapshot, attempt.task.kind, settings)
        if target in INTERVIEW_DISPOSITIONS
        else []
    )
    existing = session.scalars(select(Finding).where(Finding.attempt_id == attempt.id)).all()
    held = {finding.category for finding in existing}
    wanted = {verdict.category for verdict in verdicts}
    new = [verdict for verdict in verdicts if verdict.category not in held]
    if new:
        cases.act_on_findings(
            session,
            attempt.task.order,
            attempt,
            new,
            answers=answers,
            now=now,
            actor=actor,
            settings=settings,
        )
    for finding in existing:
        if finding.category not in wanted:
            _withdraw(session, finding, review, now=now, settings=settings, actor=actor)


def _withdraw(
    session: Session, finding: Finding, review: QaReview, *, now: datetime, settings: Settings, actor: Actor
) -> None:
    """Withdraw a finding the corrected call no longer supports; dismiss its case if nothing else holds it.

    A case already past investigation keeps its evidence: the audit trail says the finding is contested.
    """
    case_id = finding.case_id
    case = session.get(SupervisionCase, case_id) if case_id is not None else None
    details = {
        "review_id": review.id,
        "case_id": case_id,
        "category": finding.category,
        "reason": finding.reason,
        "detail": finding.detail,
    }
    if case is not None and case.state not in WITHDRAWABLE:
        record(session, actor, now, [AuditEntry("finding.contested", "finding", finding.id, details)])
        return
    record(session, actor, now, [AuditEntry("finding.withdrawn", "finding", finding.id, details)])
    session.execute(CaseEvidence.__table__.delete().where(CaseEvidence.finding_id == finding.id))
    session.delete(finding)
    session.flush()
    if case is None:
        return
    others = session.scalar(select(func.count()).select_from(Finding).where(Finding.case_id == case.id))
    if others:
        return
    cases.transition(
        session,
        case.id,
        to=CaseState.DISMISSED.value,
        note=_("Withdrawn after the spot check of call %(id)d corrected its outcome.", id=review.attempt_id),
        now=now,
        settings=settings,
        actor=actor,
    )
