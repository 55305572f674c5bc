"""gunicorn settings for callback in production.

    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8000 'callback:create_app()'

Everything here can be tuned from the environment (systemd: the EnvironmentFile), no edit needed:

    GUNICORN_WORKERS   processes (default: CPU cores + 1, at least 2, at most 9; WEB_CONCURRENCY also works)
    GUNICORN_THREADS   threads per process (default 4)
    GUNICORN_TIMEOUT   seconds a worker may go silent before it is replaced (default 120)
    GUNICORN_GRACEFUL_TIMEOUT  seconds a stopping worker lets its requests finish (default 600)
    GUNICORN_BIND      the address when --bind is not given (default 127.0.0.1:8000)
    GUNICORN_CMD_ARGS  any other gunicorn option, gunicorn's own variable

Workers are threaded (gthread): a worker's main thread keeps reporting to the arbiter while a request thread
builds a large export, so long downloads are not cut off by the timeout, which only catches a hung worker.
What does end a download is a worker stopping (after max_requests, or on a reload): it stops taking requests
and gives those in flight graceful_timeout seconds, then exits. A million-row export streams for minutes
(bench/README.md, bench_exports.py), so graceful_timeout is above that.
"""

import json
import os
import re
from datetime import UTC, datetime

from gunicorn.glogging import Logger


def _number(name: str, default: int, *, fallback: str | None = None) -> int:
    value = os.environ.get(name) or (os.environ.get(fallback) if fallback else None)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise SystemExit(f"gunicorn.conf.py: {name} must be at least 1, got {value!r}")
    return number


# 2 cores: 3 workers x 4 threads; 8 cores: 9 x 4. Each worker holds the app (pandas included, ~150 MB).
_cores = os.cpu_count() or 2
workers = _number("GUNICORN_WORKERS", max(2, min(_cores + 1, 9)), fallback="WEB_CONCURRENCY")
threads = _number("GUNICORN_THREADS", 4)
worker_class = "gthread"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

timeout = _number("GUNICORN_TIMEOUT", 120)
# Graceful restarts: on SIGHUP (systemctl reload) or SIGTERM, workers finish their requests for this long.
# Long enough for a million-row export in flight when a worker is recycled (max_requests) or reloaded; the
# worker takes no new request meanwhile. `systemctl stop` still ends it after TimeoutStopSec.
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 600)
# Longer than nginx's upstream keepalive_timeout (60 s by default; deploy/nginx keeps 16 idle connections):
# the proxy must be the one to close an idle connection. Were gunicorn first (it was 5 s), nginx could send
# a request down a connection gunicorn is closing, and the user gets a 502 (the load test saw these as
# connection resets: bench/README.md). Idle connections wait in the worker's poller and hold no thread.
keepalive = 75
# Replace each worker after about a thousand requests (jittered, so they do not all restart together):
# a slow leak in any library never grows without bound.
max_requests = 1000
max_requests_jitter = 100
# Not preloaded, so `systemctl reload callback-web` (SIGHUP) starts workers on the newly installed code.
preload_app = False
# The workers' heartbeat files in memory, not on a disk that may stall (and /tmp may be private or full).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Requests to stdout (journald keeps them); gunicorn's own messages to stderr.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Long digit runs in a path are phone numbers (e.g. /api/v1/do-not-call/+8613800138000): never logged.
_PHONE = re.compile(r"\+?\d{7,}")


class AccessLogger(Logger):
    """gunicorn's logger, with the access line's path scrubbed of phone numbers and its query left out.

    Query strings carry searches (customer names) and tokens are never in a URL here, so the line keeps the
    method, the path, the protocol, the status, the size, the duration and the request id.
    """

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        path = _PHONE.sub("***", environ.get("PATH_INFO") or "")
        atoms["U"] = path
        atoms["q"] = ""
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["iso"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        atoms["json"] = json.dumps(
            {
                "time": atoms["iso"],
                "logger": "gunicorn.access",
                "client": atoms["h"],
                "method": atoms["m"],
                "path": path,
                "status": atoms["s"],
                "bytes": atoms["B"],
                "duration_ms": atoms["M"],
                "request_id": atoms.get("{x-request-id}o"),
            },
            ensure_ascii=False,
        )
        return atoms


logger_class = AccessLogger
if os.environ.get("CALLBACK_LOG_FORMAT", "text") == "json":
    access_log_format = "%(json)s"
else:
    # time, client address (the real client's, once ProxyFix has read X-Forwarded-For), request, status,
    # bytes, duration in milliseconds, request id.
    access_log_format = '%(iso)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """Tell prometheus_client (multiprocess mode, /metrics) that a worker is gone, when it is in use."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    try:
        from prometheus_client import multiprocess
    except ImportError:
        return
    multiprocess.mark_process_dead(worker.pid)
