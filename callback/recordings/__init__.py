"""Call recordings as evidence (issue 11): storage, fetching from providers, uploads, access, retention."""

from callback.recordings.service import (
    RecordingError,
    RecordingFetchJob,
    attach_upload,
    delete_recordings_for_orders,
    may_listen,
    note_listen,
    note_provider_recording,
    recordings_of_attempts,
)

__all__ = [
    "RecordingError",
    "RecordingFetchJob",
    "attach_upload",
    "delete_recordings_for_orders",
    "may_listen",
    "note_listen",
    "note_provider_recording",
    "recordings_of_attempts",
]
