"""Supervisor workspace: cases, evidence, transitions, letters, penalties, referrals (issue 4).

Every change goes through callback.cases; a refusal (CaseError) comes back as a message on the form, never a
5xx. Discipline inspectors read referred cases only, and change nothing.
"""

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response

from callback import cases
from callback.audit import Actor
from callback.case_filter import CaseFilter
from callback.cases import CaseError
from callback.clock import utcnow
from callback.extensions import db
from callback.finding_reasons import mismatched_fields, reasons_of
from callback.labels import ANSWER, answer_text, label, question_text
from callback.models import (
    ENDED_CASE_STATES,
    CallAttempt,
    CaseCategory,
    CaseEvidence,
    CaseState,
    Role,
    SupervisionCase,
    User,
    WorkOrder,
)
from callback.settings import current_settings
from callback.survey import QUESTIONNAIRE
from callback.web import case_list
from callback.web.auth import roles_required
from callback.web.case_forms import (
    AssignForm,
    OpenCaseForm,
    PenaltyForm,
    ReferralForm,
    TransitionForm,
    show_refusal,
)
from callback.web.index_walk import distinct_values
from callback.web.paging import MAX_ID, paginate, whole_number

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50
CASE_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)
CASE_WORKERS = (Role.SUPERVISOR, Role.ADMIN)
ENDED = [state.value for state in ENDED_CASE_STATES]

# Short names of the answers, so they line up with the recorded fields (the full question shows on hover).
ANSWER_NAMES: dict[str, Any] = ANSWER

# The recorded fields shown beside the answers, in the order of the order's life.
RECORD_FIELDS: dict[str, Any] = {
    "status": _l("System status"),
    "ledger": _l("Ledger"),
    "accepted_at": _l("Accepted at"),
    "surveyed_at": _l("Surveyed at"),
    "construction_at": _l("Construction started at"),
    "connected_at": _l("Connected at"),
    "archived_at": _l("Archived at"),
    "due_at": _l("System due date"),
}


@dataclass(frozen=True)
class Line:
    """One line of a side of the evidence: what it is, its value as shown, and whether it disagrees."""

    code: str
    name: str
    value: str
    mismatch: bool
    hint: str = ""


@dataclass(frozen=True)
class EvidenceView:
    item: CaseEvidence
    attempt: CallAttempt | None
    operator: str | None
    reasons: list[str]
    said: list[Line]
    recorded: list[Line]


def _answer_text(code: str, value: Any) -> str:
    return "—" if value in (None, "") else answer_text(code, value)


