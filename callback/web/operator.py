"""Operator workspace: the callback queue, the call screen and the questionnaire (issue 3).

The views are thin: the worklist claims, releases and records; the views read the form, commit at the
boundary and show the outcome. The call screen and its actions belong to the claim's holder alone.
"""

import math
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import LazyString, ngettext, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from callback.audit import Actor, AuditEntry, record
from callback.call_slots import slots_tried
from callback.clock import utcnow
from callback.extensions import db
from callback.labels import answer_text, finding_sentences, is_chinese, label, question_text
from callback.messaging import FollowupError, request_followup
from callback.models import (
    INTERVIEW_DISPOSITIONS,
    AuditEvent,
    CallAttempt,
    CallbackTask,
    Disposition,
    Role,
    SmsFollowup,
    SupervisionCase,
    TaskChannel,
    TaskKind,
    TaskState,
    User,
)
from callback.settings import Settings, current_settings
from callback.survey import QUESTIONNAIRE, AnswerIs, Question
from callback.web.auth import roles_required
from callback.web.filters import localtime
from callback.web.operator_forms import (
    ANSWER_PREFIX,
    DISPOSITION_EFFECTS,
    DISPOSITION_KEYS,
    CallForm,
    field_errors,
    field_name,
    read_call_form,
)
from callback.workdays import CallingHours
from callback.worklist import (
    WorklistError,
    appointment_condition,
    current_claim,
    held_task,
    record_attempt,
    release,
)
from callback.worklist import claim as take_claim

bp = Blueprint("operator", __name__, url_prefix="/operator")
OPERATORS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
# Supervisors and admins may read any operator's call result; an operator only their own.
RESULT_READERS = (Role.SUPERVISOR, Role.ADMIN)
# Who may open a case page (callback.web.cases); operators see the case's number only.
CASE_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)
UPCOMING_LIMIT = 8
# Each queue count stops here; beyond, the page says "1,000+" (a count reads at most this many tasks).
QUEUE_COUNT_CAP = 1_000

# The opening line of the script, by task kind: who is calling and why.
OPENINGS: dict[str, LazyString] = {
    TaskKind.INTAKE: _l(
        "Hello, I am a callback agent of the State Grid power supply company's customer service centre. "
        "I would like to ask how your application for electricity is going. It takes about two minutes; "
        "is now a good time?"
    ),
    TaskKind.DUE_DATE: _l(
        "Hello, I am a callback agent of the State Grid power supply company's customer service centre. "
        "Your application for electricity is due to be connected about now, and I would like to ask how the "
        "work on site is going. It takes about two minutes; is now a good time?"
    ),
    TaskKind.COMPLETION: _l(
        "Hello, I am a callback agent of the State Grid power supply company's customer service centre. "
        "Our records show your electricity has been connected, and I would like to ask how it went. "
        "It takes about two minutes; is now a good time?"
    ),
}

# The due-date opening once the system's time limit has passed: never "due about now" after the date.
OPENING_OVERDUE: LazyString = _l(
    "Hello, I am a callback agent of the State Grid power supply company's customer service centre. "
    "The time limit for connecting your electricity was %(due)s, and I would like to ask how the work on "
    "site is going. It takes about two minutes; is now a good time?"
)


def _now() -> datetime:
    return utcnow()


def answer_options(question: Question) -> list[tuple[str, str, str]]:
    """Return (form value, label, key) for each option of a question answered by picking one."""
    if question.type == "boolean":
        return [("true", _("Yes"), "1"), ("false", _("No"), "2")]
    return [(str(c.value), c.zh if is_chinese() else c.en, c.key) for c in question.choices]


def client_condition(question: Question) -> tuple[str, str] | None:
    """Return (form field, form value) that makes a question apply, for the page's script to follow."""
    condition = question.asked_when
    if not isinstance(condition, AnswerIs):
        return None
    value = condition.value
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return ANSWER_PREFIX + condition.code, text


@bp.context_processor
def operator_helpers() -> dict[str, Any]:
    """Give the operator's templates the questionnaire and its wording helpers."""
    return {
        "questionnaire": QUESTIONNAIRE,
        "question_text": question_text,
        "answer_options": answer_options,
        "answer_text": answer_text,
        "field_name": field_name,
        # "Do not call" has its own button (客户要求不再回访), apart from the call's outcomes.
        "dispositions": [d.value for d in Disposition if d is not Disposition.DO_NOT_CALL],
        "interview_dispositions": {d.value for d in INTERVIEW_DISPOSITIONS},
        "disposition_keys": DISPOSITION_KEYS,
        "disposition_effects": DISPOSITION_EFFECTS,
        "condition_of": client_condition,
        "case_url": case_url,
    }


