"""The systemd units under deploy/ pass `systemd-analyze verify` with no warning about them."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from callback import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])
EXPECTED = {
    "callback-web.service",
    "callback-dialer@.service",
    "callback-tick.service",
    "callback-tick.timer",
}


@pytest.fixture(scope="module")
def analyze() -> str:
    if not os.access(SYSTEMD_ANALYZE, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SYSTEMD_ANALYZE} is missing; CI needs it (apt-get install systemd)")
        pytest.skip(f"{SYSTEMD_ANALYZE} is missing (apt-get install systemd)")
    return SYSTEMD_ANALYZE


def render(tmp_path: Path) -> Path:
    """Copy the units to a folder where the paths they name exist: the checkout and its venv's programs."""
    root = tmp_path / "root"
    venv_bin = root / "opt/callback/.venv/bin"
    venv_bin.mkdir(parents=True)
    for program in ("gunicorn", "flask"):
        (venv_bin / program).write_text("#!/bin/sh\nexit 0\n")
        (venv_bin / program).chmod(0o755)
    (root / "opt/callback/deploy").mkdir()
    shutil.copy(DEPLOY / "gunicorn.conf.py", root / "opt/callback/deploy")
    (root / "etc/callback").mkdir(parents=True)
    (root / "etc/callback/callback.env").write_text("CALLBACK_TELEPHONY=simulated\n")
    (root / "var/lib/callback").mkdir(parents=True)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS:
        text = unit.read_text()
        for path in ("/opt/callback", "/etc/callback", "/var/lib/callback"):
            text = text.replace(path, f"{root}{path}")
        (units / unit.name).write_text(text)
    return units


def test_the_kit_has_the_web_dialer_and_tick_units():
    assert {unit.name for unit in UNITS} >= EXPECTED


@pytest.mark.parametrize("unit", [unit.name for unit in UNITS])
def test_unit_verifies_without_warnings(analyze, tmp_path, unit):
    units = render(tmp_path)
    # A template is verified through an instance of it, as `systemctl start callback-dialer@1` would load it.
    name = unit.replace("@.", "@1.")
    if name != unit:
        shutil.copy(units / unit, units / name)
    completed = subprocess.run(
        [analyze, "verify", "--man=no", f"./{name}"],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ours = [
        line
        for line in (completed.stdout + completed.stderr).splitlines()
        if "callback" in line or str(units) in line
    ]
    assert completed.returncode == 0, completed.stderr
    assert ours == [], "\n".join(ours)


@pytest.mark.parametrize("unit", [unit.name for unit in UNITS if unit.suffix == ".service"])
def test_services_run_hardened_as_the_callback_user(unit):
    lines = (DEPLOY / unit).read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    assert settings["User"] == "callback"
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["ProtectSystem"] == "strict"
    assert settings["ReadWritePaths"] == "/var/lib/callback"
    assert settings["PrivateTmp"] == "yes"
    assert settings["ProtectHome"] == "yes"
    assert settings["EnvironmentFile"].startswith("/etc/callback/")


def test_tick_timer_fires_every_minute():
    timer = (DEPLOY / "callback-tick.timer").read_text()
    assert "OnCalendar=minutely" in timer