def _recorded_text(field: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if field == "status":
        return label("status", value)
    if field == "ledger":
        return label("ledger", value)
    if field.endswith("_at") and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(current_settings().tz)
        return moment.strftime("%Y-%m-%d %H:%M")
    return str(value)


def evidence_views(case: SupervisionCase, usernames: Mapping[int, str]) -> list[EvidenceView]:
    """Lay each piece of evidence out as the customer's account beside the system's record."""
    attempt_ids = [item.attempt_id for item in case.evidence if item.attempt_id is not None]
    attempts = (
        {a.id: a for a in db.session.scalars(select(CallAttempt).where(CallAttempt.id.in_(attempt_ids)))}
        if attempt_ids
        else {}
    )
    views = []
    for item in case.evidence:
        reasons = reasons_of(item.detail or {}, case.category)
        said_codes, recorded_fields = mismatched_fields(reasons)
        answers = item.answers or {}
        said = [
            Line(
                question.code,
                str(ANSWER_NAMES.get(question.code, question.code)),
                _answer_text(question.code, answers[question.code]),
                question.code in said_codes,
                hint=question_text(question),
            )
            for question in QUESTIONNAIRE
            if question.code in answers
        ]
        snapshot = item.order_snapshot or {}
        recorded = [
            Line(field, str(name), _recorded_text(field, snapshot.get(field)), field in recorded_fields)
            for field, name in RECORD_FIELDS.items()
        ]
        attempt = attempts.get(item.attempt_id) if item.attempt_id else None
        operator = usernames.get(attempt.operator_id) if attempt and attempt.operator_id else None
        views.append(EvidenceView(item, attempt, operator, reasons, said, recorded))
    return views


def _usernames(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def _can_work() -> bool:
    can: bool = current_user.has_role(*CASE_WORKERS)
    return can


# Sorts by a column of the case itself (None: the default order), which need no order to pick a page; the
# centre and manager sorts read the case's copy (callback.web.case_list.SORTS).
CASE_OWN_SORTS = {
    None,
    "id",
    "category",
    "state",
    "opened_at",
    "due_at",
    "letter_no",
    "service_center",
    "account_manager",
}


def _visible(*, join_orders: bool = True) -> Select[SupervisionCase]:
    """Select the cases the user may see: discipline inspectors see referred cases only."""
    query = select(SupervisionCase)
    if join_orders:
        query = query.join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
    if not _can_work():
        query = query.where(SupervisionCase.referred_to_discipline.is_(True))
    return query


def _case_or_404(case_id: int) -> SupervisionCase:
    found = db.session.scalar(_visible().where(SupervisionCase.id == case_id))
    if found is None:
        abort(404)
    return found


def days_overdue(case: SupervisionCase, now: datetime) -> int:
    """Count the calendar days a case still being worked is past its SLA (0 when it is not)."""
    if not cases.is_overdue(case, now):
        return 0
    tz = current_settings().tz
    return max((now.astimezone(tz).date() - case.due_at.astimezone(tz).date()).days, 1)


def _flag(name: str) -> bool:
    return request.args.get(name) in ("1", "true", "on")


def _date_arg(name: str) -> date | None:
    """Read a local date filter (YYYY-MM-DD); anything else is ignored, as the date picker cannot send it."""
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/")
@roles_required(*CASE_READERS)
def index() -> str:
    """List cases with filters, counts by state, and the overdue ones marked."""
    now = utcnow()
    query = _visible()
    state = request.args.get("state") or None
    state = state if state in {s.value for s in CaseState} else None
    category = request.args.get("category") or None
    category = category if category in {c.value for c in CaseCategory} else None
    center = (request.args.get("service_center") or "").strip() or None
    manager = (request.args.get("account_manager") or "").strip() or None
    assignee = request.args.get("assignee") if request.args.get("assignee") in ("me", "none") else None
    overdue, referred = _flag("overdue"), _flag("referred")
    # The case desk (issue 12): text search, "still being worked", a sortable column.
    search = case_list.search_text()
    if search:
        query = query.where(case_list.search_clause(search))
    sort, direction = case_list.sort_args()
    case_filter = CaseFilter(
        state=state,
        category=category,
        service_center=center,
        account_manager=manager,
        assignee_id=current_user.id if assignee == "me" else None,
        unassigned=assignee == "none",
        overdue=overdue,
        referred=referred,
        active=_flag("active"),
        opened_from=_date_arg("opened_from"),
        opened_to=_date_arg("opened_to"),
    )
    tz = current_settings().tz
    query = case_filter.where(query, now=now, tz=tz, with_state=False)
    # Counts by state under the other filters, so each count is what clicking it shows. Every case has its
    # order (a foreign key, not null) and a copy of its centre and manager, so unless the search reads the
    # order the counts need not join the orders: they are read from the cases alone
    # (ix_supervision_cases_state_category, or ..._service_center_state / ..._account_manager_state).
    counted_cases = (
        query if search else case_filter.where(_visible(join_orders=False), now=now, tz=tz, with_state=False)
    )
    counted = counted_cases.with_only_columns(SupervisionCase.state, func.count()).group_by(
        SupervisionCase.state
    )
    counts: dict[str, int] = dict(db.session.execute(counted).all())
    if state:
        query = query.where(SupervisionCase.state == state)  # the one filter the counts leave open
    # The list's total is the count of its state (or of all states): no second count.
    total = counts.get(state, 0) if state else sum(counts.values())
    ordering = case_list.order_clauses(sort, direction) or [
        sql_case((SupervisionCase.state.in_(ENDED), 1), else_=0),
        SupervisionCase.due_at,
        SupervisionCase.id,
    ]
    if not search and sort in CASE_OWN_SORTS:
        # Pick the page's cases from the cases alone, then join their few orders: joining every case to its
        # order first made PostgreSQL read all the orders (a hash join over a million rows) to show fifty.
        case_ids = (
            case_filter.where(_visible(join_orders=False), now=now, tz=tz)
            .with_only_columns(SupervisionCase.id)
            .order_by(*ordering)
        )
        shown = paginate(
            case_ids,
            total=total,
            per_page=PER_PAGE,
            rows=lambda page_ids: db.session.scalars(
                query.where(SupervisionCase.id.in_(page_ids.scalar_subquery()))
                .order_by(*ordering)
                .options(contains_eager(SupervisionCase.order))
            ),
        )
    else:
        shown = paginate(
            query.order_by(*ordering).options(contains_eager(SupervisionCase.order)),
            total=total,
            per_page=PER_PAGE,
        )
    rows = shown.items
    centers, managers = _filter_choices()
    filters = {
        "state": state,
        "category": category,
        "service_center": center,
        "account_manager": manager,
        "assignee": assignee,
        "overdue": "1" if overdue else None,
        "referred": "1" if referred else None,
        "opened_from": case_filter.opened_from.isoformat() if case_filter.opened_from else None,
        "opened_to": case_filter.opened_to.isoformat() if case_filter.opened_to else None,
        "q": search or None,
        "active": "1" if case_filter.active else None,
        "sort": sort,
        "dir": direction if sort else None,
    }
    return render_template(
        "cases/index.html",
        cases=rows,
        total=total,
        page=shown.page,
        pages=shown.pages,
        counts=counts,
        states=[s.value for s in CaseState],
        categories=[c.value for c in CaseCategory],
        centers=centers,
        managers=managers,
        filters=filters,
        overdue_days={row.id: days_overdue(row, now) for row in rows},
        usernames=_usernames(row.assignee_id for row in rows),
        can_work=_can_work(),
        groups=case_list.group_by_order(list(rows)),
        order_case_counts=case_list.case_counts_of_orders(_visible(), list({row.order_id for row in rows})),
        supervisors=_supervisors() if _can_work() else [],
    )


def _filter_choices() -> tuple[list[str], list[str]]:
    """Return the service centres and account managers the list's filters offer, each in order.

    Those who work cases are offered every centre and manager of the orders, each list read by walking its
    index (one seek per name): the centres and managers of the orders that have cases took a join of every
    case to its order (a hash join over a million orders). Discipline inspectors, who see only the cases
    referred to them, are offered the centres and managers of those cases alone (the cases' copies).
    """
    if _can_work():
        return distinct_values(WorkOrder.service_center), distinct_values(WorkOrder.account_manager)
    visible_cases = _visible(join_orders=False).with_only_columns(
        SupervisionCase.service_center, SupervisionCase.account_manager
    )
    pairs = db.session.execute(visible_cases.distinct()).all()
    return (
        sorted({center for center, _manager in pairs if center}),
        sorted({manager for _center, manager in pairs if manager}),
    )


def _supervisors() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([Role.SUPERVISOR.value, Role.ADMIN.value]), User.active.is_(True))
            .order_by(User.username)
        )
    )


