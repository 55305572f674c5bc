"""Case attachments: site photos (JPEG, PNG) and scanned rectification reports (PDF), kept as evidence.

The type is what the file's first bytes say (its name and the browser's Content-Type are not trusted); images
must also decode (Pillow), and get a small JPEG thumbnail, so a case page with many phone photos stays light.
Files live under ATTACHMENTS_PATH (default <instance>/attachments) with their SHA-256; every view and download
is audited (callback.web.case_desk).
"""

import hashlib
import io
import re
import uuid
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.cases import CaseError, get_case, may_note
from callback.models import CaseAttachment, CaseEvent, SupervisionCase, User
from callback.recordings.storage import DirectoryStore

THUMBNAIL_SIZE = (320, 320)
# Refuse images whose pixels would take more memory than a phone photo ever needs (decompression bombs).
MAX_IMAGE_PIXELS = 60_000_000
FILENAME_MAX = 255

# The magic bytes of the accepted types (JPEG SOI marker, PNG signature, PDF header).
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    """Return (content type, extension) from the file's first bytes, or None for anything else."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def attachments_directory(app: Flask) -> Path:
    """Return ATTACHMENTS_PATH, or <instance>/attachments when it is unset."""
    configured = app.config.get("ATTACHMENTS_PATH")
    return Path(configured) if configured else Path(app.instance_path) / "attachments"


def attachment_store(app: Flask | None = None) -> DirectoryStore:
    """Return the directory store of the app's attachments."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return DirectoryStore(attachments_directory(app))


def clean_filename(name: str | None) -> str:
    """Keep the uploaded file's own name for people to recognise, without paths or control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[-FILENAME_MAX:] or "attachment"


def _thumbnail(data: bytes) -> bytes:
    """Check that the image decodes and return a JPEG thumbnail of it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise CaseError(422, "invalid", _("The image is too large in pixels."))
            image.load()
            image.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise CaseError(422, "invalid", _("The image cannot be read; upload a JPEG or PNG photo.")) from None


def add_attachment(
    session: Session,
    case_id: int,
    data: bytes,
    filename: str | None,
    *,
    user: User,
    store: DirectoryStore,
    max_bytes: int,
    now: datetime,
    actor: Actor,
) -> CaseAttachment:
    """Check and store one file for a case; refuse anything but JPEG, PNG or PDF within the size limit."""
    case = get_case(session, case_id)
    if not may_note(user, case):
        raise CaseError(403, "forbidden", _("You may not add attachments to this case."))
    if not data:
        raise CaseError(422, "invalid", _("Choose a file to upload."))
    if len(data) > max_bytes:
        raise CaseError(
            413, "too_large", _("The file is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024))
        )
    kind = sniff(data)
    if kind is None:
        raise CaseError(
            422, "invalid", _("Only site photos (JPEG, PNG) and scanned reports (PDF) can be attached.")
        )
    content_type, extension = kind
    thumbnail = _thumbnail(data) if content_type.startswith("image/") else None
    stem = f"cases/{case.id}/{uuid.uuid4().hex}"
    key = f"{stem}.{extension}"
    store.put(key, data)
    thumb_key = None
    if thumbnail is not None:
        thumb_key = f"{stem}.thumb.jpg"
        store.put(thumb_key, thumbnail)
    attachment = CaseAttachment(
        case_id=case.id,
        content_type=content_type,
        original_filename=clean_filename(filename),
        path=key,
        thumbnail_path=thumb_key,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user.id,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    case.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor_id=actor.user_id,
            action="attachment",
            note=attachment.original_filename,
        )
    )
    record(
        session,
        actor,
        now,
        [
            AuditEntry(
                "attachment.added",
                "case_attachment",
                attachment.id,
                {"case_id": case.id, "content_type": content_type, "sha256": attachment.sha256},
            )
        ],
    )
    return attachment


def note_access(
    session: Session, attachment: CaseAttachment, how: str, *, now: datetime, actor: Actor
) -> None:
    """Audit one view (`viewed`, `thumbnail`) or download (`downloaded`) of an attachment."""
    record(
        session,
        actor,
        now,
        [AuditEntry(f"attachment.{how}", "case_attachment", attachment.id, {"case_id": attachment.case_id})],
    )


def attachments_of(session: Session, case: SupervisionCase) -> list[CaseAttachment]:
    """Return the case's attachments, oldest first."""
    return list(
        session.scalars(
            select(CaseAttachment).where(CaseAttachment.case_id == case.id).order_by(CaseAttachment.id)
        )
    )
