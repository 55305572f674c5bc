#!/usr/bin/env bash
# Release the checked-out code on this host: install it into the venv, back the database up, migrate it,
# build the static files, then restart the services gracefully and wait until /healthz answers.
#
#   sudo deploy/release.sh [--dry-run] [--skip-install] [--no-backup] [--no-migrate] [--no-restart]
#
#   --dry-run       print every command instead of running it
#   --skip-install  keep the venv as it is (the code was installed by other means)
#   --no-backup     no `flask backup` before migrating (there is a fresh backup already)
#   --no-migrate    no `flask db upgrade` (a second web host of a release another host migrated)
#   --no-restart    leave the services running (first install, or a host without systemd)
#
# Environment (defaults in brackets): CALLBACK_VENV [<checkout>/.venv], CALLBACK_USER [callback],
# CALLBACK_ENV_FILE [/etc/callback/callback.env], CALLBACK_INSTANCE_PATH [/var/lib/callback],
# CALLBACK_BACKUP_DIR [<instance>/backups], CALLBACK_HEALTH_URL [http://127.0.0.1:8000/healthz].
# docs/operations.md, "Upgrade", walks through it and through rolling a release back.
set -euo pipefail

checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dry_run=0 install=1 backup=1 migrate=1 restart=1
for argument in "$@"; do
  case "$argument" in
    --dry-run) dry_run=1 ;;
    --skip-install) install=0 ;;
    --no-backup) backup=0 ;;
    --no-migrate) migrate=0 ;;
    --no-restart) restart=0 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release.sh: unknown option $argument (see --help)" >&2; exit 2 ;;
  esac
done

env_file="${CALLBACK_ENV_FILE-/etc/callback/callback.env}"

step() { echo "== $*"; }
run() {
  if [ "$dry_run" = 1 ]; then
    echo "+ $*"
  else
    "$@"
  fi
}
# The app's commands run as the service user, with the services' environment file.
as_app() {
  if [ "$(id -u)" = 0 ] && [ "$run_as" != root ]; then
    run runuser -u "$run_as" -- "$@"
  else
    run "$@"
  fi
}
flask() { as_app "$venv/bin/flask" --app callback "$@"; }
# Read-only look-ups run even in a dry run (as the service user: the app may create its instance files).
look() {
  if [ "$(id -u)" = 0 ] && [ "$run_as" != root ]; then
    runuser -u "$run_as" -- "$@"
  else
    "$@"
  fi
}

if [ -n "$env_file" ]; then
  if [ -r "$env_file" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
  elif [ "$dry_run" = 1 ]; then
    echo "(dry run: $env_file is not readable; a real run needs it)"
  else
    echo "release.sh: cannot read $env_file (set CALLBACK_ENV_FILE, or CALLBACK_ENV_FILE= for none)" >&2
    exit 1
  fi
fi

# The units' defaults, unless the environment file or the caller chose otherwise.
export CALLBACK_INSTANCE_PATH="${CALLBACK_INSTANCE_PATH:-/var/lib/callback}"
venv="${CALLBACK_VENV:-$checkout/.venv}"
run_as="${CALLBACK_USER:-callback}"
backup_dir="${CALLBACK_BACKUP_DIR:-$CALLBACK_INSTANCE_PATH/backups}"
health_url="${CALLBACK_HEALTH_URL:-http://127.0.0.1:8000/healthz}"

cd "$checkout"
echo "releasing $(git -C "$checkout" describe --always --dirty 2>/dev/null || echo "$checkout")"

if [ "$install" = 1 ]; then
  step "install into $venv"
  if [ ! -x "$venv/bin/python" ]; then
    run python3 -m venv "$venv"
  fi
  # Editable: the app finds its templates, static files and migrations in this checkout.
  run "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$checkout"
  run "$venv/bin/pybabel" compile --use-fuzzy -d "$checkout/callback/translations"
  # The services may not write the checkout (ProtectSystem=strict): compile the bytecode now.
  run "$venv/bin/python" -m compileall -q "$checkout/callback"
fi

if [ "$migrate" = 1 ]; then
  if [ "$backup" = 1 ]; then
    step "back up the database before migrating"
    if [ "$dry_run" = 1 ]; then
      flask db current
      flask backup "$backup_dir/pre-release-<time>.backup"
    else
      current="$(look "$venv/bin/flask" --app callback db current 2>/dev/null | grep -Eo '^[0-9a-z]+' | head -n 1 || true)"
      if [ -n "$current" ]; then
        as_app mkdir -p "$backup_dir"
        target="$backup_dir/pre-release-$(date -u +%Y%m%dT%H%M%SZ)-$current.backup"
        flask backup "$target"
        echo "schema was at $current; to roll back: flask db downgrade $current, or restore $target"
      else
        echo "no schema yet: nothing to back up"
      fi
    fi
  fi
  step "migrate the database"
  flask db upgrade
fi

# The build of static/ that nginx and WhiteNoise serve (STATIC_BUILD_PATH), when this version has it.
if [ -x "$venv/bin/flask" ] && look "$venv/bin/flask" --app callback --help 2>/dev/null | grep -q collect-static; then
  step "build the static files"
  flask collect-static
fi

if [ "$restart" = 1 ]; then
  step "restart the services"
  # Web: SIGHUP, new workers on the new code while the old ones finish their requests.
  run systemctl reload-or-restart callback-web.service
  # Dialers: each finishes the call it is placing, then starts again on the new code.
  run systemctl restart 'callback-dialer@*.service'
  # callback-tick.timer starts a fresh `tick` every minute: it picks the new code up by itself.
  step "wait for $health_url"
  if [ "$dry_run" = 1 ]; then
    echo "+ (poll $health_url until it answers 200, at most 60 s)"
  else
    "$venv/bin/python" - "$health_url" <<'PY'
import sys
import time
import urllib.error
import urllib.request

url = sys.argv[1]
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310  (the operator's own URL)
            print(f"{url}: {answer.status} {answer.read().decode()[:200]}")
            break
    except (urllib.error.URLError, OSError) as error:
        if time.monotonic() > deadline:
            sys.exit(f"release.sh: {url} does not answer 200 ({error}); see journalctl -u callback-web")
        time.sleep(2)
PY
  fi
fi
step "released"