def case_url(case_id: int) -> str | None:
    """Return the supervisor's page of a case for users who may open it.

    Operators may not read cases: for them the case is named, not linked (a link would end in a 403).
    """
    if not current_user.has_role(*CASE_READERS):
        return None
    return url_for("cases.detail", case_id=case_id)


def _hours_text(hours: CallingHours) -> str:
    """Return calling hours as "08:00–20:00"."""
    return f"{hours.start // 60:02d}:{hours.start % 60:02d}–{hours.end // 60:02d}:{hours.end % 60:02d}"


def _minutes_left(until: datetime | None, now: datetime) -> int:
    """Return whole minutes (rounded up) until a moment, never below zero."""
    if until is None:
        return 0
    return max(math.ceil((until - now).total_seconds() / 60), 0)


def _capped_count(*conditions: ColumnElement[bool]) -> Any:
    """Return a scalar subquery counting the tasks that match, reading at most QUEUE_COUNT_CAP + 1 of them."""
    first = select(literal(1)).select_from(CallbackTask).where(*conditions).limit(QUEUE_COUNT_CAP + 1)
    return select(func.count()).select_from(first.subquery()).scalar_subquery()


def _queue_figures(now: datetime, settings: Settings) -> dict[str, Any]:
    """Count the operators' tasks: workable by kind, waiting (appointments, retries, later), in progress.

    Each count stops at QUEUE_COUNT_CAP (the page then says "1,000+"), all in one statement. Workable tasks
    of a kind are one range of ix_callback_tasks_queue (open tasks by channel, kind and time): such a count
    reads at most QUEUE_COUNT_CAP + 1 entries however long the queue grows. The tasks whose time is to come
    are the ranges after `now` of the same index, told apart by the columns it carries (no table rows read);
    a rare reason may read every waiting entry before it stops. The appointments a colleague still holds
    come from their owner's index (PostgreSQL; SQLite, which has no statistics, reads the open tasks for that
    one count). The attempt history is never read: each task carries its last disposition.
    """
    user_id = current_user.id
    operator_open = (
        CallbackTask.state == TaskState.OPEN.value,
        CallbackTask.channel == TaskChannel.OPERATOR.value,
    )
    waiting_kind = case(
        (CallbackTask.last_disposition == Disposition.CALLBACK_REQUESTED.value, "appointment"),
        (CallbackTask.attempt_count > 0, "retry"),
        else_="later",
    ).label("waiting_kind")
    # The same three reasons as waiting_kind, as conditions (a NULL disposition is no appointment).
    is_appointment = CallbackTask.last_disposition == Disposition.CALLBACK_REQUESTED.value
    no_appointment = or_(
        CallbackTask.last_disposition.is_(None),
        CallbackTask.last_disposition != Disposition.CALLBACK_REQUESTED.value,
    )
    reasons = {
        "appointment": is_appointment,
        "retry": and_(no_appointment, CallbackTask.attempt_count > 0),
        "later": and_(no_appointment, CallbackTask.attempt_count <= 0),
    }
    kinds = [kind.value for kind in TaskKind]
    # A waiting task's time is still to come, or it is an appointment a colleague booked and still holds
    # (issue 12). PostgreSQL: every kind named, so that the future is one range of ix_callback_tasks_queue per
    # kind, read from the index alone. SQLite, without statistics, would read every open task for it: there
    # the `waiting` mark (set whenever a task's time is to come) narrows it to the waiting ones.
    future: tuple[ColumnElement[bool], ...] = (*operator_open, CallbackTask.not_before > now)
    if db.session.get_bind().dialect.name == "postgresql":
        future += (CallbackTask.kind.in_(kinds),)
    else:
        future += (CallbackTask.waiting == true(),)
    held_by_colleague = (
        *operator_open,
        CallbackTask.appointment_owner_id.is_not(None),
        CallbackTask.appointment_owner_id != user_id,
        CallbackTask.not_before <= now,
        CallbackTask.not_before > now - timedelta(minutes=settings.appointment_owner_minutes),
    )
    workable_counts = [
        _capped_count(
            *operator_open,
            CallbackTask.kind == kind,
            CallbackTask.not_before <= now,
            appointment_condition(now, user_id, settings.appointment_owner_minutes),
        )
        for kind in kinds
    ]
    # A colleague's held appointment is an appointment: booking one (预约回访) sets both its owner and its
    # disposition, and any other outcome clears the owner (worklist.attempts).
    waiting_counts = [_capped_count(*future, condition) for condition in reasons.values()]
    held = _capped_count(*held_by_colleague)
    counted = db.session.execute(select(*workable_counts, *waiting_counts, held)).one()
    workable = dict(zip(kinds, counted[: len(kinds)], strict=True))
    waiting = dict(zip(reasons, counted[len(kinds) : len(kinds) + len(reasons)], strict=True))
    waiting["appointment"] += counted[-1]
    upcoming = db.session.execute(
        select(CallbackTask, waiting_kind)
        # The next few from ix_callback_tasks_waiting, in time order (a task whose time is to come is marked
        # `waiting`, see CallbackTask.waiting).
        .where(*operator_open, CallbackTask.waiting == true(), CallbackTask.not_before > now)
        .order_by(CallbackTask.not_before, CallbackTask.id)
        .limit(UPCOMING_LIMIT)
        .options(joinedload(CallbackTask.order))
    ).all()
    in_progress = (
        db.session.scalar(
            select(func.count()).where(
                CallbackTask.state == TaskState.CLAIMED.value,
                CallbackTask.lease_expires_at > now,
                CallbackTask.lease_owner_id != user_id,
            )
        )
        or 0
    )
    return {
        "workable": workable,
        "workable_total": sum(workable.values()),
        "waiting": waiting,
        "waiting_total": sum(waiting.values()),
        "upcoming": upcoming,
        "in_progress": in_progress,
        "cap": QUEUE_COUNT_CAP,
    }