def shortcut_keys(moves: Iterable[str], *, has_letter: bool) -> list[tuple[str, str]]:
    """List the keys that act on this case now: one per allowed move, and `p` once a letter exists."""
    words = {
        CaseState.INVESTIGATING.value: ("i", _("investigate")),
        CaseState.LETTER_ISSUED.value: ("l", _("write the letter")),
        CaseState.RECTIFIED.value: ("r", _("rectified")),
        CaseState.CLOSED.value: ("c", _("close")),
        CaseState.DISMISSED.value: ("d", _("dismiss")),
    }
    keys = [words[move] for move in moves if move in words]
    if has_letter:
        keys.append(("p", _("print the letter")))
    return [*keys, ("?", _("show shortcuts"))] if keys else []


def _render_detail(case: SupervisionCase, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    now = utcnow()
    usernames = _usernames(
        [case.assignee_id, case.opened_by_id]
        + [event.actor_id for event in case.history]
        + [penalty.recorded_by_id for penalty in case.penalties]
        + [event.assignee_id for event in case.history if event.assignee_id is not None]
    )
    attempt_operators = [
        a.operator_id
        for a in db.session.scalars(
            select(CallAttempt).where(
                CallAttempt.id.in_([item.attempt_id for item in case.evidence if item.attempt_id])
            )
        )
    ]
    usernames |= _usernames(attempt_operators)
    moves = cases.allowed_moves(case) if _can_work() else []
    ended = case.state in ENDED
    forms.setdefault("transition_form", TransitionForm())
    forms.setdefault("assign_form", AssignForm())
    forms.setdefault("penalty_form", PenaltyForm())
    forms.setdefault("referral_form", ReferralForm())
    html = render_template(
        "cases/detail.html",
        case=case,
        order=case.order,
        evidence=evidence_views(case, usernames),
        usernames=usernames,
        moves=moves,
        overdue_days=days_overdue(case, now),
        can_work=_can_work(),
        penalties_open=case.letter_issued_at is not None and not ended,
        ended=ended,
        penalty_token=secrets.token_urlsafe(16),
        shortcut_keys=shortcut_keys(moves, has_letter=case.letter_no is not None),
        supervisors=_supervisors() if _can_work() else [],
        default_deadline=current_settings()
        .calendar.add_workdays(now, 10, current_settings().tz)
        .astimezone(current_settings().tz)
        .date(),
        **forms,
    )
    return html, status


@bp.get("/<int:case_id>")
@roles_required(*CASE_READERS)
def detail(case_id: int) -> tuple[str, int]:
    """Show one case: the order, the evidence side by side, the history, and what can be done next."""
    return _render_detail(_case_or_404(case_id))


def _actor() -> Actor:
    return Actor(user_id=current_user.id, source="web")


def _act(
    case_id: int, form_name: str, form: FlaskForm, action: Callable[[], object], done: str
) -> Response | tuple[str, int]:
    """Run one service call on a case from a posted form; show a refusal on the form, else go back."""
    _case_or_404(case_id)
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for(".detail", case_id=case_id))
    try:
        action()
    except CaseError as error:
        db.session.rollback()
        if error.status == 404:
            abort(404)
        flash(show_refusal(form, error), "danger")
        return _render_detail(_case_or_404(case_id), error.status, **{form_name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".detail", case_id=case_id))


