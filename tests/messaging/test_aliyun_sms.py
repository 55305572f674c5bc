"""SMS_PROVIDER=aliyun: Alibaba's own dysmsapi SDK (SendSms with TemplateCode, SignName, TemplateParam)
against the signature-checking fake on 127.0.0.1, and SmsReport receipts pushed to /aliyun/<token>/."""

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from callback.extensions import db
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.messaging.helpers import followup_of, make_unreachable, sms_attempts
from tests.telephony.aliyun_fake import FakeVoiceServer, FakeVoiceService

KEY_ID = "LTAI5tFakeKeyForTests"
SECRET = "fake-secret-0123456789abcdef"
TOKEN = "tok_3f9a1c7e5b2d4a6f8e0c"


@pytest.fixture
def fake() -> Iterator[FakeVoiceServer]:
    with FakeVoiceServer(FakeVoiceService(KEY_ID, SECRET)) as server:
        yield server


def sms_config(fake: FakeVoiceServer, **changes: object) -> dict[str, object]:
    return {
        "SMS_PROVIDER": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": SECRET,
        "ALIYUN_SMS_ENDPOINT": fake.url,
        "ALIYUN_CALLBACK_TOKEN": TOKEN,
        "SMS_TEMPLATE_CODE": "SMS_465390001",
        "SMS_SIGN_NAME": "国网某某供电公司",
        "SERVICE_HOTLINE": "95598",
        "TWILIO_HTTP_TIMEOUT_SECONDS": 3,
        **changes,
    }


@pytest.fixture
def app(tmp_path, monkeypatch, fake) -> Iterator[Flask]:
    app = make_app(tmp_path, monkeypatch, **sms_config(fake))
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def tick(runner):
    result = runner.invoke(args=["tick", "--now", TEST_NOW.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_sendsms_carries_the_template_the_signature_and_the_hotline(app, runner, settings, make_user, fake):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "ALI-1")
    assert "messages sent: 1" in tick(runner)
    assert fake.service.refusals == []  # the signature check passed
    [message] = fake.service.messages
    followup = followup_of(task_id)
    assert message["PhoneNumbers"] == "13800138000"
    assert (message["TemplateCode"], message["SignName"]) == ("SMS_465390001", "国网某某供电公司")
    assert json.loads(message["TemplateParam"]) == {"hotline": "95598"}
    assert message["OutId"] == str(followup.id)
    assert (followup.state, followup.provider_message_id) == ("sent", message["BizId"])
    assert sms_attempts(task_id)[0].provider_call_sid == message["BizId"]


def test_smsreport_receipts_deliver_or_fail_and_need_the_token(
    app, runner, settings, make_user, fake, client
):
    operator = make_user("op", "operator")
    delivered = make_unreachable(settings, operator.id, "ALI-2")
    failed = make_unreachable(settings, operator.id, "ALI-3")
    tick(runner)
    first, second = followup_of(delivered), followup_of(failed)
    receipts = [
        {"phone_number": "13800138000", "send_time": "2026-11-27 10:00:01",
         "report_time": "2026-11-27 10:00:05",
         "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1",
         "biz_id": first.provider_message_id, "out_id": str(first.id)},
        {"phone_number": "13800138000", "send_time": "2026-11-27 10:00:02",
         "report_time": "2026-11-27 10:00:09",
         "success": False, "err_code": "MK:0001", "err_msg": "用户停机", "sms_size": "1",
         "biz_id": second.provider_message_id, "out_id": str(second.id)},
    ]  # fmt: skip
    assert client.post("/aliyun/wrong-token-000000/sms-report", json=receipts).status_code == 403
    assert followup_of(delivered).state == "sent"
    answer = client.post(f"/aliyun/{TOKEN}/sms-report", data=json.dumps(receipts), content_type="text/plain")
    assert answer.status_code == 200 and answer.json == {"code": 0, "msg": "成功"}
    assert followup_of(delivered).state == "delivered"
    assert followup_of(failed).state == "failed" and "MK:0001" in followup_of(failed).error
    assert sms_attempts(failed)[0].call_status == "failed"
    receipts[0]["success"] = False  # a repeated push never moves a final state
    assert client.post(f"/aliyun/{TOKEN}/sms-report", json=receipts).status_code == 200
    assert followup_of(delivered).state == "delivered"
    assert client.post(f"/aliyun/{TOKEN}/sms-report", json={"nothing": 1}).status_code == 400


def test_a_template_the_platform_refuses_fails_the_message(app, runner, settings, make_user, fake):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "ALI-4")
    fake.service.next_send_sms.append("isv.SMS_TEMPLATE_ILLEGAL")
    assert "not sent: 1" in tick(runner)
    followup = followup_of(task_id)
    assert followup.state == "failed" and "isv.SMS_TEMPLATE_ILLEGAL" in followup.error


def test_start_up_refuses_a_missing_template_or_a_link_in_the_text(tmp_path, monkeypatch, fake):
    with pytest.raises(SystemExit, match="SMS_TEMPLATE_CODE"):
        make_app(tmp_path, monkeypatch, **sms_config(fake, SMS_TEMPLATE_CODE=None))
    with pytest.raises(SystemExit, match="must not carry a link"):
        make_app(
            tmp_path,
            monkeypatch,
            **sms_config(fake, SMS_TWILIO_BODY="请访问 https://example.com 或致电{hotline}"),
        )
    with pytest.raises(SystemExit, match="SERVICE_HOTLINE"):
        make_app(tmp_path, monkeypatch, **sms_config(fake, SERVICE_HOTLINE="www.95598.cn"))
    with pytest.raises(SystemExit, match="hotline"):
        make_app(tmp_path, monkeypatch, **sms_config(fake, SMS_TWILIO_BODY="您好"))
