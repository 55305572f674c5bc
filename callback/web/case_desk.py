"""The case desk (issue 12): saved filters, bulk actions, notes and attachments.

The case list's search, sort and grouping are in callback.web.case_list; the rest are this blueprint's own
routes under /cases. Every change still goes through callback.cases (or
callback.attachments), case by case, with that service's own rules and audit.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField, TextAreaField

from callback import attachments, cases
from callback.audit import Actor
from callback.cases import NOTE_MAX, CaseError
from callback.clock import utcnow
from callback.extensions import csrf, db
from callback.labels import label
from callback.models import (
    ENDED_CASE_STATES,
    CaseAttachment,
    CaseState,
    SavedFilter,
    SupervisionCase,
    User,
    WorkOrder,
)
from callback.settings import current_settings
from callback.web.auth import roles_required
from callback.web.case_list import SEARCH_MAX
from callback.web.cases import CASE_READERS, CASE_WORKERS, _case_or_404
from callback.web.private_files import send_private_file

bp = Blueprint("case_desk", __name__, url_prefix="/cases")
BULK_MAX = 200
FILTER_NAME_MAX = 60
SAVED_FILTERS_MAX = 30
FORM_OVERHEAD_BYTES = 64 * 1024
ENDED = [state.value for state in ENDED_CASE_STATES]
# The list's parameters a saved filter keeps (the case list's own filters, the search and the sort).
FILTER_PARAMS = (
    "q",
    "state",
    "category",
    "service_center",
    "account_manager",
    "assignee",
    "overdue",
    "active",
    "referred",
    "opened_from",
    "opened_to",
    "sort",
    "dir",
)


@dataclass(frozen=True)
class QuickFilter:
    name: str
    params: dict[str, str]
    id: int | None = None
    hint: str | None = None


def quick_filters(user: User) -> list[QuickFilter]:
    """The built-in filters, then the user's own saved ones."""
    built_in = [QuickFilter(_("My open cases"), {"assignee": "me", "active": "1"})]
    if user.service_center:
        built_in.append(
            QuickFilter(_("Overdue in my centre"), {"overdue": "1", "service_center": user.service_center})
        )
    else:
        built_in.append(
            QuickFilter(
                _("Overdue in my centre"),
                {},
                hint=_("Your service centre is not set; an administrator sets it on your user page."),
            )
        )
    own = db.session.scalars(
        select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name)
    )
    return built_in + [QuickFilter(item.name, dict(item.params), id=item.id) for item in own]


def filter_url(params: dict[str, str]) -> str:
    return url_for("cases.index") + ("?" + urlencode(params) if params else "")


class SaveFilterForm(FlaskForm):
    name = StringField(_l("Name of this filter"), render_kw={"maxlength": FILTER_NAME_MAX})
    params = HiddenField()


class DeleteFilterForm(FlaskForm):
    pass


class BulkForm(FlaskForm):
    action = HiddenField()
    assignee_id = StringField(_l("Assignee"))
    to = StringField(_l("Move to"))
    note = TextAreaField(_l("Note"), render_kw={"rows": 2, "maxlength": NOTE_MAX})


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note"), render_kw={"rows": 3, "maxlength": NOTE_MAX})


class AttachmentForm(FlaskForm):
    file = FileField(_l("Photo or scanned report"))


def _actor() -> Actor:
    return Actor(user_id=current_user.id, source="web")


def clean_filter_params(raw: str) -> dict[str, str]:
    """Keep the whitelisted list parameters of a query string (what a saved filter stores)."""
    from urllib.parse import parse_qsl

    kept = {}
    for key, value in parse_qsl(raw[:2000], keep_blank_values=False):
        if key in FILTER_PARAMS and value and len(value) <= SEARCH_MAX and value.isprintable():
            kept[key] = value
    return kept


@bp.post("/filters")
@roles_required(*CASE_READERS)
def save_filter() -> Response:
    """Save the list's current filters under a name of the user's choosing."""
    form = SaveFilterForm()
    params = clean_filter_params(form.params.data or "")
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(filter_url(params))
    name = (form.name.data or "").strip()
    if not name or len(name) > FILTER_NAME_MAX or not name.isprintable():
        flash(_("Give the filter a name of at most %(n)d characters.", n=FILTER_NAME_MAX), "danger")
        return redirect(filter_url(params))
    if not params:
        flash(_("Choose some filters before saving them."), "warning")
        return redirect(filter_url(params))
    mine = select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == current_user.id)
    if (db.session.scalar(mine) or 0) >= SAVED_FILTERS_MAX:
        flash(_("You have %(n)d saved filters; delete one first.", n=SAVED_FILTERS_MAX), "warning")
        return redirect(filter_url(params))
    existing = db.session.scalar(
        select(SavedFilter).where(SavedFilter.user_id == current_user.id, SavedFilter.name == name)
    )
    if existing is not None:
        existing.params = params
    else:
        db.session.add(SavedFilter(user_id=current_user.id, name=name, params=params, created_at=utcnow()))
    db.session.commit()
    flash(_("The filter “%(name)s” is saved.", name=name), "success")
    return redirect(filter_url(params))


