"""Configuration: defaults < instance/config.py < CALLBACK_* environment; bad values stop start-up."""

import pytest

from callback import create_app
from callback.extensions import db
from callback.settings import current_settings


def test_environment_overrides_instance_config_which_overrides_defaults(tmp_path, monkeypatch):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text('MAX_ATTEMPTS = 5\nLEASE_MINUTES = 20\nTIMEZONE = "Asia/Urumqi"\n')
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("CALLBACK_LEASE_MINUTES", "7")
    app = create_app()
    with app.app_context():
        settings = current_settings()
        assert settings.max_attempts == 5
        assert settings.lease_minutes == 7
        assert str(settings.tz) == "Asia/Urumqi"
        assert settings.repeat_trips_min == 2
        assert db.engine.url.database == str(instance / "callback.sqlite")


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path / "inst"))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("CALLING_HOURS", "20:00-08:00", "CALLING_HOURS"),
        ("MAX_ATTEMPTS", "many", "MAX_ATTEMPTS"),
        ("LEASE_MINUTES", "0", "LEASE_MINUTES"),
        ("AUTO_KINDS", "completion,robocall", "AUTO_KINDS"),
        ("TELEPHONY", "carrier-pigeon", "TELEPHONY"),
        ("TELEPHONY", "twilio", "TWILIO_ACCOUNT_SID"),
        ("EXTRA_HOLIDAYS", "2026-02-30", "EXTRA_HOLIDAYS"),
        ("SESSION_IDLE_MINUTES", "0", "SESSION_IDLE_MINUTES"),
        ("SESSION_MAX_HOURS", "half", "SESSION_MAX_HOURS"),
        ("LOGIN_MAX_FAILURES", "0", "LOGIN_MAX_FAILURES"),
        ("LOGIN_LOCKOUT_MINUTES", "-5", "LOGIN_LOCKOUT_MINUTES"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "0", "LOGIN_MAX_FAILURES_PER_ADDRESS"),
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES"),
        ("PASSWORD_HASH_METHOD", "md5", "PASSWORD_HASH_METHOD"),
        ("PREFERRED_URL_SCHEME", "ftp", "PREFERRED_URL_SCHEME"),
    ],
)
def test_bad_configuration_stops_start_up_with_a_clear_message(tmp_path, monkeypatch, key, value, complaint):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(f"CALLBACK_{key}", value)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert complaint in str(stopped.value)


def test_auto_kinds_may_be_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CALLBACK_AUTO_KINDS", "")
    with create_app().app_context():
        assert current_settings().auto_kinds == frozenset()


def test_the_session_and_sign_in_keys_have_the_contracts_defaults_and_can_be_set(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path))
    with create_app().app_context():
        settings = current_settings()
        assert settings.session_idle.total_seconds() == 30 * 60
        assert settings.session_max.total_seconds() == 12 * 3600
        assert (settings.login_max_failures, settings.login_lockout.total_seconds()) == (5, 15 * 60)
        assert settings.trusted_proxies == 0
    monkeypatch.setenv("CALLBACK_SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("CALLBACK_LOGIN_MAX_FAILURES", "3")
    with create_app().app_context():
        assert current_settings().session_idle.total_seconds() == 10 * 60
        assert current_settings().login_max_failures == 3