@bp.get("/")
@roles_required(*OPERATORS)
def queue() -> str:
    """Show the queue: what can be called now, what waits, the operator's own claim, and the next button."""
    now = _now()
    settings = current_settings()
    claim = current_claim(db.session, current_user.id, now=now)
    in_hours = settings.calling_hours.contains(now, settings.tz)
    return render_template(
        "operator/queue.html",
        figures=_queue_figures(now, settings),
        claim=claim,
        claim_minutes_left=_minutes_left(claim.lease_expires_at if claim else None, now),
        in_hours=in_hours,
        calling_hours=_hours_text(settings.calling_hours),
        lease_minutes=settings.lease_minutes,
        next_open=None if in_hours else settings.calling_hours.next_open(now, settings.tz),
    )


@bp.post("/next")
@roles_required(*OPERATORS)
def next_callback() -> Response:
    """Claim the most urgent workable task and open its call screen; go back to a live claim first."""
    now = _now()
    settings = current_settings()
    taken = take_claim(db.session, current_user.id, now=now, settings=settings)
    db.session.commit()
    if taken.already_held and taken.task is not None:
        flash(_("You are still on this callback; finish or release it first."), "info")
        return redirect(url_for("operator.call", task_id=taken.task.id))
    if taken.task is None and not settings.calling_hours.contains(now, settings.tz):
        flash(
            _(
                "It is outside calling hours (%(hours)s): customers may not be called now. "
                "Calls resume at %(next)s.",
                hours=_hours_text(settings.calling_hours),
                next=localtime(settings.calling_hours.next_open(now, settings.tz)),
            ),
            "warning",
        )
        return redirect(url_for("operator.queue"))
    if taken.task is None:
        flash(_("No callback can be made right now: the queue is empty or waiting for later."), "info")
        return redirect(url_for("operator.queue"))
    return redirect(url_for("operator.call", task_id=taken.task.id))


def _refused(error: WorklistError) -> tuple[str, int]:
    """Answer a request about a task the user does not hold, without showing the customer."""
    db.session.rollback()
    if error.status == 404:
        message = _("There is no such callback task.")
    elif error.code == "lease_expired":
        message = _("Your claim on this callback has expired; take the next callback again.")
    else:
        message = _("This callback is not yours: only the operator who took it may open it.")
    if request.headers.get("HX-Request"):
        return render_template("operator/_refused_inline.html", message=message), error.status
    return render_template("operator/refused.html", status=error.status, message=message), error.status


def opening_line(task: CallbackTask, now: datetime) -> str:
    """Return the script's opening for this callback; a due-date call after the due date says so."""
    if task.kind == TaskKind.DUE_DATE and task.order.due_at < now:
        return str(OPENING_OVERDUE) % {"due": localtime(task.order.due_at, "%Y-%m-%d")}
    return str(OPENINGS.get(task.kind, OPENINGS[TaskKind.INTAKE]))


