"""`make load`: a working day's load on gunicorn + PostgreSQL, measured (issue 14, "Under load").

    .venv/bin/python bench/load/run_load.py                   # 10 minutes on database cb_load
    LOAD_MINUTES=1 LOAD_DATABASE=cb_load_short .venv/bin/python bench/load/run_load.py

It drops and creates the database (on 127.0.0.1:5432 as postgres unless LOAD_PG_URL says otherwise), migrates
it, seeds users, a token and open orders (bench/load/seed.py), starts gunicorn with deploy/gunicorn.conf.py on
127.0.0.1, four `flask dialer` processes (TELEPHONY=simulated, at their shared pace cap) and a tick loop, then
runs Locust headless (bench/load/locustfile.py: 50 operators, the integration at 10 orders/s, 3 supervisors).
During the run it samples every process's CPU (psutil) and the database's connections (pg_stat_activity).
Then it
checks that no claim was ever duplicated and prints the report: p50/p95/p99 per endpoint, errors, claims,
calls, connections and CPU. Everything listens on loopback only; everything it starts, it stops.
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
SAMPLE_SECONDS = 2.0
INTEGRATION_USERS = 5


@dataclass
class Samples:
    connections: list[dict[str, int]] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    system_busy: list[float] = field(default_factory=list)
    machine_busy_seconds: float = 0.0
    load_average: list[float] = field(default_factory=list)
    group_busy: dict[str, list[float]] = field(default_factory=dict)


def environment(database_url: str, instance: Path, pace: float) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CALLBACK_SQLALCHEMY_DATABASE_URI": database_url,
            "CALLBACK_SECRET_KEY": "load-test-secret-key-not-for-production-0123456789",
            "CALLBACK_INSTANCE_PATH": str(instance),
            "CALLBACK_TELEPHONY": "simulated",
            # The load test runs whenever it is started: customers may be called around the clock here.
            "CALLBACK_CALLING_HOURS": "00:00-24:00",
            "CALLBACK_DIALER_CALLS_PER_SECOND": str(pace),
            "CALLBACK_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" ENCODING UTF8 TEMPLATE template0')


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} did not answer 200 within {seconds:g} s")


def process_tree(pid: int) -> list[psutil.Process]:
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def sampler(
    stop: threading.Event, samples: Samples, groups: dict[str, list[int]], pg_url: str, database: str
) -> None:
    """Every SAMPLE_SECONDS: CPU seconds per group of processes, the machine's CPU, the connections."""
    last: dict[int, float] = {}
    last_system = psutil.cpu_times()
    with psycopg.connect(pg_url, autocommit=True) as connection:
        while not stop.wait(SAMPLE_SECONDS):
            rows = connection.execute(
                "SELECT pid, coalesce(state, '') FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid()",
                (database,),
            ).fetchall()
            states: dict[str, int] = {"total": len(rows)}
            for _, state in rows:
                states[state or "other"] = states.get(state or "other", 0) + 1
            samples.connections.append(states)
            members: dict[str, list[psutil.Process]] = {
                name: [p for pid in pids for p in process_tree(pid)] for name, pids in groups.items()
            }
            members["postgres (this database's backends)"] = [
                p for pid, _ in rows if (p := _process(pid)) is not None
            ]
            for name, processes in members.items():
                used = 0.0
                for process in processes:
                    try:
                        times = process.cpu_times()
                    except psutil.Error:
                        continue
                    total = times.user + times.system
                    used += total - last.get(process.pid, 0.0 if name.startswith("postgres") else total)
                    last[process.pid] = total
                samples.cpu_seconds[name] = samples.cpu_seconds.get(name, 0.0) + used
                samples.group_busy.setdefault(name, []).append(used / SAMPLE_SECONDS)
            system = psutil.cpu_times()
            busy = (sum(system) - system.idle - system.iowait) - (
                sum(last_system) - last_system.idle - last_system.iowait
            )
            samples.system_busy.append(busy / (sum(system) - sum(last_system)) * 100)
            # cpu_times() adds up every core: busy core-seconds of the whole machine in this interval.
            samples.machine_busy_seconds += busy
            last_system = system
            samples.load_average.append(os.getloadavg()[0])


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def check_claims(connection: psycopg.Connection, started: float) -> dict[str, int]:
    """Claims never duplicated: no task claimed again while its previous claim's lease was still running."""
    figures: dict[str, int] = {}
    figures["claims"] = connection.execute(
        "SELECT count(*) FROM audit_events WHERE action = 'task.claimed'"
    ).fetchone()[0]
    figures["operator claims"] = connection.execute(
        "SELECT count(*) FROM audit_events e JOIN users u ON u.id = e.actor_id "
        "WHERE e.action = 'task.claimed' AND u.role = 'operator'"
    ).fetchone()[0]
    # Each claim against the event on the same task before it among those that take or end a claim: a claim
    # right after a claim whose lease had not run out would be one task held twice.
    figures["duplicated claims"] = connection.execute(
        """
        WITH events AS (
            SELECT action, at, lag(action) OVER w AS previous_action, lag(details) OVER w AS previous_details
            FROM audit_events
            WHERE entity_type = 'callback_task' AND action IN ('task.claimed', 'task.released', 'task.state')
            WINDOW w AS (PARTITION BY entity_id ORDER BY id)
        )
        SELECT count(*) FROM events
        WHERE action = 'task.claimed' AND previous_action = 'task.claimed'
          AND (previous_details ->> 'until')::timestamp > at
        """
    ).fetchone()[0]
    # And from the calls' side: no task with two attempts open at once (two people or dialers on one task).
    figures["overlapping attempts"] = connection.execute(
        """
        SELECT count(*) FROM call_attempts a JOIN call_attempts b
          ON a.task_id = b.task_id AND a.id < b.id
         AND b.started_at < coalesce(a.ended_at, 'infinity'::timestamp)
         AND a.started_at < coalesce(b.ended_at, 'infinity'::timestamp)
        """
    ).fetchone()[0]
    return figures


