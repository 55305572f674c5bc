"""Twilio's IVR webhooks under 20 concurrent calls, on gunicorn, against a bare Flask answer of static TwiML.

    .venv/bin/python bench/bench_ivr.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB
    .venv/bin/python bench/bench_ivr.py --calls 20 --calls-per-client 5    # SQLite in a temporary folder
    .venv/bin/python bench/bench_ivr.py --in-process 20 [--database-url …]  # statements and CPU per webhook

The database gets 2 x `--calls` x `--calls-per-client` connected orders whose automated completion calls are
started (task dialing, attempt recorded), as the dialer does before it places a call. Then gunicorn
(deploy/gunicorn.conf.py, 127.0.0.1 only) serves the app, and `--calls` client processes each run their calls
one after the other, as Twilio would: `voice` (answered by a human), one `gather` per question, answered
on the keypad with 1, following the TwiML's action URLs, then the `status` callback `completed`. Every
request carries the X-Twilio-Signature of the real twilio RequestValidator for PUBLIC_BASE_URL + path.

**The anchor**: the same requests, from the same clients, to gunicorn serving a bare Flask app that answers
every POST with the same static TwiML (no database, no signature check). Printed: requests/s, p50 and p99 per
server and the ratios (issue 14's target: webhooks p99 < 100 ms under 20 concurrent calls).

Two paces, each against its anchor at the same pace:

- **calls at a caller's pace** (the target's case): after each answer a client waits `--listen` seconds
  (default 2) before its next request, the time a caller spends hearing a question before pressing a key
  (a question in Mandarin takes 3-8 s to say, so 2 s is brisk); the 20 calls start spread over that time;
- **flat out** (capacity): each client sends its next request the moment the last is answered, so the 20
  calls are 20 callers who answer before the question is asked: requests/s is what one server sustains, and
  p99 is time queued behind the others.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import Request, Script, gunicorn, in_order, line, run_clients

from callback import create_app
from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import ValidOrder, validate_order
from callback.settings import current_settings
from callback.telephony.signing import SIGNATURE_HEADER, public_base_url, public_url, signature
from callback.worklist import start_automated_attempt

# A satisfied customer whose dates match the order (a call that ends without findings, as most do): answering
# 1 everywhere would report a fee asked for and an integrity problem, opening five cases on every call.
KEYPAD_ANSWERS = {
    "is_applicant": "1",
    "applied_on": "1101",
    "progress": "4",
    "meter_notified": "1",
    "trips": "1",
    "extra_documents": "2",
    "fee_requested": "2",
    "integrity": "2",
    "satisfaction": "5",
}
SERVER_CONFIG = {
    "SECRET_KEY": "bench-ivr",  # the simulated Twilio's token derives from it: bench and server agree
    "CALLING_HOURS": "00:00-24:00",
    "TELEPHONY": "simulated",
}


def connected_order(order_no: str, now_iso: str) -> dict:
    """A connected order whose completion callback goes to the dialer."""
    return {
        "order_no": order_no,
        "customer_name": "宏达五金店",
        "customer_phone": "13800138000",
        "address": "城关镇人民路 12 号",
        "customer_type": "small_micro",
        "service_center": "城关供电服务中心",
        "account_manager": "王磊",
        "has_engineering": False,
        "status": "connected",
        "accepted_at": "2026-11-01T09:30:00",
        "due_at": "2026-12-03T17:00:00",
        "surveyed_at": "2026-11-02T10:00:00",
        "connected_at": now_iso,
    }


CONNECTED_ON = (datetime.now(UTC) - timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai"))


def prepare(count: int) -> list[int]:
    """Store the orders and start their automated calls; return the attempts' ids."""
    settings = current_settings()
    now = utcnow()
    connected_at = CONNECTED_ON.astimezone(settings.tz).replace(tzinfo=None)
    items = [
        validate_order(
            connected_order(f"IVR-{n:06d}", connected_at.isoformat(timespec="seconds")), settings.tz, now
        )
        for n in range(count)
    ]
    valid = [item for item in items if isinstance(item, ValidOrder)]
    if len(valid) != count:
        raise SystemExit(
            f"bad bench order: {[item for item in items if not isinstance(item, ValidOrder)][:1]}"
        )
    upsert_orders(db.session, valid, now=now, settings=settings, actor=Actor(source="bench"))
    db.session.commit()
    attempts = []
    for _ in range(count):
        attempt = start_automated_attempt(db.session, now=utcnow(), settings=settings)
        if attempt is None:
            raise SystemExit("no automated task to start: check the bench's orders")
        attempts.append(attempt.id)
        db.session.commit()
    return attempts


