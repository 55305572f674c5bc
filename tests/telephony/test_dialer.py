"""The dialer: attempts recorded before calls, lost responses, refusals, calling hours, the simulation."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.extensions import db
from callback.models import CallAttempt, CallbackTask, SupervisionCase
from callback.settings import current_settings
from callback.telephony.dialer import Dialer, DialerStopped
from callback.telephony.pacing import CallPacer
from callback.telephony.port import CallOutcomeUnknown, CallPlaced, CallRejected, OutboundCall
from callback.tick import run_tick
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.telephony.helpers import store_connected_orders


class ScriptedProvider:
    """A provider that answers from a script and notes what the database held when each call was placed."""

    name = "scripted"

    def __init__(self, *results, found: str | None = None) -> None:
        self.results = list(results)
        self.found = found
        self.calls: list[OutboundCall] = []
        self.lookups = 0
        self.seen_at_placing: list[tuple[str, int]] = []
        self.ended: list[str] = []

    def place_call(self, call: OutboundCall):
        with Session(db.engine) as other:  # what any other process sees at this moment
            state = other.scalar(
                select(CallbackTask.state).join(CallAttempt).where(CallAttempt.id == call.attempt_id)
            )
            self.seen_at_placing.append((state, call.attempt_id))
        self.calls.append(call)
        return self.results.pop(0) if self.results else CallPlaced(f"CA{len(self.calls):032d}")

    def find_call(self, call, placed_after):
        self.lookups += 1
        return self.found

    def end_call(self, sid: str) -> None:
        self.ended.append(sid)

    def run_pending(self) -> None:
        pass


def dialer_for(provider, settings=None) -> Dialer:
    settings = settings or current_settings()
    from flask import current_app

    return Dialer(
        db.session, provider, CallPacer(db.engine, 1000), settings, current_app.config, lambda: TEST_NOW
    )


def test_the_attempt_is_recorded_and_the_task_dialing_before_the_call_is_placed(app, settings):
    store_connected_orders(settings, "D-1", "D-2")
    provider = ScriptedProvider()
    report = dialer_for(provider).run_pass()
    assert report.placed == 2
    assert [state for state, _ in provider.seen_at_placing] == ["dialing", "dialing"]
    call = provider.calls[0]
    assert call.to == "+8613800138000"
    assert call.voice_url == f"http://127.0.0.1:5000/twilio/voice/{call.attempt_id}"
    assert call.status_url == f"http://127.0.0.1:5000/twilio/status/{call.attempt_id}"
    attempt = db.session.get(CallAttempt, call.attempt_id)
    assert attempt.provider_call_sid == f"CA{1:032d}" and attempt.channel == "auto"
    assert attempt.slot == call.slot == "weekday_morning"  # Friday 10:00 in Beijing
    # Both tasks are dialing: the next pass places nothing.
    assert dialer_for(provider).run_pass().placed == 0


def test_a_lost_response_is_looked_up_never_dialled_again_and_recovered_by_tick(app, settings):
    (task_id,) = store_connected_orders(settings, "LOST-1")
    provider = ScriptedProvider(CallOutcomeUnknown("ReadTimeout"))
    report = dialer_for(provider).run_pass()
    assert (report.placed, report.lost, provider.lookups) == (0, 1, 1)
    assert dialer_for(provider).run_pass().placed == 0
    assert len(provider.calls) == 1 and provider.lookups == 2  # looked up again, not placed again
    # Within the dialing timeout, tick leaves the call alone.
    assert (
        run_tick(
            db.session, now=TEST_NOW + timedelta(minutes=5), settings=settings, actor=Actor(source="t")
        ).dialing_recovered
        == 0
    )
    later = TEST_NOW + settings.dial_timeout + timedelta(minutes=1)
    assert run_tick(db.session, now=later, settings=settings, actor=Actor(source="t")).dialing_recovered == 1
    db.session.commit()
    attempt = db.session.scalar(select(CallAttempt))
    task = db.session.get(CallbackTask, task_id)
    assert attempt.disposition == "no_answer" and "timeout" in attempt.note
    assert task.state == "open" and task.failed_attempts == 1


def test_a_lost_call_that_the_lookup_finds_is_adopted(app, settings):
    store_connected_orders(settings, "LOST-2")
    provider = ScriptedProvider(CallOutcomeUnknown("connection reset"), found="CA" + "f" * 32)
    report = dialer_for(provider).run_pass()
    assert report.recovered_by_lookup == 1 and len(provider.calls) == 1
    assert db.session.scalar(select(CallAttempt.provider_call_sid)) == "CA" + "f" * 32


def test_an_invalid_number_ends_the_task_and_a_refused_account_stops_the_dialer(app, settings):
    first, second = store_connected_orders(settings, "BAD-1", "BAD-2")
    provider = ScriptedProvider(
        CallRejected("Twilio 400 error 21211", invalid_number=True),
        CallRejected("Twilio 401 error 20003", fatal=True),
    )
    with pytest.raises(DialerStopped):
        dialer_for(provider).run_pass()
    db.session.expire_all()
    assert db.session.get(CallbackTask, first).state == "unreachable"
    # Nobody was called: the attempt is voided and the task waits in the queue, its attempts unspent.
    untouched = db.session.get(CallbackTask, second)
    assert untouched.state == "open" and untouched.attempt_count == 0
    assert db.session.scalar(select(func.count()).select_from(CallAttempt)) == 1


def test_no_call_outside_calling_hours(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, CALLING_HOURS="08:00-09:00")  # TEST_NOW is 10:00 in Beijing
    with app.app_context():
        fresh_schema(app)
        store_connected_orders(current_settings(), "LATE-1")
        provider = ScriptedProvider()
        assert dialer_for(provider).run_pass().placed == 0 and provider.calls == []
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    ("mix", "disposition"),
    [
        ("agree=1", "completed"),
        ("disagree=1", "completed"),
        ("busy=1", "busy"),
        ("machine=1", "voicemail"),
        ("no_answer=1", "no_answer"),
        ("hang_up=1", "partial"),
    ],
)
def test_the_simulated_customer_plays_signed_webhooks_through_the_whole_path(
    tmp_path, monkeypatch, mix, disposition
):
    app = make_app(tmp_path, monkeypatch, DIALER_CALLS_PER_SECOND=100, SIMULATION_MIX=mix, SIMULATION_SEED=3)
    with app.app_context():
        fresh_schema(app)
        store_connected_orders(current_settings(), "SIM-1", "SIM-2")
        result = app.test_cli_runner().invoke(args=["dialer", "--once"])
        assert result.exit_code == 0, result.output
        assert "calls placed: 2" in result.output
        db.session.expire_all()
        attempts = db.session.scalars(select(CallAttempt)).all()
        assert [a.disposition for a in attempts] == [disposition, disposition]
        assert all(a.transcript for a in attempts)
        cases = db.session.scalar(select(func.count()).select_from(SupervisionCase))
        if mix == "disagree=1":
            assert cases >= 2  # the customer's story differs from the system's
        elif mix == "agree=1":
            assert cases == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("share", "disposition"), [(0, "no_answer"), (100, "completed")])
def test_simulated_customers_answer_by_their_slots_share(tmp_path, monkeypatch, share, disposition):
    app = make_app(
        tmp_path,
        monkeypatch,
        DIALER_CALLS_PER_SECOND=100,
        SIMULATION_MIX="agree=1",
        SIMULATION_SLOT_ANSWER=f"weekday_morning={share},weekday_evening=0",
        SIMULATION_SEED=3,
    )
    with app.app_context():
        fresh_schema(app)
        store_connected_orders(current_settings(), "SLOT-1", "SLOT-2")
        result = app.test_cli_runner().invoke(args=["dialer", "--once"])  # Friday 10:00: the morning
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        attempts = db.session.scalars(select(CallAttempt)).all()
        assert [(a.slot, a.disposition) for a in attempts] == [("weekday_morning", disposition)] * 2
        db.session.remove()
        db.engine.dispose()
