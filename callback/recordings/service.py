"""Recordings as evidence: noted from the provider, fetched and hashed, uploaded, listened to, deleted.

The services take the session, the store and `now`, own every change to CallRecording rows and audit
them; callers commit. `RecordingFetchJob` is the one exception: like the dialer it commits between
rows, so no transaction is held open while a provider is fetched from.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.errors import ServiceError
from callback.models import (
    UPLOAD_PROVIDER,
    AuditEvent,
    CallAttempt,
    CallbackTask,
    CallRecording,
    RecordingStatus,
    Role,
    SupervisionCase,
    TaskChannel,
    User,
)
from callback.recordings.audio import EXTENSIONS, NotAudio, inspect_audio
from callback.recordings.fetchers import FetchError, RecordingFetcher
from callback.recordings.storage import RecordingStore, sha256_hex

log = logging.getLogger(__name__)

# A failed fetch is tried again after 1, 2, 4 … minutes (at most 6 hours), 8 times in all.
FETCH_MAX_ATTEMPTS = 8
FETCH_FIRST_DELAY = timedelta(minutes=1)
FETCH_MAX_DELAY = timedelta(hours=6)
# A fetcher that died mid-fetch leaves its claim; another may take the row after this long.
FETCH_CLAIM = timedelta(minutes=5)
# Rows fetched per pass, so one pass stays short.
FETCH_BATCH = 20
# Range requests of one user within this time are one listen in the audit trail.
LISTEN_WINDOW = timedelta(minutes=10)
# Who may listen to recordings (discipline inspectors: recordings of orders with a referred case).
LISTENERS = (Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)
# Who may attach a recording to an operator's call: the operator who made it, supervisors, admins.
UPLOADERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


class RecordingError(ServiceError):
    """A recording cannot be attached or read as asked."""


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the `attempts`-th failed fetch (1 min, doubling, at most 6 h)."""
    delay: timedelta = min(FETCH_FIRST_DELAY * (2 ** max(attempts - 1, 0)), FETCH_MAX_DELAY)
    return delay


def storage_key(recording: CallRecording, content_type: str, now: datetime) -> str:
    """Return the recording's key in the store: year/month/id.ext (unique, never reused)."""
    return f"{now:%Y/%m}/{recording.id}{EXTENSIONS.get(content_type, '.bin')}"


