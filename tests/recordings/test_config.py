"""The recordings' configuration keys: defaults, environment, and clear refusals."""

from pathlib import Path

import pytest

from callback import create_app
from callback.recordings.storage import recordings_directory
from callback.settings import current_settings


def test_defaults_keep_recordings_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    with app.app_context():
        settings = current_settings()
        assert recordings_directory(app) == Path(tmp_path / "inst" / "recordings")
        assert settings.delete_provider_recordings is False
        assert settings.recording_max_bytes == 20 * 1024 * 1024


def test_the_environment_sets_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("CALLBACK_RECORDINGS_PATH", str(tmp_path / "volume"))
    monkeypatch.setenv("CALLBACK_DELETE_PROVIDER_RECORDINGS", "true")
    monkeypatch.setenv("CALLBACK_RECORDING_MAX_MB", "5")
    app = create_app()
    with app.app_context():
        assert recordings_directory(app) == tmp_path / "volume"
        assert current_settings().delete_provider_recordings is True
        assert current_settings().recording_max_bytes == 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("key", "value"),
    [("RECORDING_MAX_MB", "0"), ("RECORDING_MAX_MB", "lots"), ("DELETE_PROVIDER_RECORDINGS", "yes please")],
)
def test_bad_values_stop_start_up_naming_the_key(tmp_path, monkeypatch, key, value):
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(f"CALLBACK_{key}", value)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert key in str(stopped.value)
