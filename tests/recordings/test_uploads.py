"""Uploads of an operator's call recording: who may, which files, how large; hashed like the rest."""

import hashlib
import io
from datetime import UTC, datetime

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from callback.extensions import db
from callback.models import AuditEvent, CallRecording
from callback.recordings.audio import simulated_wav
from callback.users import create_user
from tests.conftest import fresh_schema, make_app
from tests.recordings.conftest import Visitor, operator_call

# Forty MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, stereo): about a second of silence.
MP3 = b"\xff\xfb\x90\x00" + bytes(413)
MP3_FILE = MP3 * 40


def upload(visitor, attempt_id: int, data: bytes, filename: str, **fields: str):
    """POST the file as a browser's multipart form does (encoded in memory: no temporary file to leak)."""
    file = FileStorage(io.BytesIO(data), filename=filename, content_type="application/octet-stream")
    boundary, body = encode_multipart(MultiDict({"file": file, **fields}))
    return visitor.post(
        f"/recordings/attempts/{attempt_id}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def stored() -> list[CallRecording]:
    db.session.expire_all()
    return list(db.session.scalars(select(CallRecording).order_by(CallRecording.id)))


def test_the_operator_who_made_the_call_attaches_a_wav_hashed_and_audited(app, signed_in, tmp_path):
    operator, user = signed_in("operator", "op-wang")
    attempt = operator_call(user)
    page = operator.get(f"/operator/attempts/{attempt.id}").get_data(as_text=True)
    assert 'id="recording-upload"' in page and 'enctype="multipart/form-data"' in page
    audio = simulated_wav(3, seed="recorder", channels=1)
    response = upload(operator, attempt.id, audio, "20261127-1002.wav")
    assert response.status_code == 302
    (recording,) = stored()
    assert (recording.provider, recording.status, recording.attempt_id) == ("upload", "stored", attempt.id)
    assert recording.sha256 == hashlib.sha256(audio).hexdigest()
    assert (recording.channels, recording.duration_seconds, recording.size_bytes) == (1, 3.0, len(audio))
    assert recording.uploaded_by_id == user.id and recording.original_filename == "20261127-1002.wav"
    assert (tmp_path / "recordings" / recording.path).read_bytes() == audio
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_uploaded")).one()
    assert (event.actor_id, event.entity_id) == (user.id, recording.id)
    page = operator.get(f"/operator/attempts/{attempt.id}").get_data(as_text=True)
    assert recording.sha256 in page
    assert "<audio" not in page  # operators attach, they do not listen
    # The same file again is refused: it is already attached.
    upload(operator, attempt.id, audio, "again.wav")
    assert len(stored()) == 1
    assert "这段录音已附加到该通话" in operator.get(f"/operator/attempts/{attempt.id}").get_data(as_text=True)


def test_mp3_is_accepted_and_a_supervisor_may_attach_too(app, signed_in):
    _, user = signed_in("operator")
    attempt = operator_call(user)
    supervisor, boss = signed_in("supervisor")
    assert (
        upload(supervisor, attempt.id, b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FILE, "call.mp3").status_code
        == 302
    )
    (recording,) = stored()
    assert (recording.content_type, recording.uploaded_by_id) == ("audio/mpeg", boss.id)
    assert recording.path.endswith(".mp3") and recording.duration_seconds == 1.04
    page = supervisor.get(f"/operator/attempts/{attempt.id}").get_data(as_text=True)
    assert f"/recordings/{recording.id}/audio" in page  # supervisors may listen


def test_type_is_checked_by_content_not_name_and_size_by_the_limit(app, signed_in):
    operator, user = signed_in("operator")
    attempt = operator_call(user)
    refusals = [
        (b"%PDF-1.7 not a recording" * 10, "call.wav", "不是 WAV 或 MP3"),
        (b"RIFF\x24\x00\x00\x00WAVEjunk", "call.wav", "不是 WAV 或 MP3"),  # a WAV header, nothing behind it
        (b"\xff\xfbjunk", "call.mp3", "不是 WAV 或 MP3"),
        (b"", "call.wav", "请选择"),
        (simulated_wav(70, seed="long"), "long.wav", "大于 1 MB"),  # RECORDING_MAX_MB = 1 here
    ]
    for data, name, message in refusals:
        response = upload(operator, attempt.id, data, name)
        assert response.status_code == 302
        page = operator.get(response.headers["Location"]).get_data(as_text=True)
        assert message in page, (name, message)
    # A real WAV named .mp3 is taken for what it is.
    audio = simulated_wav(1, seed="named wrong")
    upload(operator, attempt.id, audio, "call.mp3")
    (recording,) = stored()
    assert recording.content_type == "audio/wav" and recording.path.endswith(".wav")


def test_other_operators_and_automated_calls_get_no_upload(app, signed_in):
    operator, user = signed_in("operator", "op-li")
    attempt = operator_call(user)
    colleague, _ = signed_in("operator", "op-zhao")
    assert upload(colleague, attempt.id, simulated_wav(1, seed="c"), "c.wav").status_code == 403
    discipline, _ = signed_in("discipline")
    assert upload(discipline, attempt.id, simulated_wav(1, seed="d"), "d.wav").status_code == 403
    assert upload(operator, 999, simulated_wav(1, seed="e"), "e.wav").status_code == 404
    assert stored() == []


def test_the_upload_form_checks_its_csrf_token(tmp_path, monkeypatch, fake_twilio):
    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        fresh_schema(app)
        user = create_user(db.session, "op-csrf", "operator", "correct horse battery", now=datetime.now(UTC))
        db.session.commit()
        attempt = operator_call(user)
        visitor = Visitor(app)
        login_page = visitor.get("/login").get_data(as_text=True)
        token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        visitor.post(
            "/login", data={"username": "op-csrf", "password": "correct horse battery", "csrf_token": token}
        )
        response = upload(visitor, attempt.id, simulated_wav(1, seed="x"), "x.wav")
        assert response.status_code == 302
        assert db.session.scalar(select(func.count()).select_from(CallRecording)) == 0
        page = visitor.get(f"/operator/attempts/{attempt.id}").get_data(as_text=True)
        token = page.split('id="csrf_token" name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = upload(visitor, attempt.id, simulated_wav(1, seed="x"), "x.wav", csrf_token=token)
        assert response.status_code == 302
        assert db.session.scalar(select(func.count()).select_from(CallRecording)) == 1
        db.session.remove()
        db.engine.dispose()