def note_provider_recording(
    session: Session,
    attempt: CallAttempt,
    *,
    provider: str,
    recording_id: str,
    source_url: str,
    duration_seconds: float | None,
    channels: int | None,
    now: datetime,
    actor: Actor,
) -> tuple[CallRecording, bool]:
    """Note that the provider has the call's recording ready; return it and whether it is new.

    A duplicate callback finds the row the first one made and changes nothing.
    """
    existing = session.scalar(
        select(CallRecording).where(
            CallRecording.provider == provider, CallRecording.provider_recording_id == recording_id
        )
    )
    if existing is not None:
        return existing, False
    recording = CallRecording(
        attempt_id=attempt.id,
        provider=provider,
        provider_recording_id=recording_id,
        source_url=source_url,
        status=RecordingStatus.PENDING.value,
        duration_seconds=duration_seconds,
        channels=channels,
        fetch_attempts=0,
        next_fetch_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(recording)
            session.flush()
    except IntegrityError:  # the same callback, at the same moment, in another process
        found = session.scalar(
            select(CallRecording).where(
                CallRecording.provider == provider, CallRecording.provider_recording_id == recording_id
            )
        )
        assert found is not None  # noqa: S101  (the unique constraint said it exists)
        return found, False
    _audit(session, actor, now, "recording_noted", recording, provider=provider)
    return recording, True


def _audit(
    session: Session, actor: Actor, now: datetime, action: str, recording: CallRecording, **details: Any
) -> None:
    record(
        session,
        actor,
        now,
        [AuditEntry(action, "call_recording", recording.id, {"attempt_id": recording.attempt_id, **details})],
    )


def _store_audio(
    recording: CallRecording, data: bytes, content_type: str, store: RecordingStore, now: datetime
) -> None:
    key = storage_key(recording, content_type, now)
    store.put(key, data)
    recording.path = key
    recording.sha256 = sha256_hex(data)
    recording.size_bytes = len(data)
    recording.content_type = content_type
    recording.status = RecordingStatus.STORED.value
    recording.stored_at = now
    recording.next_fetch_at = None
    recording.last_error = None


@dataclass
class FetchReport:
    stored: int = 0
    retrying: int = 0
    failed: int = 0
    deleted_at_provider: int = 0


class RecordingFetchJob:
    """Fetch the recordings that are due, store and hash them, and delete the provider's copies."""

    def __init__(
        self,
        session: Session,
        *,
        fetchers: Mapping[str, RecordingFetcher],
        store: RecordingStore,
        delete_at_provider: bool,
        actor: Actor,
    ) -> None:
        self.session = session
        self.fetchers = fetchers
        self.store = store
        self.delete_at_provider = delete_at_provider
        self.actor = actor

    def run(self, now: datetime) -> FetchReport:
        """Make one pass: every due pending recording once, then the provider copies to delete."""
        report = FetchReport()
        due = self.session.scalars(
            select(CallRecording.id)
            .where(
                CallRecording.status == RecordingStatus.PENDING.value,
                or_(CallRecording.next_fetch_at.is_(None), CallRecording.next_fetch_at <= now),
                CallRecording.provider.in_(list(self.fetchers)),
            )
            .order_by(CallRecording.next_fetch_at, CallRecording.id)
            .limit(FETCH_BATCH)
        ).all()
        self.session.commit()
        for recording_id in due:
            self._fetch_one(recording_id, now, report)
        if self.delete_at_provider:
            self._delete_provider_copies(report, now)
        return report

    def _claim(self, recording_id: int, now: datetime) -> bool:
        """Take the row for FETCH_CLAIM with a compare-and-set, so two processes never fetch it both."""
        claimed = self.session.execute(
            update(CallRecording)
            .where(
                CallRecording.id == recording_id,
                CallRecording.status == RecordingStatus.PENDING.value,
                or_(CallRecording.next_fetch_at.is_(None), CallRecording.next_fetch_at <= now),
            )
            .values(next_fetch_at=now + FETCH_CLAIM)
            .execution_options(synchronize_session=False)
        )
        self.session.commit()
        return claimed.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def _fetch_one(self, recording_id: int, now: datetime, report: FetchReport) -> None:
        if not self._claim(recording_id, now):
            return
        recording = self.session.get(CallRecording, recording_id, populate_existing=True)
        assert recording is not None  # noqa: S101  (just claimed)
        fetcher = self.fetchers[recording.provider]
        self.session.expunge(
            recording
        )  # read as loaded: no query (no transaction) while the provider answers
        self.session.commit()
        error: str | None = None
        try:
            fetched = fetcher.fetch(recording)
            info = inspect_audio(fetched.data)
        except (FetchError, NotAudio) as failure:
            error = str(failure)[:500]
        recording = self.session.get(
            CallRecording, recording_id, with_for_update=True, populate_existing=True
        )
        if recording is None or recording.status != RecordingStatus.PENDING.value:
            self.session.commit()
            return  # deleted with its order meanwhile
        recording.fetch_attempts += 1
        if error is None:
            try:
                _store_audio(recording, fetched.data, info.content_type, self.store, now)
            except OSError as failure:  # a full or unmounted volume: keep the row pending, try later
                error = f"storing failed: {failure.strerror or failure}"[:500]
        if error is None:
            recording.duration_seconds = info.duration_seconds or recording.duration_seconds
            recording.channels = info.channels or recording.channels
            _audit(self.session, self.actor, now, "recording_stored", recording, sha256=recording.sha256)
            report.stored += 1
        elif recording.fetch_attempts >= FETCH_MAX_ATTEMPTS:
            recording.status = RecordingStatus.FAILED.value
            recording.last_error = error
            recording.next_fetch_at = None
            _audit(self.session, self.actor, now, "recording_fetch_failed", recording, error=error)
            log.warning(
                "recording %s: giving up after %s fetches: %s", recording.id, FETCH_MAX_ATTEMPTS, error
            )
            report.failed += 1
        else:
            recording.last_error = error
            recording.next_fetch_at = now + retry_delay(recording.fetch_attempts)
            log.info(
                "recording %s: fetch %s failed (%s); trying again later",
                recording.id,
                recording.fetch_attempts,
                error,
            )
            report.retrying += 1
        self.session.commit()

    def _delete_provider_copies(self, report: FetchReport, now: datetime) -> None:
        # Only providers whose copies can be deleted (Twilio); a pre-signed link's copy (Alibaba Cloud)
        # expires at the provider by itself and is never claimed deleted.
        deleting = [
            name
            for name, fetcher in self.fetchers.items()
            if getattr(fetcher, "deletes_provider_copy", False)
        ]
        if not deleting:
            return
        rows = self.session.scalars(
            select(CallRecording)
            .where(
                CallRecording.status.in_([RecordingStatus.STORED.value, RecordingStatus.DELETED.value]),
                CallRecording.sha256.is_not(None),
                CallRecording.provider_deleted_at.is_(None),
                CallRecording.provider.in_(deleting),
            )
            .order_by(CallRecording.id)
            .limit(FETCH_BATCH)
        ).all()
        for recording in rows:
            self.session.expunge(recording)  # no transaction open while the provider answers
        self.session.commit()
        for recording in rows:
            try:
                self.fetchers[recording.provider].delete_at_provider(recording)
            except FetchError as failure:
                log.warning("recording %s: deleting the provider's copy failed: %s", recording.id, failure)
                continue
            marked = self.session.execute(
                update(CallRecording)
                .where(CallRecording.id == recording.id, CallRecording.provider_deleted_at.is_(None))
                .values(provider_deleted_at=now)
                .execution_options(synchronize_session=False)
            )
            if marked.rowcount == 1:  # type: ignore[attr-defined]
                _audit(self.session, self.actor, now, "recording_deleted_at_provider", recording)
                report.deleted_at_provider += 1
            self.session.commit()


def attach_upload(
    session: Session,
    attempt: CallAttempt,
    data: bytes,
    filename: str | None,
    *,
    uploader: User,
    store: RecordingStore,
    max_bytes: int,
    now: datetime,
) -> CallRecording:
    """Attach a WAV or MP3 from the call-centre's recorder to an operator's call, hashed like the rest."""
    if attempt.channel != TaskChannel.OPERATOR.value:
        raise RecordingError(
            409, "automated_call", _("Automated calls are recorded by the phone provider; nothing to upload.")
        )
    if not (uploader.has_role(Role.SUPERVISOR, Role.ADMIN) or attempt.operator_id == uploader.id):
        raise RecordingError(
            403,
            "not_your_call",
            _("Only the operator who made the call, or a supervisor, may attach its recording."),
        )
    if not data:
        raise RecordingError(
            422,
            "empty",
            _("Choose the recording file (WAV or MP3)."),
            [{"field": "file", "message": _("Choose the recording file (WAV or MP3).")}],
        )
    if len(data) > max_bytes:
        message = _("The recording is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024))
        raise RecordingError(413, "too_large", message, [{"field": "file", "message": message}])
    try:
        info = inspect_audio(data)
    except NotAudio:
        message = _("The file is not a WAV or MP3 recording.")
        raise RecordingError(422, "not_audio", message, [{"field": "file", "message": message}]) from None
    digest = sha256_hex(data)
    duplicate = session.scalar(
        select(CallRecording.id).where(
            CallRecording.attempt_id == attempt.id,
            CallRecording.sha256 == digest,
            CallRecording.status == RecordingStatus.STORED.value,
        )
    )
    if duplicate is not None:
        raise RecordingError(409, "duplicate", _("This recording is already attached to the call."))
    recording = CallRecording(
        attempt_id=attempt.id,
        provider=UPLOAD_PROVIDER,
        status=RecordingStatus.PENDING.value,
        duration_seconds=info.duration_seconds,
        channels=info.channels,
        original_filename=PurePath(filename or "").name[:255] or None,
        uploaded_by_id=uploader.id,
        fetch_attempts=0,
        created_at=now,
    )
    session.add(recording)
    session.flush()
    try:
        _store_audio(recording, data, info.content_type, store, now)
    except OSError:
        log.exception("storing the upload for attempt %s failed", attempt.id)
        raise RecordingError(
            503, "storage_unavailable", _("The recording could not be stored; please try again later.")
        ) from None
    _audit(
        session,
        Actor(user_id=uploader.id, source="web"),
        now,
        "recording_uploaded",
        recording,
        sha256=recording.sha256,
        size_bytes=recording.size_bytes,
    )
    return recording


def order_id_of(session: Session, recording: CallRecording) -> int:
    """Return the work order whose call the recording is."""
    order_id = session.scalar(
        select(CallbackTask.order_id).join(CallAttempt).where(CallAttempt.id == recording.attempt_id)
    )
    assert order_id is not None  # noqa: S101  (foreign keys)
    return order_id


def may_listen(session: Session, user: User, recording: CallRecording) -> bool:
    """Tell whether the user may hear it: supervisors, admins; discipline on orders with a referred case."""
    if user.has_role(Role.SUPERVISOR, Role.ADMIN):
        return True
    if not user.has_role(Role.DISCIPLINE):
        return False
    referred = session.scalar(
        select(SupervisionCase.id).where(
            SupervisionCase.order_id == order_id_of(session, recording),
            SupervisionCase.referred_to_discipline.is_(True),
        )
    )
    return referred is not None


def note_listen(session: Session, recording: CallRecording, user: User, *, now: datetime) -> bool:
    """Audit that the user listened to the recording; True if this is a new listen.

    A player fetches a recording in several range requests (and again on each seek); those within
    LISTEN_WINDOW of the user's last audited listen are the same listen.
    """
    # Lock the recording's row first: the player's parallel requests check and note one at a time.
    session.execute(
        update(CallRecording)
        .where(CallRecording.id == recording.id)
        .values(id=CallRecording.id)
        .execution_options(synchronize_session=False)
    )
    recent = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.entity_type == "call_recording",
            AuditEvent.entity_id == recording.id,
            AuditEvent.action == "recording_played",
            AuditEvent.actor_id == user.id,
            AuditEvent.at > now - LISTEN_WINDOW,
        )
        .limit(1)
    )
    if recent is not None:
        return False
    _audit(
        session,
        Actor(user_id=user.id, source="web"),
        now,
        "recording_played",
        recording,
        sha256=recording.sha256,
    )
    return True


