"""An Alibaba Cloud SmartCall, end to end: placed through Alibaba's own SDK against the fake dyvmsapi, its
VoiceRecordReport's pre-signed link served by a fake OSS bucket on 127.0.0.1, fetched by tick, hashed, and
played from its case exactly as a Twilio recording; and the simulated SmartCall customer's recordings."""

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from callback.extensions import db
from callback.models import AuditEvent, CallAttempt, CallRecording, SupervisionCase
from callback.recordings.audio import inspect_audio, simulated_wav
from callback.telephony.aliyun_dialogue import callback_token
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.recordings.fake_oss import FakeOss
from tests.recordings.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.telephony.aliyun_fake import FakeVoiceServer, FakeVoiceService
from tests.telephony.test_aliyun import (
    KEY_ID,
    SECRET,
    SPOKEN,
    aliyun_config,
    attempt_of,
    dial,
    receipt,
    run_survey,
    voice_report,
)

OBJECT = "2026-11-27/116000000000-102800000000.wav"


@pytest.fixture
def fake() -> Iterator[FakeVoiceServer]:
    with FakeVoiceServer(FakeVoiceService(KEY_ID, SECRET)) as server:
        yield server


@pytest.fixture
def oss() -> Iterator[FakeOss]:
    with FakeOss() as server:
        yield server


@pytest.fixture
def app(tmp_path, monkeypatch, fake) -> Iterator[Flask]:
    """TELEPHONY=aliyun against the fake dyvmsapi, recordings in the test's folder (not the Twilio app)."""
    app = make_app(
        tmp_path,
        monkeypatch,
        **aliyun_config(fake),
        RECORDINGS_PATH=str(tmp_path / "recordings"),
        DELETE_PROVIDER_RECORDINGS=True,
    )
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def record_report(attempt: CallAttempt, link: str, duration: str = "61") -> dict[str, str]:
    """A VoiceRecordReport (录音记录) as the platform pushes it, fields as documented."""
    return {
        "call_id": attempt.provider_call_sid,
        "out_id": str(attempt.id),
        "start_time": "2026-11-27 10:00:03",
        "end_time": "2026-11-27 10:01:04",
        "duration": duration,
        "status_code": "200000",
        "smart_status_code": "ANSWERED",
        "record_file": link,
        "record_begin_time": "2026-11-27 10:00:03",
    }


