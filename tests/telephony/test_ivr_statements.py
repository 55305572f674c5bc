"""The IVR's webhooks run a handful of SQL statements each (issue 14): the customer hears each as silence.

Counted on a whole call as Twilio makes it: voice, a gather per question, the last gather (which ends the
call: disposition, task state, findings, audit), then the final status callback.
"""

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Text, cast, event, func, select

from callback.extensions import db
from callback.models import Answer, AuditEvent, CallAttempt, CallbackTask
from tests.telephony.helpers import parse_twiml

SID = "CA" + "5" * 32
# A satisfied customer whose dates match the order: the call ends without findings, as most do.
KEYS = {
    "is_applicant": "1",
    "applied_on": "1123",
    "progress": "4",
    "connected_on": "1126",
    "meter_notified": "1",
    "trips": "1",
    "extra_documents": "2",
    "fee_requested": "2",
    "integrity": "2",
    "satisfaction": "5",
}
# The most statements each webhook may run (before issue 14: voice 8, gather 10, last gather 17, status 4).
# The applied_on gather also writes the date on the order (work_orders.stated_applied_on): one more.
MOST = {
    "voice": 4,
    "gather": 5,
    "applied_on gather": 6,
    "retry": 4,
    "last gather": 11,
    "status": 3,
    "late status": 2,
}
# PostgreSQL writes a turn's answer, attempt and lease in one statement: lock, read, write.
MOST_POSTGRESQL = MOST | {
    "voice": 3,
    "gather": 3,
    "applied_on gather": 4,
    "retry": 3,
    "last gather": 10,
    "status": 2,
}


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def action_of(response) -> str | None:
    gather = parse_twiml(response.get_data(as_text=True)).find("Gather")
    return None if gather is None else gather.get("action", "").removeprefix("http://127.0.0.1:5000")


def test_each_webhook_of_a_whole_call_runs_at_most_a_few_statements(start_call, twilio_post):
    attempt = start_call()
    counts: dict[str, list[int]] = defaultdict(list)

    def post(kind: str, path: str, params: dict[str, str]):
        with counting() as statements:
            response = twilio_post(path, params)
        assert response.status_code in (200, 204), response.get_data(as_text=True)
        counts[kind].append(len(statements))
        return response

    post("status", f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "ringing"})
    response = post("voice", f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    response = post("retry", action_of(response), {"CallSid": SID, "Digits": "7"})  # invalid: asked again
    while (action := action_of(response)) is not None:
        question = action.split("q=")[1].split("&")[0]
        kind = "applied_on gather" if question == "applied_on" else "gather"
        following = post(kind, action, {"CallSid": SID, "Digits": KEYS[question]})
        if action_of(following) is None:
            counts["last gather"].append(counts[kind].pop())
        response = following
    post("late status", f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "completed"})

    most = MOST_POSTGRESQL if db.engine.dialect.name == "postgresql" else MOST
    assert set(counts) == set(most)
    too_many = {kind: max(values) for kind, values in counts.items() if max(values) > most[kind]}
    assert too_many == {}, f"statements per webhook: {dict(counts)}"
    assert len(counts["gather"]) + len(counts["applied_on gather"]) == len(KEYS) - 1
    # And the call is whole: every answer stored, the attempt completed, its task done and audited.
    db.session.expire_all()
    done = db.session.get(CallAttempt, attempt.id)
    assert done is not None and done.disposition == "completed" and done.call_status == "completed"
    assert db.session.scalar(select(func.count()).select_from(Answer)) == len(KEYS)
    assert db.session.get(CallbackTask, done.task_id).state == "done"
    assert "attempt.recorded" in set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == attempt.id))
    )
    events = [entry["event"] for entry in done.transcript]
    assert events.count("pressed") == len(KEYS) + 1 and events[-1] == "status"
    # Each turn appended its entries to the stored text: the same text as the whole list written at once.
    stored = db.session.scalar(select(cast(CallAttempt.transcript, Text)).where(CallAttempt.id == attempt.id))
    assert stored == json.dumps(done.transcript)
