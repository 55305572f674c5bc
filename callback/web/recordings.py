"""Call recordings on the web: listening (HTTP range requests, audited) and uploads for operators' calls.

Who may do what (issue 11):
- listen: supervisors and admins; discipline inspectors only to calls of orders with a referred case.
  Operators may not, not even to their own calls: the recordings are evidence about their colleagues.
- attach a recording to an operator's call: the operator who made the call, supervisors and admins.
"""

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from callback.clock import utcnow
from callback.extensions import csrf, db
from callback.models import CallAttempt, CallRecording, RecordingStatus, Role, TaskChannel
from callback.recordings import (
    RecordingError,
    attach_upload,
    may_listen,
    note_listen,
    recordings_of_attempts,
)
from callback.recordings.service import LISTENERS, UPLOADERS
from callback.recordings.storage import store_for
from callback.settings import current_settings
from callback.web.auth import roles_required
from callback.web.private_files import send_private_file

bp = Blueprint("recordings", __name__, url_prefix="/recordings")
# The multipart envelope around the file (boundaries, the CSRF token) may add this much.
FORM_OVERHEAD_BYTES = 64 * 1024


class UploadForm(FlaskForm):
    file = FileField()


@bp.get("/<int:recording_id>/audio")
@roles_required(*LISTENERS)
def audio(recording_id: int) -> Response:
    """Serve a stored recording, with HTTP range requests so the player can seek; audit each listen."""
    recording = db.session.get(CallRecording, recording_id)
    if recording is None:
        abort(404)
    if not may_listen(db.session, current_user, recording):
        abort(403)
    path = store_for().local_path(recording.path) if recording.path else None
    if recording.status != RecordingStatus.STORED.value or path is None:
        abort(404)
    # The player asks in several range requests as it plays and seeks: one listen, one audit event.
    note_listen(db.session, recording, current_user, now=utcnow())
    db.session.commit()
    return send_private_file(
        path,
        mimetype=recording.content_type or "application/octet-stream",
        download_name=f"recording-{recording.id}{path.suffix}",
        etag=recording.sha256 or True,
    )


def _back_to(attempt: CallAttempt) -> Response:
    return redirect(url_for("operator.result", attempt_id=attempt.id) + "#recordings")


@bp.post("/attempts/<int:attempt_id>")
@csrf.exempt  # the form checks the token itself, after the upload limit below is raised
@roles_required(*UPLOADERS)
def upload(attempt_id: int) -> Response | tuple[str, int]:
    """Attach a WAV or MP3 from the call-centre's recorder to an operator's call."""
    attempt = db.session.get(CallAttempt, attempt_id)
    if attempt is None:
        abort(404)
    if not current_user.has_role(Role.SUPERVISOR, Role.ADMIN) and attempt.operator_id != current_user.id:
        abort(403)
    max_bytes = current_settings().recording_max_bytes
    request.max_content_length = max_bytes + FORM_OVERHEAD_BYTES
    too_large = _("The recording is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024))
    if (request.content_length or 0) > max_bytes + FORM_OVERHEAD_BYTES:
        flash(too_large, "danger")
        return _back_to(attempt)
    try:
        form = UploadForm()
        valid = form.validate_on_submit()
        upload_file = request.files.get("file")
    except RequestEntityTooLarge:
        flash(too_large, "danger")
        return _back_to(attempt)
    if not valid:
        flash(_("The form has expired; please try again."), "danger")
        return _back_to(attempt)
    data = upload_file.stream.read(max_bytes + 1) if upload_file else b""
    try:
        recording = attach_upload(
            db.session,
            attempt,
            data,
            upload_file.filename if upload_file else None,
            uploader=current_user,
            store=store_for(),
            max_bytes=max_bytes,
            now=utcnow(),
        )
    except RecordingError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _back_to(attempt)
    db.session.commit()
    flash(_("The recording is attached (SHA-256 %(hash)s).", hash=recording.sha256), "success")
    return _back_to(attempt)


@bp.app_template_global()
def call_recordings(attempt_ids: Any) -> dict[int, list[CallRecording]]:
    """Return the recordings of these calls, for the case page, the letter and the call's result page."""
    ids = [attempt_ids] if isinstance(attempt_ids, int) else list(attempt_ids)
    return recordings_of_attempts(db.session, ids)


@bp.app_template_global()
def audible_recordings(attempt_ids: Any) -> list[CallRecording]:
    """Return the recordings of these calls that the signed-in user may listen to (the order page)."""
    found = recordings_of_attempts(db.session, list(attempt_ids))
    return [recording for recordings in found.values() for recording in recordings if may_hear(recording)]


@bp.app_template_global()
def may_hear(recording: CallRecording) -> bool:
    """Tell whether the signed-in user may listen to the recording."""
    if not current_user.is_authenticated or not current_user.has_role(*LISTENERS):
        return False
    return may_listen(db.session, current_user, recording)


@bp.app_template_global()
def may_attach_recording(attempt: CallAttempt) -> bool:
    """Tell whether the signed-in user may attach a recording to this call."""
    if not current_user.is_authenticated or attempt.channel != TaskChannel.OPERATOR.value:
        return False
    may: bool = current_user.has_role(Role.SUPERVISOR, Role.ADMIN) or attempt.operator_id == current_user.id
    return may


@bp.app_template_global()
def upload_form() -> UploadForm:
    """Return an empty upload form (its CSRF token) for a page."""
    return UploadForm(formdata=None)
