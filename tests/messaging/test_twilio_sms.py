"""SMS_PROVIDER=twilio: the real twilio library against a fake Messaging API on 127.0.0.1, and the signed
status callback under /twilio/ that moves the message to delivered or failed, never back."""

from collections.abc import Iterator

import pytest
from flask import Flask

from callback.extensions import db
from callback.messaging import sms_status_path
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.messaging.helpers import followup_of, make_unreachable, sms_attempts
from tests.messaging.twilio_fake import FakeMessaging, FakeTwilioServer

SID = "AC" + "0" * 32
TOKEN = "twilio-auth-token-for-tests"


@pytest.fixture
def fake() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer(FakeMessaging(SID, TOKEN)) as server:
        yield server


@pytest.fixture
def app(tmp_path, monkeypatch, fake) -> Iterator[Flask]:
    app = make_app(
        tmp_path,
        monkeypatch,
        TELEPHONY="simulated",
        SMS_PROVIDER="twilio",
        TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_FROM="+15005550006",
        TWILIO_API_BASE=fake.url,
        PUBLIC_BASE_URL="https://callback.example.com",
        TWILIO_HTTP_TIMEOUT_SECONDS=3,
    )
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def tick(runner):
    result = runner.invoke(args=["tick", "--now", TEST_NOW.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_message_is_created_through_twilio_with_its_signed_status_callback(
    app, runner, settings, make_user, fake
):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "TW-1")
    assert "messages sent: 1" in tick(runner)
    [message] = fake.service.messages
    followup = followup_of(task_id)
    assert message["To"] == "+8613800138000" and message["From"] == "+15005550006"
    assert "95598" in message["Body"]
    assert message["StatusCallback"] == f"https://callback.example.com{sms_status_path(followup.id)}"
    assert (followup.state, followup.provider_message_id) == ("sent", message["sid"])
    assert sms_attempts(task_id)[0].provider_call_sid == message["sid"]


def test_receipts_move_the_message_to_delivered_and_never_back(
    app, runner, settings, make_user, fake, twilio_post
):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "TW-2")
    tick(runner)
    followup = followup_of(task_id)
    path = sms_status_path(followup.id)
    sid = followup.provider_message_id
    unsigned = twilio_post(path, {"MessageSid": sid, "MessageStatus": "delivered"}, signed=False)
    assert unsigned.status_code == 403
    assert followup_of(task_id).state == "sent"
    assert twilio_post(path, {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 204
    assert (
        twilio_post(path, {"MessageSid": sid, "MessageStatus": "sent"}).status_code == 204
    )  # late, out of order
    assert followup_of(task_id).state == "delivered"
    assert sms_attempts(task_id)[0].call_status == "delivered"
    assert twilio_post(path, {"MessageSid": "SMother", "MessageStatus": "failed"}).status_code == 409
    assert twilio_post(path, {"MessageSid": sid, "MessageStatus": "exploded"}).status_code == 400
    assert twilio_post(sms_status_path(999), {"MessageSid": sid, "MessageStatus": "sent"}).status_code == 404


def test_an_undelivered_receipt_fails_the_message_with_its_error(
    app, runner, settings, make_user, twilio_post
):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "TW-3")
    tick(runner)
    followup = followup_of(task_id)
    params = {
        "MessageSid": followup.provider_message_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30006",
    }
    assert twilio_post(sms_status_path(followup.id), params).status_code == 204
    followup = followup_of(task_id)
    assert followup.state == "failed" and "30006" in followup.error


def test_a_refusal_fails_the_message_and_a_lost_answer_is_never_sent_again(
    app, runner, settings, make_user, fake
):
    operator = make_user("op", "operator")
    refused = make_unreachable(settings, operator.id, "TW-4")
    lost = make_unreachable(settings, operator.id, "TW-5")
    fake.service.next_create[:] = ["21610", "error500"]
    output = tick(runner)
    assert "not sent: 1" in output and "outcome unknown: 1" in output
    assert followup_of(refused).state == "failed" and "21610" in followup_of(refused).error
    assert followup_of(lost).state == "unknown"
    tick(runner)
    assert len(fake.service.messages) == 0  # the 500 created nothing, and nothing was tried again
    assert len(sms_attempts(lost)) == 1


def test_a_message_whose_answer_was_lost_is_adopted_from_its_receipt(
    app, runner, settings, make_user, fake, twilio_post
):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "TW-6")
    fake.service.next_create.append("lose")
    assert "outcome unknown: 1" in tick(runner)
    [message] = fake.service.messages  # Twilio created it; the answer never came
    followup = followup_of(task_id)
    assert (followup.state, followup.provider_message_id) == ("unknown", None)
    tick(runner)
    assert len(fake.service.messages) == 1  # not sent again
    params = {"MessageSid": message["sid"], "MessageStatus": "delivered"}
    assert twilio_post(sms_status_path(followup.id), params).status_code == 204
    followup = followup_of(task_id)
    assert (followup.state, followup.provider_message_id) == ("delivered", message["sid"])
    assert sms_attempts(task_id)[0].provider_call_sid == message["sid"]
