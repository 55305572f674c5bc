"""Where recordings' audio lives: a small interface, with a directory on disk as its one backend.

An object store (S3, OSS, MinIO) is a clean extension: implement `RecordingStore` and return it from
`store_for`; a backend without local files answers `local_path` with None and `url_for` with a
time-limited link instead (not needed now: the product runs on one volume).
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app


class RecordingStore(Protocol):
    """Put, find and delete audio by key (a relative path such as 2026/11/12.wav)."""

    def put(self, key: str, data: bytes) -> None:
        """Store the bytes under the key, replacing nothing half-written (atomic)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Return the file of the key, if this store keeps files and it exists."""
        ...

    def delete(self, key: str) -> None:
        """Delete the key's audio; a key already gone is fine."""
        ...


class DirectoryStore:
    """Recordings as files under one directory (RECORDINGS_PATH), readable by the app's user only."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"storage key {key!r} leaves the recordings directory")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Write to a temporary file beside the target, then rename it into place."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o640)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def recordings_directory(app: Flask) -> Path:
    """Return RECORDINGS_PATH, or <instance>/recordings when it is unset."""
    configured = app.config.get("RECORDINGS_PATH")
    return Path(configured) if configured else Path(app.instance_path) / "recordings"


def store_for(app: Flask | None = None) -> RecordingStore:
    """Return the recording store of the app (the current one by default)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return DirectoryStore(recordings_directory(app))


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of the audio, as shown on the case page and the letter."""
    return hashlib.sha256(data).hexdigest()
