"""Spot checks of calls (录音抽检): the review queue, a review, the scorecard editor, the operator's own
scores, and the score report under reports."""

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.labels import DISPOSITION, answer_text, question_text
from callback.models import CallAttempt, QaReview, Role, Scorecard, User
from callback.qa import QaError, current_scorecard, iso_week, save_scorecard, submit_review
from callback.qa.reports import score_report
from callback.settings import current_settings
from callback.survey import QUESTIONNAIRE
from callback.web.auth import roles_required
from callback.web.paging import paginate

bp = Blueprint("qa", __name__)
REVIEWERS = (Role.SUPERVISOR, Role.ADMIN)
PER_PAGE = 50
REPORT_WEEKS = 12
EXTRA_ROWS = 3


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def item_label(item: dict[str, Any]) -> str:
    """Return a scorecard item's label in the current language."""
    label: str = (item.get("label_en") or item["label_zh"]) if _english() else item["label_zh"]
    return label


@bp.context_processor
def qa_helpers() -> dict[str, Any]:
    return {"item_label": item_label}


@bp.get("/qa/")
@roles_required(*REVIEWERS)
def index() -> str:
    """List the calls drawn for review, those still to score first."""
    state = request.args.get("state", "pending")
    query = select(QaReview)
    if state == "pending":
        query = query.where(QaReview.reviewed_at.is_(None))
    elif state == "done":
        query = query.where(QaReview.reviewed_at.is_not(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    shown = paginate(query.order_by(QaReview.week.desc(), QaReview.id), total=total, per_page=PER_PAGE)
    names = dict(db.session.execute(select(User.id, User.username)).all())
    return render_template(
        "qa/index.html",
        reviews=shown.items,
        names=names,
        state=state,
        page=shown.page,
        pages=shown.pages,
        total=total,
    )


def _render_review(
    review: QaReview, *, errors: dict[str, str] | None = None, values: Any = None, status: int = 200
) -> tuple[str, int]:
    attempt = db.session.get(CallAttempt, review.attempt_id)
    assert attempt is not None  # noqa: S101  (foreign key)
    used = db.session.get(Scorecard, review.scorecard_id) if review.scorecard_id else None
    scorecard = used or current_scorecard(db.session, now=utcnow())
    db.session.commit()  # the default scorecard, stored on first use
    names = dict(db.session.execute(select(User.id, User.username)).all())
    return render_template(
        "qa/review.html",
        review=review,
        attempt=attempt,
        order=attempt.task.order,
        answers=attempt.answer_map(),
        questionnaire=QUESTIONNAIRE,
        question_text=question_text,
        answer_text=answer_text,
        scorecard=scorecard,
        names=names,
        dispositions=DISPOSITION,
        errors=errors or {},
        values=values if values is not None else (review.marks or {}),
    ), status


@bp.get("/qa/reviews/<int:review_id>")
@roles_required(*REVIEWERS)
def review(review_id: int) -> tuple[str, int]:
    """Show a sampled call: recording, answers, the scorecard to fill in, the outcome to correct."""
    found = db.session.get(QaReview, review_id)
    if found is None:
        abort(404)
    return _render_review(found)


@bp.post("/qa/reviews/<int:review_id>")
@roles_required(*REVIEWERS)
def score_review(review_id: int) -> Response | tuple[str, int]:
    """Save the review's scores and any corrected outcome; show the form again with each problem."""
    found = db.session.get(QaReview, review_id)
    if found is None:
        abort(404)
    marks = {
        key.removeprefix("mark-"): value for key, value in request.form.items() if key.startswith("mark-")
    }
    try:
        submit_review(
            db.session,
            review_id,
            marks=marks,
            comment=request.form.get("comment"),
            corrected_disposition=request.form.get("disposition") or None,
            now=utcnow(),
            settings=current_settings(),
            actor=Actor(user_id=current_user.id),
        )
    except QaError as error:
        db.session.rollback()
        if error.status in (403, 404):
            abort(error.status)
        found = db.session.get(QaReview, review_id)
        if found is None:
            abort(404)  # deleted meanwhile
        problems = {detail["field"]: detail["message"] for detail in error.details}
        flash(error.message, "danger")
        return _render_review(found, errors=problems, values=marks, status=422)
    db.session.commit()
    flash(_("The spot check is saved."), "success")
    return redirect(url_for("qa.review", review_id=review_id))


def _definition_from_form(form: Any) -> dict[str, Any]:
    items = []
    index = 0
    while f"item-{index}-code" in form:
        code = form.get(f"item-{index}-code", "").strip()
        if code:
            items.append(
                {
                    "code": code,
                    "label_zh": form.get(f"item-{index}-label_zh", ""),
                    "label_en": form.get(f"item-{index}-label_en", ""),
                    "points": form.get(f"item-{index}-points", "").strip(),
                    "instant_fail": form.get(f"item-{index}-instant_fail") == "on",
                }
            )
        index += 1
    return {"pass_mark": form.get("pass_mark", "").strip(), "items": items}


@bp.route("/qa/scorecard", methods=["GET", "POST"])
@roles_required(*REVIEWERS)
def scorecard() -> Response | tuple[str, int]:
    """Edit the scorecard: saving stores a new version; earlier reviews keep theirs."""
    now = utcnow()
    errors: dict[str, str] = {}
    definition = None
    if request.method == "POST":
        definition = _definition_from_form(request.form)
        try:
            saved = save_scorecard(db.session, definition, now=now, actor=Actor(user_id=current_user.id))
        except QaError as error:
            db.session.rollback()
            errors = {detail["field"]: detail["message"] for detail in error.details}
        else:
            db.session.commit()
            flash(_("Scorecard version %(version)d is saved.", version=saved.version), "success")
            return redirect(url_for("qa.scorecard"))
    latest = current_scorecard(db.session, now=now)
    db.session.commit()
    versions = db.session.scalars(select(Scorecard).order_by(Scorecard.version.desc()).limit(20)).all()
    shown = definition or latest.definition
    return render_template(
        "qa/scorecard.html",
        latest=latest,
        versions=versions,
        definition=shown,
        extra_rows=EXTRA_ROWS,
        errors=errors,
    ), 422 if errors else 200


def _recent_weeks(count: int) -> list[str]:
    today = utcnow().astimezone(current_settings().tz).date()
    return [iso_week(today - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]


@bp.get("/qa/mine")
@roles_required(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
def mine() -> str:
    """Show the signed-in operator's own spot-check scores."""
    reviews = db.session.scalars(
        select(QaReview)
        .where(QaReview.operator_id == current_user.id, QaReview.reviewed_at.is_not(None))
        .order_by(QaReview.reviewed_at.desc())
        .limit(100)
    ).all()
    scorecards = {s.id: s for s in db.session.scalars(select(Scorecard)).all()}
    report = score_report(db.session, _recent_weeks(REPORT_WEEKS), operator_id=current_user.id)
    return render_template("qa/mine.html", reviews=reviews, scorecards=scorecards, report=report)


@bp.get("/reports/spot-checks")
@roles_required(*REVIEWERS)
def report() -> str:
    """Show spot-check scores per operator and per service centre over the last weeks, with a trend line."""
    weeks = _recent_weeks(REPORT_WEEKS)
    data = score_report(db.session, weeks)
    chart = {
        "weeks": weeks,
        "series": [
            {"name": line.name, "data": [line.average(week) for week in weeks]} for line in data.centres
        ],
        "labels": {"score": _("Average score (%)")},
    }
    return render_template("qa/report.html", report=data, chart=chart)
