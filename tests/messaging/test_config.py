"""The message follow-up and spot-check keys: defaults, and a clear refusal of bad values at start-up."""

import pytest

from callback import create_app
from callback.settings import current_settings


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("SMS_FOLLOWUP", '"yes"', "SMS_FOLLOWUP"),
        ("SMS_PROVIDER", "pigeon", "SMS_PROVIDER"),
        ("SMS_PROVIDER", "twilio", "SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID"),
        ("SMS_PROVIDER", "aliyun", "SMS_PROVIDER=aliyun needs SMS_TEMPLATE_CODE"),
        ("SMS_PER_SECOND", "0", "SMS_PER_SECOND"),
        ("SMS_FOLLOWUP_WITHIN_HOURS", "0", "SMS_FOLLOWUP_WITHIN_HOURS"),
        ("SERVICE_HOTLINE", "call us", "SERVICE_HOTLINE"),
        ("SMS_TWILIO_BODY", "详见 t.cn/abc 或拨打{hotline}", "must not carry a link"),
        ("SMS_TWILIO_BODY", "请拨打{hotline}{name}", "placeholders"),
        ("QA_SAMPLE_PER_OPERATOR", "0", "QA_SAMPLE_PER_OPERATOR"),
    ],
)
def test_bad_values_stop_start_up_with_a_clear_message(tmp_path, monkeypatch, key, value, complaint):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(f"CALLBACK_{key}", value)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert complaint in str(stopped.value)


def test_the_defaults_follow_telephony_and_can_be_set(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path))
    with create_app().app_context():
        settings = current_settings()
        assert (settings.sms_followup, settings.sms_provider, settings.service_hotline) == (
            True,
            "simulated",
            "95598",
        )
        assert settings.qa_sample_per_operator == 5
    monkeypatch.setenv("CALLBACK_QA_SAMPLE_PER_OPERATOR", "8")
    monkeypatch.setenv("CALLBACK_SMS_FOLLOWUP", "false")
    with create_app().app_context():
        assert (current_settings().qa_sample_per_operator, current_settings().sms_followup) == (8, False)
