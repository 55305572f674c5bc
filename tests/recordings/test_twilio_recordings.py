"""A Twilio call, end to end through the real twilio library against a fake Twilio on 127.0.0.1:
recorded, fetched by tick, hashed, deleted at Twilio, and played from its case by those allowed."""

import hashlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from callback.extensions import db
from callback.models import AuditEvent, CallAttempt, CallRecording, SupervisionCase
from callback.recordings.audio import simulated_wav
from callback.settings import current_settings
from callback.telephony import make_provider
from callback.telephony.dialer import Dialer
from callback.telephony.pacing import CallPacer
from tests.conftest import TEST_NOW
from tests.recordings.conftest import PUBLIC_BASE, Visitor
from tests.recordings.fake_twilio import ACCOUNT_SID
from tests.telephony.helpers import parse_twiml, store_connected_orders

RECORDING_SID = "RE" + "5" * 32
# Answers that disagree with the system (it says connected): cases open.
DISAGREEING_KEYS = {
    "is_applicant": "1",
    "applied_on": "1101",
    "progress": "3",
    "trips": "4",
    "extra_documents": "2",
    "fee_requested": "2",
    "integrity": "2",
    "satisfaction": "2",
}


def place_call(app, fake_twilio) -> CallAttempt:
    """Let the dialer place one call through the twilio library, against the fake API."""
    store_connected_orders(current_settings(), "REC-1")
    dialer = Dialer(
        db.session,
        make_provider(app),
        CallPacer(db.engine, 1000),
        current_settings(),
        app.config,
        lambda: TEST_NOW,
    )
    assert dialer.run_pass().placed == 1
    attempt = db.session.scalars(select(CallAttempt)).one()
    return attempt


def run_survey(twilio_post, attempt: CallAttempt) -> None:
    """Answer the IVR by keys, as the customer's phone would, then end the call."""
    sid = attempt.provider_call_sid
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": sid, "AnsweredBy": "human"})
    assert parse_twiml(response.get_data(as_text=True)).find("Say").text == "本次通话将被录音。"
    while (gather := parse_twiml(response.get_data(as_text=True)).find("Gather")) is not None:
        action = gather.get("action").removeprefix(PUBLIC_BASE)
        code = action.split("q=")[1].split("&")[0]
        response = twilio_post(action, {"CallSid": sid, "Digits": DISAGREEING_KEYS[code]})
    twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": sid, "CallStatus": "completed"})


def recording_ready(twilio_post, attempt: CallAttempt, *, signed: bool = True, **overrides: str):
    params = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": attempt.provider_call_sid,
        "RecordingSid": RECORDING_SID,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}",
        "RecordingStatus": "completed",
        "RecordingDuration": "4",
        "RecordingChannels": "2",
        "RecordingSource": "OutboundAPI",
        **overrides,
    }
    return twilio_post(f"/twilio/recording/{attempt.id}", params, signed=signed)


def listen(visitor: Visitor, url: str, range_header: str | None = None):
    """GET the audio as a player would."""
    return visitor.get(url, headers={"Range": range_header} if range_header else {})


def tick(runner, minutes: int = 5) -> str:
    moment = (TEST_NOW + timedelta(minutes=minutes)).isoformat()
    result = runner.invoke(args=["tick", "--now", moment])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_twilio_call_leaves_a_hashed_recording_a_supervisor_plays_from_the_case(
    app, fake_twilio, runner, twilio_post, signed_in, tmp_path
):
    attempt = place_call(app, fake_twilio)
    (created,) = fake_twilio.calls
    assert created["Record"] == ["true"]
    assert created["RecordingChannels"] == ["dual"]
    assert created["RecordingStatusCallback"] == [f"{PUBLIC_BASE}/twilio/recording/{attempt.id}"]
    assert created["RecordingStatusCallbackMethod"] == ["POST"]
    assert created["RecordingStatusCallbackEvent"] == ["completed"]

    run_survey(twilio_post, attempt)
    audio = simulated_wav(4, seed="the customer")
    fake_twilio.recordings[RECORDING_SID] = audio
    assert recording_ready(twilio_post, attempt).status_code == 204
    assert recording_ready(twilio_post, attempt).status_code == 204  # Twilio retried: stored once
    assert db.session.scalar(select(func.count()).select_from(CallRecording)) == 1

    output = tick(runner)
    assert "recordings stored: 1" in output and "deleted at the provider: 1" in output
    db.session.expire_all()
    recording = db.session.scalars(select(CallRecording)).one()
    assert recording.status == "stored"
    assert recording.sha256 == hashlib.sha256(audio).hexdigest()
    assert (recording.channels, recording.duration_seconds) == (2, 4.0)
    assert (recording.size_bytes, recording.content_type) == (len(audio), "audio/wav")
    assert (tmp_path / "recordings" / recording.path).read_bytes() == audio
    assert fake_twilio.media_requests == [
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}.wav"
    ]
    assert fake_twilio.deleted == [RECORDING_SID]  # DELETE_PROVIDER_RECORDINGS: one copy, ours
    assert "recordings stored: 0" in tick(runner, minutes=10)  # nothing fetched twice

    case = db.session.scalars(select(SupervisionCase).order_by(SupervisionCase.id)).first()
    supervisor, supervisor_user = signed_in("supervisor")
    page = supervisor.get(f"/cases/{case.id}").get_data(as_text=True)
    audio_url = f"/recordings/{recording.id}/audio"
    assert f'src="{audio_url}"' in page and recording.sha256 in page
    played = listen(supervisor, audio_url, "bytes=0-99")
    assert played.status_code == 206
    assert played.data == audio[:100]
    assert played.headers["Content-Range"] == f"bytes 0-99/{len(audio)}"
    assert played.mimetype == "audio/wav"
    seek = listen(supervisor, audio_url, "bytes=1000-")
    assert seek.status_code == 206 and seek.data == audio[1000:]
    whole = listen(supervisor, audio_url)
    assert whole.status_code == 200 and whole.data == audio
    listens = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_played")).all()
    # The player's requests (start, seek, whole) are one listen in the audit trail.
    assert [(event.entity_id, event.actor_id) for event in listens] == [(recording.id, supervisor_user.id)]

    letter_case = case.id
    supervisor.post(f"/cases/{letter_case}/transition", data={"to": "investigating"})
    supervisor.post(f"/cases/{letter_case}/transition", data={"to": "letter_issued", "requirements": "整改"})
    letter = supervisor.get(f"/cases/{letter_case}/letter").get_data(as_text=True)
    assert recording.sha256 in letter and "<audio" not in letter


