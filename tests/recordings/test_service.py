"""The recordings service: giving up after the last retry, retention deletion, the simulated provider."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from callback.audit import Actor
from callback.extensions import db
from callback.models import AuditEvent, CallAttempt, CallRecording, WorkOrder
from callback.recordings import (
    RecordingError,
    attach_upload,
    delete_recordings_for_orders,
    note_listen,
    note_provider_recording,
)
from callback.recordings.audio import inspect_audio, simulated_wav, sniff
from callback.recordings.fetchers import FetchedAudio, FetchError, make_fetchers
from callback.recordings.service import FETCH_MAX_ATTEMPTS, RecordingFetchJob, retry_delay
from callback.recordings.storage import DirectoryStore, store_for
from callback.settings import current_settings
from callback.telephony.dialer import Dialer
from callback.telephony.pacing import CallPacer
from callback.telephony.simulated import SimulatedProvider
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.recordings.conftest import operator_call
from tests.telephony.helpers import start_automated_call, store_connected_orders


class Broken:
    """A provider whose recordings never come."""

    def fetch(self, recording: CallRecording) -> FetchedAudio:
        raise FetchError("HTTP 503 from the provider")

    def delete_at_provider(self, recording: CallRecording) -> None:
        raise FetchError("unreachable")


def noted(attempt: CallAttempt, sid: str = "RE" + "7" * 32) -> CallRecording:
    recording, _ = note_provider_recording(
        db.session,
        attempt,
        provider="broken",
        recording_id=sid,
        source_url="https://recordings.example.com/x.wav",
        duration_seconds=12,
        channels=2,
        now=TEST_NOW,
        actor=Actor(source="test"),
    )
    db.session.commit()
    return recording


def test_backoff_doubles_from_a_minute_to_at_most_six_hours():
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert retry_delay(30) == timedelta(hours=6)


def test_after_the_last_retry_the_recording_is_failed_with_its_reason(app, settings):
    attempt = start_automated_call(settings, "FAIL-1")
    recording = noted(attempt)
    job = RecordingFetchJob(
        db.session, fetchers={"broken": Broken()}, store=store_for(), delete_at_provider=True, actor=Actor()
    )
    moment = TEST_NOW
    for attempt_number in range(1, FETCH_MAX_ATTEMPTS + 1):
        report = job.run(moment)
        db.session.expire_all()
        current = db.session.get(CallRecording, recording.id)
        assert current.fetch_attempts == attempt_number
        moment = current.next_fetch_at or moment
    assert (report.failed, report.retrying) == (1, 0)
    assert current.status == "failed" and current.last_error == "HTTP 503 from the provider"
    assert job.run(moment + timedelta(days=1)).failed == 0  # given up: no more tries
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "recording_fetch_failed")
        )
        == 1
    )


def test_deleting_an_orders_recordings_removes_the_audio_and_cancels_pending_fetches(
    app, settings, signed_in
):
    _, operator = signed_in("operator")
    kept_attempt = operator_call(operator, "KEEP-1")
    purged_attempt = operator_call(operator, "PURGE-1")
    store = store_for()
    job_store = DirectoryStore(app.config["RECORDINGS_PATH"])

    kept = attach_upload(
        db.session,
        kept_attempt,
        simulated_wav(1, seed="k"),
        "k.wav",
        uploader=operator,
        store=store,
        max_bytes=10**6,
        now=TEST_NOW,
    )
    purged = attach_upload(
        db.session,
        purged_attempt,
        simulated_wav(1, seed="p"),
        "p.wav",
        uploader=operator,
        store=store,
        max_bytes=10**6,
        now=TEST_NOW,
    )
    db.session.commit()
    pending = noted(purged_attempt)
    purged_file = job_store.local_path(purged.path)
    assert purged_file is not None and purged_file.exists()
    order_id = db.session.scalar(select(WorkOrder.id).where(WorkOrder.order_no == "PURGE-1"))

    later = TEST_NOW + timedelta(days=400)
    assert delete_recordings_for_orders(db.session, [order_id], later) == 2
    db.session.commit()
    db.session.expire_all()
    gone = db.session.get(CallRecording, purged.id)
    assert (gone.status, gone.path, gone.deleted_at) == ("deleted", None, later)
    assert gone.sha256 == purged.sha256  # the hash stays as the trace of what was deleted
    assert not purged_file.exists()
    assert db.session.get(CallRecording, pending.id).status == "deleted"
    assert db.session.get(CallRecording, kept.id).status == "stored"
    assert job_store.local_path(kept.path) is not None
    assert delete_recordings_for_orders(db.session, [order_id], later) == 0  # again: nothing left
    assert delete_recordings_for_orders(db.session, [], later) == 0
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_deleted")).all()
    assert sorted(event.entity_id for event in events) == sorted([purged.id, pending.id])
    # A fetch pass leaves the cancelled fetch alone.
    job = RecordingFetchJob(
        db.session, fetchers={"broken": Broken()}, store=store, delete_at_provider=False, actor=Actor()
    )
    assert job.run(later).retrying == 0


def test_the_simulated_provider_leaves_a_real_wav_the_dialer_stores(tmp_path, monkeypatch):
    simulated = make_app(
        tmp_path / "sim",
        monkeypatch,
        RECORDINGS_PATH=str(tmp_path / "sim-recordings"),
        SIMULATION_MIX="agree=1",
        SIMULATION_SEED=3,
    )
    with simulated.app_context():
        fresh_schema(simulated)
        settings = current_settings()
        store_connected_orders(settings, "SIM-1")
        job = RecordingFetchJob(
            db.session,
            fetchers=make_fetchers(simulated.config),
            store=store_for(simulated),
            delete_at_provider=False,
            actor=Actor(source="dialer"),
        )
        dialer = Dialer(
            db.session,
            SimulatedProvider(simulated, settings.simulation_mix, seed=3),
            CallPacer(db.engine, 1000),
            settings,
            simulated.config,
            lambda: TEST_NOW,
            after_pass=job.run,
        )
        assert dialer.run_pass().placed == 1
        db.session.expire_all()
        recording = db.session.scalars(select(CallRecording)).one()
        assert (recording.provider, recording.status, recording.channels) == ("simulated", "stored", 2)
        data = (tmp_path / "sim-recordings" / recording.path).read_bytes()
        assert sniff(data) == "audio/wav" and inspect_audio(data).duration_seconds >= 1
        transcript = db.session.get(CallAttempt, recording.attempt_id).transcript
        said = [event["text"] for event in transcript if event["event"] == "said"]
        assert said[0] == "本次通话将被录音。"  # announced before the greeting
        db.session.remove()
        db.engine.dispose()


def test_storage_keys_cannot_leave_the_recordings_directory(tmp_path):
    store = DirectoryStore(tmp_path / "r")
    store.put("2026/11/1.wav", b"RIFF")
    assert store.local_path("2026/11/1.wav").read_bytes() == b"RIFF"
    with pytest.raises(ValueError):
        store.put("../escape.wav", b"x")
    assert not (tmp_path / "escape.wav").exists()
    store.delete("2026/11/1.wav")
    store.delete("2026/11/1.wav")  # already gone: fine
    assert store.local_path("2026/11/1.wav") is None


def test_a_listen_is_audited_once_per_user_and_window(app, settings, signed_in):
    _, operator = signed_in("operator")
    attempt = operator_call(operator, "LISTEN-1")
    _, supervisor = signed_in("supervisor", "sup-listen")
    _, admin = signed_in("admin", "admin-listen")
    recording = attach_upload(
        db.session,
        attempt,
        simulated_wav(1, seed="l"),
        "l.wav",
        uploader=operator,
        store=store_for(),
        max_bytes=10**6,
        now=TEST_NOW,
    )
    assert note_listen(db.session, recording, supervisor, now=TEST_NOW)
    assert not note_listen(db.session, recording, supervisor, now=TEST_NOW + timedelta(minutes=9))
    assert note_listen(db.session, recording, admin, now=TEST_NOW + timedelta(minutes=9))
    assert note_listen(db.session, recording, supervisor, now=TEST_NOW + timedelta(minutes=11))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_played")).all()
    assert [event.actor_id for event in events] == [supervisor.id, admin.id, supervisor.id]
    assert all(event.details["sha256"] == recording.sha256 for event in events)


class Working:
    def fetch(self, recording: CallRecording) -> FetchedAudio:
        return FetchedAudio(simulated_wav(1, seed="ok"), "audio/wav")

    def delete_at_provider(self, recording: CallRecording) -> None:
        pass


def test_a_volume_that_cannot_be_written_keeps_the_recording_pending(app, settings, tmp_path, signed_in):
    attempt = start_automated_call(settings, "DISK-1")
    recording = noted(attempt)
    (tmp_path / "not-a-directory").write_text("")
    broken_store = DirectoryStore(tmp_path / "not-a-directory")
    job = RecordingFetchJob(
        db.session,
        fetchers={"broken": Working()},
        store=broken_store,
        delete_at_provider=False,
        actor=Actor(),
    )
    assert job.run(TEST_NOW).retrying == 1
    db.session.expire_all()
    current = db.session.get(CallRecording, recording.id)
    assert current.status == "pending" and current.last_error.startswith("storing failed")
    assert current.sha256 is None and current.path is None
    _, operator = signed_in("operator")
    operator_attempt = operator_call(operator, "DISK-2")
    with pytest.raises(RecordingError) as refused:
        attach_upload(
            db.session,
            operator_attempt,
            simulated_wav(1, seed="u"),
            "u.wav",
            uploader=operator,
            store=broken_store,
            max_bytes=10**6,
            now=TEST_NOW,
        )
    assert refused.value.status == 503