def tick(runner, minutes: int = 5) -> str:
    result = runner.invoke(args=["tick", "--now", (TEST_NOW + timedelta(minutes=minutes)).isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def answered_smartcall(app: Flask, client, order_no: str) -> CallAttempt:
    """Place a SmartCall, answer every question by voice (answers that open cases), end it by its receipt."""
    dial(app, order_no)
    attempt = attempt_of(order_no)
    run_survey(client, attempt.provider_call_sid, attempt.id, SPOKEN, by="voice")
    ended = receipt(client, "voice-report", voice_report(attempt.id, attempt.provider_call_sid))
    assert ended.status_code == 200
    return attempt_of(order_no)


def recordings() -> list[CallRecording]:
    db.session.expire_all()
    return list(db.session.scalars(select(CallRecording).order_by(CallRecording.id)))


def test_a_smartcall_ends_in_a_hashed_recording_a_supervisor_plays_from_the_case(
    app, fake, oss, runner, signed_in, tmp_path
):
    client = app.test_client()
    attempt = answered_smartcall(app, client, "ALI-REC-1")
    assert fake.service.requests[0]["params"]["RecordFlag"].lower() == "true"  # the SDK sends "True"
    audio = simulated_wav(6, seed="a SmartCall customer")
    oss.bucket.objects[OBJECT] = audio
    link = oss.signed_url(OBJECT)

    for _ in range(2):  # the push is retried: stored once
        assert receipt(client, "record-report", record_report(attempt, link)).get_json() == {
            "code": 0,
            "msg": "成功",
        }
    (noted,) = recordings()
    assert (noted.provider, noted.provider_recording_id, noted.status) == (
        "aliyun",
        attempt.provider_call_sid,
        "pending",
    )
    assert noted.source_url == link and noted.attempt_id == attempt.id
    events = [e for e in attempt_of("ALI-REC-1").transcript if e["event"] == "recording"]
    assert len(events) == 1 and events[0]["provider"] == "aliyun"

    output = tick(runner)
    # A pre-signed link: a plain GET; Alibaba's copy expires by itself and is never claimed deleted.
    assert "recordings stored: 1" in output and "deleted at the provider: 0" in output
    (recording,) = recordings()
    assert recording.status == "stored"
    assert recording.sha256 == hashlib.sha256(audio).hexdigest()
    assert (recording.content_type, recording.size_bytes, recording.channels) == ("audio/wav", len(audio), 2)
    assert recording.duration_seconds == 6.0  # the file's own length, not the call's 61 seconds
    assert (tmp_path / "recordings" / recording.path).read_bytes() == audio
    assert len(oss.bucket.requests) == 1 and oss.bucket.requests[0].startswith(f"/{OBJECT}?Expires=")
    assert "recordings stored: 0" in tick(runner, minutes=10)  # nothing fetched twice
    assert len(oss.bucket.requests) == 1
    assert recording.provider_deleted_at is None
    stored = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_stored")).all()
    assert [(e.entity_id, e.details["sha256"]) for e in stored] == [(recording.id, recording.sha256)]

    case = db.session.scalars(
        select(SupervisionCase)
        .where(SupervisionCase.order.has(order_no="ALI-REC-1"))
        .order_by(SupervisionCase.id)
    ).first()
    assert case is not None
    supervisor, supervisor_user = signed_in("supervisor")
    page = supervisor.get(f"/cases/{case.id}").get_data(as_text=True)
    audio_url = f"/recordings/{recording.id}/audio"
    assert f'src="{audio_url}"' in page and recording.sha256 in page
    played = supervisor.get(audio_url, headers={"Range": "bytes=0-99"})
    assert played.status_code == 206 and played.data == audio[:100]
    assert played.headers["Content-Range"] == f"bytes 0-99/{len(audio)}"
    assert played.mimetype == "audio/wav"
    operator, _ = signed_in("operator")
    assert operator.get(audio_url, headers={"Range": "bytes=0-99"}).status_code == 403
    listens = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_played")).all()
    assert [(e.entity_id, e.actor_id) for e in listens] == [(recording.id, supervisor_user.id)]


def test_a_link_the_bucket_refuses_is_retried_and_never_stored(app, fake, oss, runner):
    client = app.test_client()
    attempt = answered_smartcall(app, client, "ALI-REC-2")
    oss.bucket.objects[OBJECT] = simulated_wav(2, seed="x")
    forged = oss.signed_url(OBJECT, secret="not the bucket's secret")
    assert receipt(client, "record-report", record_report(attempt, forged)).status_code == 200
    assert "to retry: 1" in tick(runner)
    (recording,) = recordings()
    assert (recording.status, recording.sha256, recording.fetch_attempts) == ("pending", None, 1)
    assert "403" in recording.last_error


@pytest.mark.parametrize(
    "record_file",
    [
        "",
        "file:///etc/passwd",
        "ftp://vms-record.example.com/x.wav",
        "https://169.254.169.254/latest/meta-data/",  # not a host recordings come from: never fetched
        "https://evil.example.com/x.wav",
        "simulated:116000000000^102800000000?seconds=5",  # the simulation's source, not a link of Alibaba's
        "https://" + "x" * 2100,
    ],
)
def test_a_record_report_without_a_link_we_can_fetch_notes_nothing(app, fake, record_file):
    client = app.test_client()
    dial(app, "ALI-BAD-1")
    attempt = attempt_of("ALI-BAD-1")
    assert receipt(client, "record-report", record_report(attempt, record_file)).status_code == 200
    assert recordings() == []
    assert not [e for e in attempt_of("ALI-BAD-1").transcript or [] if e["event"] == "recording"]


def test_a_call_id_too_long_to_be_alibabas_is_refused(app, fake):
    client = app.test_client()
    dial(app, "ALI-BAD-2")
    attempt = attempt_of("ALI-BAD-2")
    item = record_report(attempt, "https://vms-record.example.com/r.wav?Signature=x") | {"call_id": "9" * 65}
    response = receipt(client, "record-report", item)
    assert response.status_code == 400 and "call_id" in response.get_json()["msg"]
    assert recordings() == []


def test_an_alibaba_deployment_takes_no_twilio_recording_callbacks(app, fake, twilio_post):
    dial(app, "ALI-TW-1")
    attempt = attempt_of("ALI-TW-1")
    response = twilio_post(
        f"/twilio/recording/{attempt.id}",
        {"RecordingSid": "RE" + "1" * 32, "RecordingStatus": "completed", "RecordingDuration": "4"},
    )
    assert response.status_code == 404 and "TELEPHONY=aliyun" in response.get_data(as_text=True)
    assert recordings() == []


def test_a_twilio_deployment_takes_no_smartcall_record_reports(tmp_path, monkeypatch):
    app = make_app(
        tmp_path,
        monkeypatch,
        TELEPHONY="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM="+861012345678",
        PUBLIC_BASE_URL="https://callback.example.com",
    )
    with app.app_context():
        fresh_schema(app)
        response = app.test_client().post(
            f"/aliyun/{callback_token(app.config)}/record-report",
            json=[{"call_id": "116000000000^102800000000", "out_id": "1", "record_file": "https://x/y.wav"}],
        )
        assert response.status_code == 404 and "TELEPHONY=twilio" in response.get_json()["msg"]
        assert db.session.scalar(select(func.count()).select_from(CallRecording)) == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("protocol", ["aliyun", "both"])
def test_the_simulated_smartcall_customer_leaves_playable_recordings(tmp_path, monkeypatch, protocol):
    """`make run` with SIMULATION_PROTOCOL=aliyun (or both): every answered call has its recording stored."""
    from tests.telephony.helpers import store_connected_orders

    app = make_app(
        tmp_path,
        monkeypatch,
        SIMULATION_PROTOCOL=protocol,
        SIMULATION_MIX="agree=1",
        SIMULATION_SEED=5,
        RECORDINGS_PATH=str(tmp_path / "recordings"),
    )
    with app.app_context():
        fresh_schema(app)
        from callback.settings import current_settings

        store_connected_orders(current_settings(), "SIMREC-1", "SIMREC-2", "SIMREC-3", "SIMREC-4")
        result = app.test_cli_runner().invoke(args=["dialer", "--once"])
        assert "calls placed: 4" in result.output, result.output
        attempts = db.session.scalars(select(CallAttempt).order_by(CallAttempt.id)).all()
        assert {a.disposition for a in attempts} == {"completed"}
        stored = recordings()
        assert sorted(r.attempt_id for r in stored) == [a.id for a in attempts]  # one each
        assert {(r.provider, r.status) for r in stored} == {("simulated", "stored")}
        for recording in stored:
            data = Path(tmp_path / "recordings" / recording.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == recording.sha256
            assert inspect_audio(data).duration_seconds >= 1
        smartcalls = {a.provider_call_sid for a in attempts if "^" in a.provider_call_sid}
        assert smartcalls and {r.provider_recording_id for r in stored} >= smartcalls
        if protocol == "both":
            assert any(a.provider_call_sid.startswith("CA") for a in attempts)
        db.session.remove()
        db.engine.dispose()