def call_script(config: dict, attempt_id: int, signed: bool = True) -> Script:
    """One call as Twilio makes it: voice, each gather its TwiML asks for (answered 1), then status."""
    sid = f"CA{attempt_id:032d}"
    KEYPAD_ANSWERS.setdefault("connected_on", CONNECTED_ON.strftime("%m%d"))
    base = public_base_url(config)
    state = {"step": "voice"}

    def post(path: str, params: dict[str, str]) -> Request:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers[SIGNATURE_HEADER] = signature(config, public_url(config, path), params)
        return ("POST", path, urlencode(params).encode(), headers)

    def next_request(last: bytes | None) -> Request | None:
        if state["step"] == "voice":
            state["step"] = "gather"
            return post(f"/twilio/voice/{attempt_id}", {"CallSid": sid, "AnsweredBy": "human"})
        if state["step"] == "gather":
            gather = ElementTree.fromstring(last or b"<Response/>").find("Gather")  # noqa: S314 (our own TwiML)
            if gather is not None and gather.get("action"):
                action = gather.get("action", "").removeprefix(base)
                question = parse_qs(urlsplit(action).query).get("q", [""])[0]
                return post(action, {"CallSid": sid, "Digits": KEYPAD_ANSWERS.get(question, "1")})
            state["step"] = "done"
            return post(f"/twilio/status/{attempt_id}", {"CallSid": sid, "CallStatus": "completed"})
        return None

    return next_request


def webhook_kind(path: str, answer: bytes) -> str:
    """Name a webhook for the in-process table: voice, gather, last gather (it ends the call), status."""
    kind = path.split("/")[2]
    if kind == "gather" and b"<Gather" not in answer:
        return "last gather"
    return kind


