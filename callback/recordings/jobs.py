"""The recording fetch job as the CLI commands (`tick`, `dialer`) run it, configured from the app."""

from flask import Flask
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.recordings.fetchers import make_fetchers
from callback.recordings.service import RecordingFetchJob
from callback.recordings.storage import store_for


def fetch_job(app: Flask, session: Session, actor: Actor) -> RecordingFetchJob:
    """Return the job that fetches this instance's pending recordings into RECORDINGS_PATH."""
    settings = app.extensions["callback.settings"]
    return RecordingFetchJob(
        session,
        fetchers=make_fetchers(app.config),
        store=store_for(app),
        delete_at_provider=settings.delete_provider_recordings,
        actor=actor,
    )