def lateness(task: CallbackTask, now: datetime) -> str | None:
    """Say how late the callback is past its window (due_by), in hours or days; None while it is on time."""
    if task.due_by >= now:
        return None
    hours = math.ceil((now - task.due_by).total_seconds() / 3600)
    if hours < 24:
        return ngettext("%(num)d hour late", "%(num)d hours late", hours)
    return ngettext("%(num)d day late", "%(num)d days late", hours // 24)


def revealed_in_this_claim(task: CallbackTask, user_id: int) -> bool:
    """Tell whether the user already showed the number during this claim (so it stays shown on reload)."""
    claimed = db.session.scalar(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.action == "task.claimed",
            AuditEvent.entity_type == "callback_task",
            AuditEvent.entity_id == task.id,
        )
    )
    if claimed is None:
        return False
    return (
        db.session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.action == "task.phone_revealed",
                AuditEvent.entity_type == "callback_task",
                AuditEvent.entity_id == task.id,
                AuditEvent.actor_id == user_id,
                AuditEvent.id > claimed,
            )
            .limit(1)
        )
        is not None
    )


def _saved_result(task_id: int) -> Response | None:
    """Return to the result of a call this user just saved (Back or a resent form), instead of a 409."""
    task = db.session.get(CallbackTask, task_id)
    if task is None or (task.state == TaskState.CLAIMED.value and task.lease_owner_id == current_user.id):
        return None
    last = db.session.scalar(
        select(CallAttempt).where(CallAttempt.task_id == task_id).order_by(CallAttempt.id.desc()).limit(1)
    )
    if last is None or last.operator_id != current_user.id:
        return None
    flash(_("This call is already saved; here is its result."), "info")
    return redirect(url_for("operator.result", attempt_id=last.id))