@bp.post("/filters/<int:filter_id>/delete")
@roles_required(*CASE_READERS)
def delete_filter(filter_id: int) -> Response:
    """Delete one of the user's own saved filters."""
    form = DeleteFilterForm()
    saved = db.session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != current_user.id:
        abort(404)
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for("cases.index"))
    db.session.delete(saved)
    db.session.commit()
    flash(_("The filter is deleted."), "success")
    return redirect(url_for("cases.index"))


@dataclass
class BulkResult:
    case_id: int
    order_no: str
    ok: bool
    message: str


BULK_ACTIONS = ("assign", "move", "dismiss")


def _bulk_one(case_id: int, form: BulkForm, action: str) -> None:
    now, settings, actor = utcnow(), current_settings(), _actor()
    if action == "assign":
        raw = (form.assignee_id.data or "").strip()
        assignee_id = int(raw) if raw.isdigit() else (None if raw in ("", "none") else -1)
        cases.assign(db.session, case_id, assignee_id=assignee_id, now=now, actor=actor)
    else:
        target = CaseState.DISMISSED.value if action == "dismiss" else (form.to.data or "")
        cases.transition(
            db.session, case_id, to=target, note=form.note.data, now=now, settings=settings, actor=actor
        )


@bp.post("/bulk")
@roles_required(*CASE_WORKERS)
def bulk() -> Response | tuple[str, int]:
    """Assign, move or dismiss many cases at once: each through the cases service, each reported."""
    form = BulkForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for("cases.index"))
    action = form.action.data or request.form.get("bulk_action") or ""
    raw_ids = request.form.getlist("case_id")
    ids = list(dict.fromkeys(int(value) for value in raw_ids if value.isdigit()))
    if action not in BULK_ACTIONS:
        flash(_("Choose what to do with the selected cases."), "danger")
        return redirect(url_for("cases.index"))
    if not ids or len(ids) != len(set(raw_ids)):
        flash(_("Select the cases first (tick their boxes)."), "warning")
        return redirect(url_for("cases.index"))
    if len(ids) > BULK_MAX:
        flash(_("At most %(n)d cases at a time.", n=BULK_MAX), "warning")
        return redirect(url_for("cases.index"))
    order_nos = dict(
        db.session.execute(
            select(SupervisionCase.id, WorkOrder.order_no)
            .join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
            .where(SupervisionCase.id.in_(ids))
        ).all()
    )
    results = []
    for case_id in ids:
        try:
            with db.session.begin_nested():
                _bulk_one(case_id, form, action)
        except CaseError as error:
            details = "; ".join(f"{d.get('field')}: {d.get('message')}" for d in error.details)
            results.append(
                BulkResult(
                    case_id,
                    order_nos.get(case_id, "—"),
                    False,
                    error.message + (f" ({details})" if details else ""),
                )
            )
        else:
            results.append(BulkResult(case_id, order_nos.get(case_id, "—"), True, _("Done.")))
    db.session.commit()
    done = sum(result.ok for result in results)
    flash(
        _("%(done)d of %(total)d cases done.", done=done, total=len(results)),
        "success" if done == len(results) else "warning",
    )
    return render_template("cases/bulk_result.html", results=results, action=action), 200


def may_note_here(case: SupervisionCase) -> bool:
    return current_user.is_authenticated and cases.may_note(current_user, case)


@bp.post("/<int:case_id>/notes")
@roles_required(*CASE_READERS)
def add_note(case_id: int) -> Response:
    """Add a note to the case, whatever its state."""
    case = _case_or_404(case_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "danger")
        return redirect(url_for("cases.detail", case_id=case.id) + "#notes")
    try:
        cases.add_note(
            db.session, case.id, text=form.text.data, user=current_user, now=utcnow(), actor=_actor()
        )
    except CaseError as error:
        db.session.rollback()
        if error.status == 403:
            abort(403)
        flash(_("Write the note (at most %(n)d characters).", n=NOTE_MAX), "danger")
        return redirect(url_for("cases.detail", case_id=case.id) + "#notes")
    db.session.commit()
    flash(_("The note is added."), "success")
    return redirect(url_for("cases.detail", case_id=case.id) + "#notes")


