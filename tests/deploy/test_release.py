"""deploy/release.sh: what a release does, shown by --dry-run and done for real on a scratch instance."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from callback import PROJECT_ROOT
from tests.conftest import POSTGRES_URL

RELEASE = PROJECT_ROOT / "deploy" / "release.sh"
VENV = Path(sys.executable).parent.parent


def release(*options: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(RELEASE), *options],
        # The scratch instance's own database, whatever the caller's shell points at.
        env={**{k: v for k, v in os.environ.items() if k != "CALLBACK_SQLALCHEMY_DATABASE_URI"}, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_dry_run_lists_install_backup_migrate_restart_and_changes_nothing(tmp_path):
    venv = tmp_path / "venv"
    done = release(
        "--dry-run",
        env={
            "CALLBACK_VENV": str(venv),
            "CALLBACK_ENV_FILE": "",
            "CALLBACK_INSTANCE_PATH": str(tmp_path / "i"),
        },
    )
    assert done.returncode == 0, done.stderr
    commands = [line for line in done.stdout.splitlines() if line.startswith("+ ")]
    expected = [
        "-m venv",
        "pip install",
        "pybabel compile",
        "compileall",
        "db current",
        "backup",
        "db upgrade",
        "systemctl reload-or-restart callback-web.service",
        "systemctl restart callback-dialer@*.service",
        "/healthz",
    ]
    assert len(commands) == len(expected), done.stdout
    for command, fragment in zip(commands, expected, strict=True):
        assert fragment in command, (fragment, command)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_option_is_refused(tmp_path):
    done = release("--fast", env={"CALLBACK_ENV_FILE": ""})
    assert done.returncode == 2
    assert "unknown option --fast" in done.stderr


@pytest.mark.skipif(POSTGRES_URL is not None, reason="runs in the SQLite pass (a scratch SQLite instance)")
def test_release_migrates_a_new_instance_then_backs_it_up_before_the_next_migration(tmp_path):
    instance = tmp_path / "instance"
    env_file = tmp_path / "callback.env"
    env_file.write_text(f"CALLBACK_INSTANCE_PATH={instance}\nCALLBACK_SECRET_KEY=release-test\n")
    env = {
        "CALLBACK_VENV": str(VENV),
        "CALLBACK_ENV_FILE": str(env_file),
        "CALLBACK_USER": "root" if os.geteuid() == 0 else os.environ.get("USER", ""),
    }
    head = ScriptDirectory(str(PROJECT_ROOT / "callback" / "migrations")).get_current_head()

    first = release("--skip-install", "--no-restart", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "no schema yet" in first.stdout
    with sqlite3.connect(instance / "callback.sqlite") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)

    second = release("--skip-install", "--no-restart", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    (backup,) = (instance / "backups").iterdir()
    assert backup.name.startswith("pre-release-") and head in backup.name
    assert f"flask db downgrade {head}" in second.stdout
    with sqlite3.connect(backup) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)