def test_operators_may_not_listen_and_discipline_only_once_the_case_is_referred(
    app, fake_twilio, runner, twilio_post, signed_in
):
    attempt = place_call(app, fake_twilio)
    run_survey(twilio_post, attempt)
    fake_twilio.recordings[RECORDING_SID] = simulated_wav(2, seed="x")
    recording_ready(twilio_post, attempt)
    tick(runner)
    recording = db.session.scalars(select(CallRecording)).one()
    audio_url = f"/recordings/{recording.id}/audio"

    operator, _ = signed_in("operator")
    assert listen(operator, audio_url, "bytes=0-99").status_code == 403
    discipline, _ = signed_in("discipline")
    assert listen(discipline, audio_url).status_code == 403
    integration, _ = signed_in("integration")
    assert listen(integration, audio_url).status_code == 403
    assert listen(Visitor(app), audio_url).status_code in (302, 401)  # not signed in: to the login page
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "recording_played")
        )
        == 0
    )

    case = db.session.scalars(select(SupervisionCase).order_by(SupervisionCase.id)).first()
    supervisor, _ = signed_in("supervisor")
    assert supervisor.post(f"/cases/{case.id}/referral", data={"note": "索要好处"}).status_code == 302
    played = listen(discipline, audio_url, "bytes=0-9")
    assert played.status_code == 206 and len(played.data) == 10
    page = discipline.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'src="{audio_url}"' in page
    assert listen(operator, audio_url).status_code == 403


def test_unsigned_or_malformed_recording_callbacks_are_refused_and_change_nothing(
    app, fake_twilio, twilio_post
):
    attempt = place_call(app, fake_twilio)
    assert recording_ready(twilio_post, attempt, signed=False).status_code == 403
    for bad in (
        {"RecordingSid": "RE123"},
        {"RecordingDuration": "-3"},
        {"RecordingChannels": "3"},
        {"RecordingStatus": "exploded"},
    ):
        response = recording_ready(twilio_post, attempt, **bad)
        assert response.status_code == 400 and "Recording" in response.get_data(as_text=True)
    assert recording_ready(twilio_post, attempt, CallSid="CA" + "9" * 32).status_code == 409
    assert recording_ready(twilio_post, attempt, RecordingStatus="absent").status_code == 204
    assert (
        twilio_post(
            "/twilio/recording/999", {"RecordingSid": RECORDING_SID, "RecordingStatus": "completed"}
        ).status_code
        == 404
    )
    assert db.session.scalar(select(func.count()).select_from(CallRecording)) == 0


def test_a_failed_fetch_is_retried_by_tick_with_backoff(app, fake_twilio, runner, twilio_post, signed_in):
    attempt = place_call(app, fake_twilio)
    run_survey(twilio_post, attempt)
    fake_twilio.recordings[RECORDING_SID] = audio = simulated_wav(2, seed="retry")
    fake_twilio.fail_media = 1
    recording_ready(twilio_post, attempt)
    assert "to retry: 1" in tick(runner, minutes=5)
    db.session.expire_all()
    recording = db.session.scalars(select(CallRecording)).one()
    assert (recording.status, recording.fetch_attempts) == ("pending", 1)
    assert "500" in recording.last_error
    assert recording.next_fetch_at == TEST_NOW + timedelta(minutes=6)
    case = db.session.scalars(select(SupervisionCase).order_by(SupervisionCase.id)).first()
    supervisor, _ = signed_in("supervisor")
    page = supervisor.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "recording-pending" in page and "<audio" not in page
    assert "recordings stored: 0" in tick(runner, minutes=5)  # not due yet: Twilio is not asked
    assert len(fake_twilio.media_requests) == 1
    assert "recordings stored: 1" in tick(runner, minutes=7)
    db.session.expire_all()
    stored = db.session.get(CallRecording, recording.id)
    assert stored.status == "stored" and stored.sha256 == hashlib.sha256(audio).hexdigest()
    assert Path(app.config["RECORDINGS_PATH"], stored.path).read_bytes() == audio


def test_the_order_page_lists_the_recordings_to_those_who_may_listen(
    app, fake_twilio, runner, twilio_post, signed_in
):
    attempt = place_call(app, fake_twilio)
    run_survey(twilio_post, attempt)
    fake_twilio.recordings[RECORDING_SID] = simulated_wav(2, seed="order")
    recording_ready(twilio_post, attempt)
    tick(runner)
    recording = db.session.scalars(select(CallRecording)).one()
    supervisor, _ = signed_in("supervisor")
    page = supervisor.get("/orders/REC-1").get_data(as_text=True)
    assert 'id="order-recordings"' in page and f"/recordings/{recording.id}/audio" in page
    operator, _ = signed_in("operator")
    page = operator.get("/orders/REC-1").get_data(as_text=True)
    assert 'id="order-recordings"' not in page and recording.sha256 not in page
