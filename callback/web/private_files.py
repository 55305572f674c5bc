"""Stored private files (case attachments, call recordings) served to the browser, in one way (issue 15)."""

from pathlib import Path

from flask import send_file
from werkzeug.wrappers import Response


def send_private_file(
    path: Path, *, mimetype: str, download_name: str, as_attachment: bool = False, etag: str | bool = True
) -> Response:
    """Serve a file with HTTP range and conditional requests (a player seeks, a download resumes).

    Never kept by a shared cache, and revalidated by the browser each time: the caller audits every access.
    """
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=download_name,
        conditional=True,
        etag=etag,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response