@bp.post("/<int:case_id>/transition")
@roles_required(*CASE_WORKERS)
def move(case_id: int) -> Response | tuple[str, int]:
    """Move the case to the state of the button pressed."""
    form = TransitionForm()
    target = form.to.data or ""
    is_letter = target == CaseState.LETTER_ISSUED
    return _act(
        case_id,
        "transition_form",
        form,
        lambda: cases.transition(
            db.session,
            case_id,
            to=target,
            note=form.note.data,
            requirements=form.requirements.data if is_letter else None,
            deadline=(form.deadline.data or None) if is_letter else None,
            now=utcnow(),
            settings=current_settings(),
            actor=_actor(),
        ),
        _("The case is now: %(state)s.", state=label("case_state", target)),
    )


@bp.post("/<int:case_id>/assign")
@roles_required(*CASE_WORKERS)
def assign(case_id: int) -> Response | tuple[str, int]:
    """Give the case to a supervisor, or to nobody."""
    form = AssignForm()
    raw = (form.assignee_id.data or "").strip()
    assignee_id = whole_number(raw, MAX_ID)
    if raw and assignee_id is None:
        assignee_id = -1  # not a user id: let the service refuse it like any unknown user
    return _act(
        case_id,
        "assign_form",
        form,
        lambda: cases.assign(db.session, case_id, assignee_id=assignee_id, now=utcnow(), actor=_actor()),
        _("The assignment is saved."),
    )