@bp.post("/<int:case_id>/attachments")
@csrf.exempt  # the form checks the token itself, after the upload limit below is raised
@roles_required(*CASE_READERS)
def upload(case_id: int) -> Response:
    """Attach a site photo (JPEG, PNG) or a scanned rectification report (PDF) to the case."""
    case = _case_or_404(case_id)
    back = url_for("cases.detail", case_id=case.id) + "#attachments"
    if not may_note_here(case):
        abort(403)
    max_bytes = current_settings().attachment_max_bytes
    request.max_content_length = max_bytes + FORM_OVERHEAD_BYTES
    too_large = _("The file is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024))
    if (request.content_length or 0) > max_bytes + FORM_OVERHEAD_BYTES:
        flash(too_large, "danger")
        return redirect(back)
    try:
        form = AttachmentForm()
        valid = form.validate_on_submit()
        upload_file = request.files.get("file")
    except RequestEntityTooLarge:
        flash(too_large, "danger")
        return redirect(back)
    if not valid:
        flash(_("The form has expired; please try again."), "danger")
        return redirect(back)
    data = upload_file.stream.read(max_bytes + 1) if upload_file else b""
    try:
        attachment = attachments.add_attachment(
            db.session,
            case.id,
            data,
            upload_file.filename if upload_file else None,
            user=current_user,
            store=attachments.attachment_store(),
            max_bytes=max_bytes,
            now=utcnow(),
            actor=_actor(),
        )
    except CaseError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    db.session.commit()
    flash(_("“%(name)s” is attached.", name=attachment.original_filename), "success")
    return redirect(back)


def _attachment_or_404(case_id: int, attachment_id: int) -> CaseAttachment:
    case = _case_or_404(case_id)  # the role and visibility check of the case itself
    attachment = db.session.get(CaseAttachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        abort(404)
    return attachment


def _serve(
    attachment: CaseAttachment, key: str | None, how: str, mimetype: str, *, download: bool
) -> Response:
    path = attachments.attachment_store().local_path(key) if key else None
    if path is None:
        abort(404)
    attachments.note_access(db.session, attachment, how, now=utcnow(), actor=_actor())
    db.session.commit()
    return send_private_file(
        path, mimetype=mimetype, download_name=attachment.original_filename, as_attachment=download
    )


@bp.get("/<int:case_id>/attachments/<int:attachment_id>")
@roles_required(*CASE_READERS)
def view_attachment(case_id: int, attachment_id: int) -> Response:
    """Show (or with ?download=1 download) an attachment; audited."""
    attachment = _attachment_or_404(case_id, attachment_id)
    download = request.args.get("download") == "1"
    return _serve(
        attachment,
        attachment.path,
        "downloaded" if download else "viewed",
        attachment.content_type,
        download=download,
    )


@bp.get("/<int:case_id>/attachments/<int:attachment_id>/thumbnail")
@roles_required(*CASE_READERS)
def thumbnail(case_id: int, attachment_id: int) -> Response:
    """Serve a photo's thumbnail; audited too (it shows the photo)."""
    attachment = _attachment_or_404(case_id, attachment_id)
    return _serve(attachment, attachment.thumbnail_path, "thumbnail", "image/jpeg", download=False)


@bp.app_template_global()
def case_desk_forms() -> dict[str, FlaskForm]:
    """Return empty forms (their CSRF tokens) for the case list and the case page."""
    return {
        "note": NoteForm(formdata=None),
        "attachment": AttachmentForm(formdata=None),
        "bulk": BulkForm(formdata=None),
        "save_filter": SaveFilterForm(formdata=None),
        "delete_filter": DeleteFilterForm(formdata=None),
    }


@bp.app_template_global()
def case_attachments(case: SupervisionCase) -> list[CaseAttachment]:
    """Return a case's attachments for its page."""
    return attachments.attachments_of(db.session, case)


@bp.app_template_global()
def may_add_notes(case: SupervisionCase) -> bool:
    """Tell whether the signed-in user may add notes and attachments to the case."""
    return may_note_here(case)


@bp.app_template_global()
def case_quick_filters() -> list[QuickFilter]:
    """Return the built-in and the user's saved filters for the case list."""
    return quick_filters(current_user)


@bp.app_template_global()
def case_filter_url(params: dict[str, str]) -> str:
    return filter_url(params)


@bp.app_template_global()
def case_sort_url(column: str, params: dict[str, Any]) -> str:
    """Return the list's address sorted by a column: ascending first, then descending."""
    current = params.get("sort"), params.get("dir") or "asc"
    direction = "desc" if current == (column, "asc") else "asc"
    kept = {k: v for k, v in params.items() if k not in ("sort", "dir", "page") and v}
    return filter_url({**kept, "sort": column, "dir": direction})


@bp.app_template_global()
def state_label(value: str) -> str:
    return label("case_state", value)