def recordings_of_attempts(session: Session, attempt_ids: Iterable[int]) -> dict[int, list[CallRecording]]:
    """Return the recordings of each attempt, oldest first (deleted ones included: their hash remains)."""
    wanted = sorted({attempt_id for attempt_id in attempt_ids if attempt_id is not None})
    found: dict[int, list[CallRecording]] = {attempt_id: [] for attempt_id in wanted}
    if not wanted:
        return found
    for recording in session.scalars(
        select(CallRecording).where(CallRecording.attempt_id.in_(wanted)).order_by(CallRecording.id)
    ):
        found[recording.attempt_id].append(recording)
    return found


def delete_recordings_for_orders(
    session: Session,
    order_ids: Iterable[int],
    now: datetime,
    *,
    store: RecordingStore | None = None,
    actor: Actor | None = None,
) -> int:
    """Delete the audio of every recording of the orders' calls (retention); return how many.

    The rows stay, marked deleted with their hash, until the attempts themselves are deleted (their
    foreign key cascades). Pending fetches are cancelled. The files go at once, so call this inside the
    purge's transaction and commit it: a purge that rolls back leaves rows that say deleted-files-missing
    only if the files were already gone.
    """
    from callback.recordings.storage import store_for

    wanted = sorted(set(order_ids))
    if not wanted:
        return 0
    store = store or store_for()
    actor = actor or Actor(source="retention")
    recordings = session.scalars(
        select(CallRecording)
        .join(CallAttempt, CallRecording.attempt_id == CallAttempt.id)
        .join(CallbackTask, CallAttempt.task_id == CallbackTask.id)
        .where(CallbackTask.order_id.in_(wanted), CallRecording.status != RecordingStatus.DELETED.value)
        .order_by(CallRecording.id)
    ).all()
    for recording in recordings:
        if recording.path:
            store.delete(recording.path)
        recording.status = RecordingStatus.DELETED.value
        recording.path = None
        recording.source_url = None  # a pre-signed link (SmartCall) would still give the voice for days
        recording.next_fetch_at = None
        recording.deleted_at = now
    if recordings:
        record(
            session,
            actor,
            now,
            [
                AuditEntry(
                    "recording_deleted",
                    "call_recording",
                    r.id,
                    {"attempt_id": r.attempt_id, "reason": "retention"},
                )
                for r in recordings
            ],
        )
    return len(recordings)
