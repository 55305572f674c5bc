"""What bench_api.py and bench_ivr.py share: gunicorn started on 127.0.0.1, concurrent HTTP clients, and
the anchor app (a bare Flask answer of static TwiML). Not a bench itself (`make bench` runs bench_*.py).
"""

import http.client
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATIC_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="zh-CN">您好，这里是供电服务回访。</Say>'
    "<Hangup/></Response>"
)


def bare_app():
    """The anchor: Flask answering every POST with the same static TwiML, no database, no signature."""
    from flask import Flask, Response

    app = Flask("bare")

    @app.post("/<path:anything>")
    def answer(anything: str) -> Response:
        return Response(STATIC_TWIML, mimetype="text/xml")

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], *, pythonpath: str | None = None) -> Iterator[int]:
    """Run gunicorn with deploy/gunicorn.conf.py on a free 127.0.0.1 port; yield the port, stop it after."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
    ]
    if pythonpath:
        command += ["--pythonpath", pythonpath]
    # The access log goes to a file: an unread pipe fills after a few hundred requests and blocks the workers.
    log = tempfile.NamedTemporaryFile("w+", prefix="gunicorn-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [*command, app_spec], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise SystemExit(f"gunicorn exited: {log.read()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start within 120 s") from None
                time.sleep(0.2)
        _warm_up(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.seek(0)
        errors = [entry for entry in log if '"level": "error"' in entry or "Traceback" in entry]
        if errors:
            print(f"  gunicorn logged {len(errors)} errors, the first: {errors[0][:300]}")
        log.close()


def _warm_up(port: int, connections: int = 12) -> None:
    """Open connections at once until every worker has answered (each imports the app when it boots)."""

    def one() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(3):
            connection.request("GET", "/")
            connection.getresponse().read()

    threads = [threading.Thread(target=one) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers
# A script gives the next request from the body of the last answer (None at first), or None when done.
Script = Callable[[bytes | None], Request | None]


def in_order(requests: list[Request]) -> Script:
    """Return a script that sends the requests one after the other, whatever the answers."""
    pending = iter(requests)
    return lambda _last: next(pending, None)


def _client(
    port: int,
    make_scripts: Callable[[int], list[Script]],
    index: int,
    clients: int,
    pause: float,
    barrier: Any,
    results: Any,
) -> None:
    """Run this client's scripts over one keep-alive connection, timing each request.

    `pause` seconds pass between an answer and the next request (untimed): a caller listening to the question
    before pressing a key. Paced clients start spread over one pause, as calls begin at different moments.
    """
    scripts = make_scripts(index)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies: list[float] = []
    failures: list[str] = []
    barrier.wait()
    began = time.perf_counter()
    time.sleep(pause * index / clients)
    for script in scripts:
        body: bytes | None = None
        while (request := script(body)) is not None:
            method, path, payload, headers = request
            started = time.perf_counter()
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - started)
            if response.status >= 300:
                failures.append(f"{method} {path}: {response.status} {body[:200]!r}")
            time.sleep(pause)
    results.put((began, time.perf_counter(), latencies, failures))


def run_clients(
    port: int, clients: int, make_scripts: Callable[[int], list[Script]], *, pause: float = 0.0
) -> dict[str, Any]:
    """Run `clients` processes together; return requests/s over the wall time, p50/p99 ms and failures.

    `make_scripts(i)` builds client i's scripts before the clock starts (one IVR call each, say); `pause`:
    seconds between an answer and the client's next request (0: flat out).
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients)
    results = context.Queue()
    processes = [
        context.Process(target=_client, args=(port, make_scripts, i, clients, pause, barrier, results))
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(latency for _, _, lats, _ in outcomes for latency in lats)
    wall = max(end for _, end, _, _ in outcomes) - min(begin for begin, _, _, _ in outcomes)
    return {
        "requests": len(latencies),
        "wall": wall,
        "per_second": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "failures": [failure for _, _, _, fails in outcomes for failure in fails],
    }


def line(name: str, figures: dict[str, Any], unit: str = "req/s") -> str:
    return (
        f"{name:<34} {figures['per_second']:8.1f} {unit}  p50 {figures['p50']:7.1f} ms  "
        f"p99 {figures['p99']:7.1f} ms  ({figures['requests']} requests, {len(figures['failures'])} failed)"
    )