@bp.post("/<int:case_id>/penalties")
@roles_required(*CASE_WORKERS)
def add_penalty(case_id: int) -> Response | tuple[str, int]:
    """Record a penalty (考核) on the case."""
    form = PenaltyForm()
    return _act(
        case_id,
        "penalty_form",
        form,
        lambda: cases.add_penalty(
            db.session,
            case_id,
            person=form.person.data,
            amount_yuan=(form.amount_yuan.data or "").strip() or None,
            reason=form.reason.data,
            now=utcnow(),
            actor=_actor(),
            form_token=request.form.get("form_token"),
        ),
        _("The penalty is recorded."),
    )


@bp.post("/<int:case_id>/referral")
@roles_required(*CASE_WORKERS)
def refer(case_id: int) -> Response | tuple[str, int]:
    """Refer the case to discipline inspection (纪检)."""
    form = ReferralForm()
    return _act(
        case_id,
        "referral_form",
        form,
        lambda: cases.refer_to_discipline(
            db.session, case_id, note=form.note.data, now=utcnow(), actor=_actor()
        ),
        _("The case is referred to discipline inspection."),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*CASE_WORKERS)
def new() -> Response | tuple[str, int]:
    """Open a case by hand: a site inspection or a complaint found it."""
    form = OpenCaseForm()
    if request.method == "GET":
        form.order_no.data = request.args.get("order_no", "")
        return render_template("cases/new.html", form=form, categories=[c.value for c in CaseCategory]), 200
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for(".new"))
    order_no = (form.order_no.data or "").strip()
    try:
        opened = cases.open_case_by_hand(
            db.session,
            order_no=order_no,
            category=form.category.data,
            description=form.description.data,
            now=utcnow(),
            settings=current_settings(),
            actor=_actor(),
        )
    except CaseError as error:
        db.session.rollback()
        flash(show_refusal(form, error), "danger")
        existing = None
        if error.code == "case_already_open":
            order = cases.find_order(db.session, order_no)
            category = form.category.data
            existing = cases.open_case_for(db.session, order.id, category) if order and category else None
        html = render_template(
            "cases/new.html", form=form, categories=[c.value for c in CaseCategory], existing=existing
        )
        return html, error.status
    db.session.commit()
    flash(_("Case %(id)d is open.", id=opened.id), "success")
    return redirect(url_for(".detail", case_id=opened.id))


@bp.get("/<int:case_id>/letter")
@roles_required(*CASE_READERS)
def letter(case_id: int) -> Response | str:
    """Show the 业务监督意见书 of the case, ready to print on A4."""
    case = _case_or_404(case_id)
    if case.letter_no is None:
        flash(_("The supervision letter of this case has not been issued yet."), "warning")
        return redirect(url_for(".detail", case_id=case_id))
    settings = current_settings()
    issued_on: date = case.letter_issued_at.astimezone(settings.tz).date()  # type: ignore[union-attr]
    return render_template(
        "cases/letter.html",
        case=case,
        order=case.order,
        evidence=evidence_views(case, _usernames([])),
        issuer=settings.letter_issuer,
        issued_on=issued_on,
    )


@bp.app_template_global()
def cases_of_order(order: WorkOrder) -> list[SupervisionCase]:
    """Return the cases of one order that the signed-in user may see, newest first (for the order page)."""
    if not current_user.is_authenticated or not current_user.has_role(*CASE_READERS):
        return []
    return list(
        db.session.scalars(
            _visible().where(SupervisionCase.order_id == order.id).order_by(SupervisionCase.id.desc())
        )
    )