def _render_call(
    task: CallbackTask,
    *,
    form: CallForm | None = None,
    errors: dict[str, str] | None = None,
    revealed: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    """Render the call screen for the claim's holder."""
    now = _now()
    settings = current_settings()
    attempts = db.session.scalars(
        select(CallAttempt).where(CallAttempt.task_id == task.id).order_by(CallAttempt.id)
    ).all()
    operator_names = dict(
        db.session.execute(
            select(User.id, User.username).where(
                User.id.in_({a.operator_id for a in attempts if a.operator_id})
            )
        ).all()
    )
    tried = slots_tried((attempt.slot for attempt in attempts), settings.call_slots)
    errors = errors or {}
    from callback.web.history import history_rows  # issue 12 (history imports this module's helpers)

    return render_template(
        "operator/call.html",
        history=history_rows(task.order),
        greeting=_(
            "May I speak to %(customer)s? I am calling about your application, work order %(order_no)s, "
            "which our system shows at the stage: %(stage)s.",
            customer=task.order.customer_name,
            order_no=task.order.order_no,
            stage=label("status", task.order.status),
        ),
        # Seconds since the claim was taken (its lease's start), by the server's clock: the page counts on.
        call_elapsed=max(
            int(
                (
                    now - (task.lease_expires_at or now) + timedelta(minutes=settings.lease_minutes)
                ).total_seconds()
            ),
            0,
        ),
        task=task,
        order=task.order,
        attempts=attempts,
        operator_names=operator_names,
        opening=opening_line(task, now),
        late=lateness(task, now),
        values=form.raw if form else {},
        errors=errors,
        first_error=next(iter(errors), None),
        revealed=revealed or revealed_in_this_claim(task, current_user.id),
        minutes_left=_minutes_left(task.lease_expires_at, now),
        appointment_min=now.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M"),
        followup=db.session.scalar(select(SmsFollowup).where(SmsFollowup.task_id == task.id)),
        sms_enabled=settings.sms_followup,
        slots_tried=tried,
        slots_untried=pgettext("list separator", ", ").join(
            label("call_slot", slot.name) for slot in settings.call_slots if slot.name not in dict(tried)
        ),
    ), status


@bp.get("/tasks/<int:task_id>")
@roles_required(*OPERATORS)
def call(task_id: int) -> Response | tuple[str, int]:
    """Show the call screen: customer, timeline, earlier attempts, script and questionnaire."""
    try:
        task = held_task(db.session, task_id, current_user.id, now=_now())
    except WorklistError as error:
        db.session.rollback()
        return _saved_result(task_id) or _refused(error)
    html, status = _render_call(task)
    # Not kept by the browser: Back after saving asks the server again (and lands on the saved result),
    # and the customer's details do not linger in the cache.
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tasks/<int:task_id>/reveal")
@roles_required(*OPERATORS)
def reveal(task_id: int) -> tuple[str, int]:
    """Show the customer's full number to the claim's holder, and write that down in the audit trail."""
    now = _now()
    try:
        task = held_task(db.session, task_id, current_user.id, now=now)
    except WorklistError as error:
        return _refused(error)
    record(
        db.session,
        Actor(user_id=current_user.id),
        now,
        [AuditEntry("task.phone_revealed", "callback_task", task.id, {"order_id": task.order_id})],
    )
    db.session.commit()
    if request.headers.get("HX-Request"):
        return render_template("operator/_phone.html", order=task.order, revealed=True), 200
    return _render_call(task, revealed=True)


@bp.post("/tasks/<int:task_id>/attempts")
@roles_required(*OPERATORS)
def record_call(task_id: int) -> Response | tuple[str, int]:
    """Record the call; show the result, or the form again with each problem beside its field."""
    form = read_call_form(request.form)
    try:
        outcome = record_attempt(
            db.session,
            task_id,
            current_user.id,
            disposition=form.disposition,
            answers=form.answers,
            callback_at=form.callback_at,
            note=form.note,
            now=_now(),
            settings=current_settings(),
        )
    except WorklistError as error:
        if error.status != 422:
            db.session.rollback()
            return _saved_result(task_id) or _refused(error)
        db.session.rollback()
        try:
            task = held_task(db.session, task_id, current_user.id, now=_now())
        except WorklistError as lost:  # the claim ran out meanwhile
            return _refused(lost)
        return _render_call(task, form=form, errors=field_errors(error.details), status=422)
    db.session.commit()
    return redirect(url_for("operator.result", attempt_id=outcome.attempt.id))


@bp.post("/tasks/<int:task_id>/do-not-call")
@roles_required(*OPERATORS)
def do_not_call(task_id: int) -> Response | tuple[str, int]:
    """The customer asked never to be called again: end the task as do_not_call and list the number."""
    note = (request.form.get("dnc_note") or "").strip() or None
    try:
        outcome = record_attempt(
            db.session,
            task_id,
            current_user.id,
            disposition=Disposition.DO_NOT_CALL.value,
            answers=None,
            callback_at=None,
            note=note,
            now=_now(),
            settings=current_settings(),
        )
    except WorklistError as error:
        if error.status != 422:
            return _refused(error)
        db.session.rollback()
        task = held_task(db.session, task_id, current_user.id, now=_now())
        return _render_call(task, errors=field_errors(error.details), status=422)
    db.session.commit()
    flash(_("The customer will not be called again: the number is on the do-not-call list."), "success")
    return redirect(url_for("operator.result", attempt_id=outcome.attempt.id))


@bp.post("/tasks/<int:task_id>/release")
@roles_required(*OPERATORS)
def release_task(task_id: int) -> Response | tuple[str, int]:
    """Hand the task back to the queue."""
    try:
        release(db.session, task_id, current_user.id, now=_now())
    except WorklistError as error:
        return _refused(error)
    db.session.commit()
    flash(_("The callback is back in the queue."), "info")
    return redirect(url_for("operator.queue"))


@bp.post("/tasks/<int:task_id>/sms")
@roles_required(*OPERATORS)
def request_sms(task_id: int) -> Response | tuple[str, int]:
    """Queue the follow-up message the customer asked for; `tick` sends it, paced."""
    try:
        request_followup(db.session, task_id, current_user.id, now=_now(), settings=current_settings())
    except FollowupError as error:
        db.session.rollback()
        flash(error.message, "warning")
        return redirect(url_for("operator.call", task_id=task_id))
    except WorklistError as error:
        return _refused(error)
    db.session.commit()
    flash(_("The message inviting the customer to call the hotline will be sent shortly."), "success")
    return redirect(url_for("operator.call", task_id=task_id))


@bp.get("/attempts/<int:attempt_id>")
@roles_required(*OPERATORS)
def result(attempt_id: int) -> str:
    """Show a recorded call: the task's new state, the findings its answers produced, the cases opened."""
    attempt = db.session.get(CallAttempt, attempt_id)
    if attempt is None:
        abort(404)
    if attempt.operator_id != current_user.id and not current_user.has_role(*RESULT_READERS):
        abort(403)
    findings = []
    for finding in attempt.findings:
        case_ = db.session.get(SupervisionCase, finding.case_id) if finding.case_id else None
        is_new = bool(case_ and case_.evidence and case_.evidence[0].attempt_id == attempt.id)
        findings.append(
            {"finding": finding, "case": case_, "is_new": is_new, "reasons": finding_sentences(finding)}
        )
    return render_template(
        "operator/result.html",
        attempt=attempt,
        task=attempt.task,
        order=attempt.task.order,
        answers=attempt.answer_map(),
        findings=findings,
        cases_opened=[f["case"] for f in findings if f["is_new"]],
    )