def in_process(app, attempts: list[int], *, show: bool = True) -> None:
    """Run the calls one after the other through Flask's test client: statements and CPU per webhook kind.

    CPU is time.process_time of this process (the app and the database driver; SQLite's work too, not a
    PostgreSQL server's), so it is what one gunicorn worker spends per request, whatever the machine's load.
    """
    from sqlalchemy import event

    config = dict(app.config)
    client = app.test_client()
    statements: dict[str, list[int]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    counted = [0]

    def count(*_args: object) -> None:
        counted[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for attempt_id in attempts:
            script = call_script(config, attempt_id)
            body: bytes | None = None
            while (request := script(body)) is not None:
                _method, path, payload, headers = request
                counted[0] = 0
                started = time.process_time()
                response = client.post(path, data=payload, headers=headers)
                spent = time.process_time() - started
                body = response.get_data()
                if response.status_code >= 300:
                    raise SystemExit(f"{path}: {response.status_code} {body[:200]!r}")
                kind = webhook_kind(path, body)
                statements[kind].append(counted[0])
                cpu[kind].append(spent * 1000)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if not show:
        return
    print(f"{'webhook':<12} {'requests':>8} {'statements':>11} {'CPU ms p50':>11} {'CPU ms mean':>12}")
    for kind in ("voice", "gather", "last gather", "status"):
        print(
            f"{kind:<12} {len(cpu[kind]):>8} {'/'.join(map(str, sorted(set(statements[kind])))):>11} "
            f"{statistics.median(cpu[kind]):>11.2f} {statistics.fmean(cpu[kind]):>12.2f}"
        )
    every = [value for values in cpu.values() for value in values]
    median, mean = statistics.median(every), statistics.fmean(every)
    print(f"{'all':<12} {len(every):>8} {'':>11} {median:>11.2f} {mean:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20, help="concurrent calls (client processes)")
    parser.add_argument("--calls-per-client", type=int, default=3)
    parser.add_argument(
        "--listen", type=float, default=2.0, help="seconds a caller listens between answers (paced run)"
    )
    parser.add_argument("--database-url", default=os.environ.get("CALLBACK_BENCH_DATABASE_URL"))
    parser.add_argument(
        "--in-process",
        type=int,
        metavar="CALLS",
        help="no gunicorn: run CALLS calls through the test client, print statements and CPU per webhook",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
        app = create_app({**SERVER_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.drop_all()
            db.create_all()
            attempts = prepare(args.in_process or 2 * args.calls * args.calls_per_client)  # two paces
            db.session.remove()
            db.engine.dispose()
        if args.in_process:
            print(f"{url.split(':')[0]}: {len(attempts)} calls one after the other, in process (test client)")
            in_process(app, attempts[:1], show=False)  # warm up: imports, compiled statement caches
            in_process(app, attempts[1:])
            with app.app_context():
                db.drop_all()
                db.session.remove()
                db.engine.dispose()
            return
        config = dict(app.config)
        share = args.calls_per_client

        def scripts_for(chosen: list[int], per_client: int):
            return lambda i: [
                call_script(config, attempt_id)
                for attempt_id in chosen[i * per_client : (i + 1) * per_client]
            ]

        env = {f"CALLBACK_{key}": value for key, value in SERVER_CONFIG.items()}
        env |= {"CALLBACK_SQLALCHEMY_DATABASE_URI": url, "CALLBACK_INSTANCE_PATH": folder}
        print(
            f"{url.split(':')[0]}: {len(attempts)} calls, {args.calls} at once, gunicorn + deploy conf",
        )
        # Each pace needs calls not yet answered: the first half of the attempts is paced, the rest flat out.
        paced_attempts, flat_attempts = attempts[: len(attempts) // 2], attempts[len(attempts) // 2 :]
        with gunicorn("callback:create_app()", env) as port:
            paced = run_clients(port, args.calls, scripts_for(paced_attempts, share), pause=args.listen)
            flat = run_clients(port, args.calls, scripts_for(flat_attempts, share))
        # The anchor gets the same sequence of paths (recorded from the real run's shape: voice, gathers,
        # status), so it answers as many requests per call.
        per_call = flat["requests"] // len(flat_attempts)

        def anchor_scripts(calls: int):
            return lambda _i: [
                in_order([("POST", f"/twilio/step/{n}", b"CallSid=x", {}) for n in range(per_call)])
                for _ in range(calls)
            ]

        with gunicorn("serving:bare_app()", env, pythonpath=str(Path(__file__).resolve().parent)) as port:
            paced_anchor = run_clients(port, args.calls, anchor_scripts(share), pause=args.listen)
            flat_anchor = run_clients(port, args.calls, anchor_scripts(share))
        for pace, webhooks, anchor in (
            (f"at a caller's pace ({args.listen:g} s between answers)", paced, paced_anchor),
            ("flat out", flat, flat_anchor),
        ):
            print(f"-- {args.calls} calls at once, {pace}")
            print(line("bare Flask static TwiML (anchor)", anchor))
            print(line("IVR webhooks (voice, gather, status)", webhooks))
            print(
                f"webhooks / anchor: p99 ratio {webhooks['p99'] / anchor['p99']:.1f}, "
                f"requests/s ratio {webhooks['per_second'] / anchor['per_second']:.2f}; "
                f"target p99 < 100 ms: {'met' if webhooks['p99'] < 100 else 'NOT met'}"
            )
            for failure in webhooks["failures"][:5]:
                print("  failed:", failure)
        with app.app_context():
            db.drop_all()
            db.session.remove()
            db.engine.dispose()
        time.sleep(0.1)


if __name__ == "__main__":
    main()