def activity(connection: psycopg.Connection) -> dict[str, int]:
    figures: dict[str, int] = {}
    for channel, count in connection.execute(
        "SELECT t.channel, count(*) FROM call_attempts a JOIN callback_tasks t ON t.id = a.task_id GROUP BY 1"
    ):
        figures[f"call attempts ({channel})"] = count
    figures["supervision cases"] = connection.execute("SELECT count(*) FROM supervision_cases").fetchone()[0]
    figures["orders pushed by the integration (new)"] = connection.execute(
        "SELECT count(*) FROM work_orders WHERE order_no LIKE 'LOAD-I%'"
    ).fetchone()[0]
    return figures


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def report(
    stats: list[dict[str, str]],
    samples: Samples,
    claims: dict[str, int],
    calls: dict[str, int],
    minutes: float,
    access_5xx: int,
    workers: int,
    threads: int,
    pace: float,
    restarts: int,
) -> str:
    lines = [
        f"## Load test: {minutes:g} min, 50 operators, 4 dialers, integration 10 orders/s, 3 supervisors",
        "",
    ]
    lines.append("| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in stats:
        name = row["Name"] if row["Name"] != "Aggregated" else "**all**"
        lines.append(
            f"| {row['Type']} {name} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['Requests/s']):.2f} | {row['50%']} | {row['95%']} | {row['99%']} | "
            f"{float(row['Max Response Time']):.0f} |"
        )
    total = next((r for r in stats if r["Name"] == "Aggregated"), None)
    lines.append("")
    lines.append(
        f"- errors: {total['Failure Count'] if total else '?'} failed requests; {access_5xx} 5xx in "
        "gunicorn's access log"
    )
    for key, value in {**claims, **calls}.items():
        lines.append(f"- {key}: {value}")
    seconds = minutes * 60
    automated = sum(v for k, v in calls.items() if k.startswith("call attempts") and "operator" not in k)
    pushes = sum(int(r["Request Count"]) for r in stats if r["Name"].startswith("/api/v1/work-orders"))
    lines.append(
        f"- rates: {claims['operator claims'] / seconds:.2f} operator claims/s, {automated / seconds:.2f} "
        f"automated calls/s (pace cap {pace:g}/s), {pushes / seconds:.2f} orders/s pushed by the integration "
        "(target 10/s)"
    )
    lines.append(f"- gunicorn worker restarts (max_requests): {restarts}")
    totals = [c["total"] for c in samples.connections]
    active = [c.get("active", 0) for c in samples.connections]
    lines.append(
        f"- database connections (pg_stat_activity, every {SAMPLE_SECONDS:g} s): "
        f"max {max(totals, default=0)} "
        f"open, mean {sum(totals) / max(1, len(totals)):.1f}; active at once: max {max(active, default=0)}, "
        f"p95 {percentile(active, 0.95):.0f}, mean {sum(active) / max(1, len(active)):.1f} "
        f"(gunicorn: {workers} workers × {threads} threads)"
    )
    lines.append(
        f"- machine CPU busy: mean {sum(samples.system_busy) / max(1, len(samples.system_busy)):.0f} %, p95 "
        f"{percentile(samples.system_busy, 0.95):.0f} % of {psutil.cpu_count()} cores; load average mean "
        f"{sum(samples.load_average) / max(1, len(samples.load_average)):.1f}"
    )
    wall = minutes * 60
    lines.append("")
    lines.append("| processes | CPU seconds | cores used (mean) | cores used (p95 of samples) |")
    lines.append("| --- | ---: | ---: | ---: |")
    for name, seconds in sorted(samples.cpu_seconds.items(), key=lambda item: -item[1]):
        busy = samples.group_busy.get(name, [])
        lines.append(f"| {name} | {seconds:.0f} | {seconds / wall:.2f} | {percentile(busy, 0.95):.2f} |")
    others = samples.machine_busy_seconds - sum(samples.cpu_seconds.values())
    lines.append(
        f"| everything else on the machine (other jobs, PostgreSQL's own processes, the kernel) | "
        f"{others:.0f} | {others / wall:.2f} | |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("LOAD_DATABASE", "cb_load"))
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("LOAD_MINUTES", "10")))
    parser.add_argument("--orders", type=int, default=int(os.environ.get("LOAD_ORDERS", "20000")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOAD_PORT", "8765")))
    parser.add_argument("--dialers", type=int, default=4)
    parser.add_argument(
        "--pace",
        type=float,
        default=float(os.environ.get("LOAD_DIALER_PACE", "4")),
        help="DIALER_CALLS_PER_SECOND shared by the dialers (their pace cap)",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for Locust's CSV and the logs")
    parser.add_argument("--pg", default=os.environ.get("LOAD_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    if args.database in {"postgres", "test", "template0", "template1"}:
        raise SystemExit(f"refusing to recreate the database {args.database!r}")

    out = args.out or Path(tempfile.mkdtemp(prefix="callback-load-"))
    out.mkdir(parents=True, exist_ok=True)
    instance = out / "instance"
    instance.mkdir(exist_ok=True)
    pg_url = f"{args.pg}/{args.database}"
    database_url = f"{args.pg.replace('postgresql://', 'postgresql+psycopg://')}/{args.database}"
    env = environment(database_url, instance, args.pace)
    flask = [str(VENV_BIN / "flask"), "--app", "callback"]

    print(f"== database {args.database}: recreate, migrate, seed {args.orders} orders (output in {out})")
    recreate_database(f"{args.pg}/template1", args.database)
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    seeded = json.loads(
        subprocess.run(
            [sys.executable, str(HERE / "seed.py"), "--orders", str(args.orders)],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    started: list[subprocess.Popen] = []
    groups: dict[str, list[int]] = {}

    def start(
        name: str, command: list[str], log: str, extra: dict[str, str] | None = None
    ) -> subprocess.Popen:
        handle = open(out / log, "w", encoding="utf-8")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            command,
            env={**env, **(extra or {})},
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        groups.setdefault(name, []).append(process.pid)
        return process

    gunicorn_env = {"GUNICORN_BIND": f"127.0.0.1:{args.port}"}
    start(
        "gunicorn (master + workers)",
        [
            str(VENV_BIN / "gunicorn"),
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{args.port}",
            "callback:create_app()",
        ],
        "gunicorn.log",
        gunicorn_env,
    )
    try:
        wait_for(f"http://127.0.0.1:{args.port}/healthz", 90)
        for number in range(1, args.dialers + 1):
            start("dialers", [*flask, "dialer", "--name", f"load-dialer-{number}"], f"dialer-{number}.log")
        start("tick loop", [*flask, "tick-loop", "--every", "60"], "tick.log")
        users = seeded["operators"] + seeded["supervisors"] + INTEGRATION_USERS
        locust_env = {
            "LOAD_PASSWORD": seeded["password"],
            "LOAD_TOKEN": seeded["token"],
            "LOAD_SEEDED_ORDERS": str(args.orders),
            "PYTHONPATH": str(ROOT),
            "LOAD_INTEGRATION_USERS": str(INTEGRATION_USERS),
        }
        stop = threading.Event()
        samples = Samples()
        print(f"== locust: {users} users for {args.minutes:g} min against 127.0.0.1:{args.port}")
        began = time.time()
        locust = start(
            "locust (the load generator)",
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                "10",
                "--run-time",
                f"{int(args.minutes * 60)}s",
                "--host",
                f"http://127.0.0.1:{args.port}",
                "--csv",
                str(out / "load"),
                "--only-summary",
                "--stop-timeout",
                "30",
                "--exit-code-on-error",
                "0",
            ],
            "locust.log",
            locust_env,
        )
        thread = threading.Thread(target=sampler, args=(stop, samples, dict(groups), pg_url, args.database))
        thread.start()
        locust.wait()
        stop.set()
        thread.join()
        minutes = (time.time() - began) / 60
    finally:
        for process in reversed(started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    with psycopg.connect(pg_url) as connection:
        claims = check_claims(connection, began)
        calls = activity(connection)
    access_5xx = sum(
        1
        for line in (out / "gunicorn.log").read_text(encoding="utf-8", errors="replace").splitlines()
        if '" 5' in line and "HTTP/" in line
    )
    workers = int(os.environ.get("GUNICORN_WORKERS") or max(2, min((os.cpu_count() or 2) + 1, 9)))
    threads = int(os.environ.get("GUNICORN_THREADS") or 4)
    log = (out / "gunicorn.log").read_text(encoding="utf-8", errors="replace")
    restarts = log.count("Autorestarting worker")
    stats = read_stats(out / "load")
    text = report(stats, samples, claims, calls, minutes, access_5xx, workers, threads, args.pace, restarts)
    (out / "report.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\n(report, Locust's CSV and the servers' logs in {out})")
    failed = claims["duplicated claims"] or claims["overlapping attempts"]
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
