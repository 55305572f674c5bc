"""instance/config.py.example names every configuration key, explains each, and works as it stands."""

import re

import callback.config_defaults
from callback import PROJECT_ROOT, create_app
from callback.settings import current_settings

EXAMPLE = PROJECT_ROOT / "instance" / "config.py.example"
SETTING = re.compile(r"^# ([A-Z][A-Z0-9_]*) = (.+)$")
# The keys of the contract's second round (section 6, "Additions"), whichever branch defines them.
ADDITIONS = {
    "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_MINUTES",
    "TRUSTED_PROXIES", "RETENTION_DAYS", "LOG_LEVEL", "LOG_FORMAT", "METRICS_ENABLED", "RECORDINGS_PATH",
    "DELETE_PROVIDER_RECORDINGS", "TELEPHONY", "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET",
    "ALIYUN_CALLED_SHOW_NUMBER", "ALIYUN_VMS_ENDPOINT", "QA_SAMPLE_PER_OPERATOR", "MIN_SAMPLE",
    "APPOINTMENT_OWNER_MINUTES",
}  # fmt: skip


def example_settings() -> dict[str, tuple[str, str]]:
    """Return {key: (value text, the comment line above it)}."""
    lines = EXAMPLE.read_text().splitlines()
    found = {}
    for number, line in enumerate(lines):
        match = SETTING.match(line)
        if match:
            found[match.group(1)] = (match.group(2), lines[number - 1])
    return found


def test_every_key_of_the_defaults_and_of_the_contract_is_in_the_example():
    keys = {name for name in dir(callback.config_defaults) if name.isupper()} | ADDITIONS | {"SECRET_KEY"}
    assert sorted(keys - set(example_settings())) == []


def test_every_key_has_its_own_explanation_above_it():
    for key, (_, above) in example_settings().items():
        assert above.startswith("# ") and not SETTING.match(above), f"{key} has no comment of its own"


def test_the_example_uncommented_is_the_defaults(tmp_path, monkeypatch):
    """Copied to the instance folder with every setting uncommented, it starts the app and changes nothing."""
    instance = tmp_path / "instance"
    instance.mkdir()
    uncommented = [SETTING.sub(r"\1 = \2", line) for line in EXAMPLE.read_text().splitlines()]
    (instance / "config.py").write_text("\n".join(uncommented) + "\n")
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(instance))
    app = create_app()
    with app.app_context():
        assert current_settings().max_attempts == 3
    for key in (name for name in dir(callback.config_defaults) if name.isupper()):
        assert app.config[key] == getattr(callback.config_defaults, key), key
