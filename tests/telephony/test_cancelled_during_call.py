"""An order cancelled while its automated call is under way (issue 9): the call ends, nothing is opened."""

import json
import random
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select
from twilio.http.response import Response

from callback.audit import Actor
from callback.extensions import db
from callback.models import Answer, CallAttempt, CallbackTask, SupervisionCase
from callback.settings import current_settings
from callback.telephony.dialer import Dialer
from callback.telephony.pacing import CallPacer
from callback.telephony.port import OutboundCall
from callback.telephony.simulated import SimulatedCustomer, SimulatedProvider
from callback.telephony.twilio_provider import TwilioProvider
from callback.tick import run_tick
from callback.worklist import start_automated_attempt
from tests.conftest import TEST_NOW
from tests.telephony.helpers import connected_order, parse_twiml
from tests.telephony.test_twilio_provider import ACCOUNT, API_BASE, FakeHttpClient, call_json

SID = "CA" + "b" * 32  # call_json's sid


def twilio_dialer(http: FakeHttpClient) -> Dialer:
    provider = TwilioProvider(
        account_sid=ACCOUNT,
        auth_token="secret",
        from_number="+861012345678",
        api_base=API_BASE,
        http_client=http,
    )
    return Dialer(
        db.session,
        provider,
        CallPacer(db.engine, 1000),
        current_settings(),
        current_app.config,
        lambda: TEST_NOW,
    )


def put(client, headers, body):
    response = client.put(f"/api/v1/work-orders/{body['order_no']}", json=body, headers=headers)
    assert response.status_code == 200
    return response.json["results"][0]


def gather_path(response) -> str:
    gather = parse_twiml(response.get_data(as_text=True)).find("Gather")
    assert gather is not None
    parts = urlsplit(gather.get("action", ""))
    return f"{parts.path}?{parts.query}"


def the_attempt() -> CallAttempt:
    db.session.expire_all()
    return db.session.scalars(select(CallAttempt)).one()


def test_cancelling_mid_call_ends_it_at_twilio_and_later_answers_open_no_case(
    client, api_headers, twilio_post
):
    integration = api_headers()
    order = connected_order("CANCEL-1")
    assert put(client, integration, order)["result"] == "created"
    http = FakeHttpClient(call_json(SID))
    dialer = twilio_dialer(http)
    assert dialer.run_pass().placed == 1
    attempt_id = the_attempt().id

    # The customer picks up and says they are not the applicant (a finding, were the order alive).
    voice = twilio_post(f"/twilio/voice/{attempt_id}", {"CallSid": SID, "AnsweredBy": "human"})
    second = twilio_post(gather_path(voice), {"CallSid": SID, "Digits": "2"})
    assert "q=applied_on" in gather_path(second)

    # The marketing system cancels the order meanwhile.
    cancelled = {**order, "status": "cancelled", "cancelled_at": "2026-11-27T09:55:00"}
    assert put(client, integration, cancelled)["result"] == "updated"
    assert set(db.session.scalars(select(CallbackTask.state))) == {"cancelled"}  # intake and this call's

    # The next key press is stored nowhere, and the IVR hangs up.
    late = twilio_post(gather_path(second), {"CallSid": SID, "Digits": "1101"})
    assert parse_twiml(late.get_data(as_text=True)).find("Hangup") is not None
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 1

    # The dialer's next pass ends the call at Twilio: the library's own request, Status=completed.
    http.answers.append(Response(200, json.dumps({"sid": SID, "status": "completed"})))
    assert dialer.run_pass().ended == 1
    ended = http.requests[-1]
    assert ended["method"] == "POST"
    assert ended["uri"] == f"{API_BASE}/2010-04-01/Accounts/{ACCOUNT}/Calls/{SID}.json"
    assert ended["data"]["Status"] == "completed"

    # Twilio's final status callback gives the attempt its outcome, and opens no case.
    twilio_post(f"/twilio/status/{attempt_id}", {"CallSid": SID, "CallStatus": "completed"})
    done = the_attempt()
    assert done.disposition == "partial"
    assert db.session.scalar(select(func.count()).select_from(SupervisionCase)) == 0
    db.session.expire_all()
    assert db.session.get(CallbackTask, done.task_id).state == "cancelled"
    # Ended and final: the next pass asks Twilio nothing more.
    requests = len(http.requests)
    assert dialer.run_pass().ended == 0 and len(http.requests) == requests


def test_a_call_whose_final_status_never_comes_is_closed_by_tick_without_a_case(
    app, client, api_headers, twilio_post
):
    order = connected_order("CANCEL-2")
    put(client, api_headers(), order)
    twilio_dialer(FakeHttpClient(call_json(SID))).run_pass()
    attempt_id = the_attempt().id
    voice = twilio_post(f"/twilio/voice/{attempt_id}", {"CallSid": SID, "AnsweredBy": "human"})
    twilio_post(gather_path(voice), {"CallSid": SID, "Digits": "2"})
    put(client, api_headers(), {**order, "status": "cancelled", "cancelled_at": "2026-11-27T09:55:00"})
    later = TEST_NOW + current_settings().dial_timeout * 2
    run_tick(db.session, now=later, settings=current_settings(), actor=Actor(source="test"))
    db.session.commit()
    done = the_attempt()
    assert done.disposition == "partial"
    assert db.session.scalar(select(func.count()).select_from(SupervisionCase)) == 0


def simulated_call(app, attempt_id: int) -> OutboundCall:
    return OutboundCall(
        attempt_id=attempt_id,
        to="+8613800138000",
        voice_url=f"http://127.0.0.1:5000/twilio/voice/{attempt_id}",
        status_url=f"http://127.0.0.1:5000/twilio/status/{attempt_id}",
        ring_seconds=30,
        time_limit_seconds=900,
    )


def test_the_simulated_provider_ends_a_queued_call_unanswered(app, client, api_headers):
    order = connected_order("CANCEL-3")
    put(client, api_headers(), order)
    attempt = start_automated_attempt(db.session, now=TEST_NOW, settings=current_settings())
    db.session.commit()
    provider = SimulatedProvider(app, [("agree", 1)], seed=1)
    sid = provider.place_call(simulated_call(app, attempt.id)).sid
    put(client, api_headers(), {**order, "status": "cancelled", "cancelled_at": "2026-11-27T09:55:00"})
    provider.end_call(sid)
    provider.run_pending()  # nothing left to play
    done = the_attempt()
    assert done.call_status == "canceled" and done.disposition == "no_answer"
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_a_simulated_customer_whose_call_was_ended_stops_answering(app, client, api_headers):
    put(client, api_headers(), connected_order("CANCEL-4"))
    attempt = start_automated_attempt(db.session, now=TEST_NOW, settings=current_settings())
    db.session.commit()
    call = simulated_call(app, attempt.id)
    SimulatedCustomer(app, call, SID, "agree", random.Random(1), ended={SID}).play()
    done = the_attempt()
    assert done.answer_map() == {}  # hung up at the first question
    assert done.disposition == "refused"


def test_the_dialer_log_names_no_phone_number(app, client, api_headers, twilio_post, caplog):
    order = connected_order("CANCEL-5")
    put(client, api_headers(), order)
    http = FakeHttpClient(call_json(SID))
    dialer = twilio_dialer(http)
    dialer.run_pass()
    put(client, api_headers(), {**order, "status": "cancelled", "cancelled_at": "2026-11-27T09:55:00"})
    http.answers.append(Response(200, json.dumps({"sid": SID, "status": "completed"})))
    with caplog.at_level("INFO"):
        dialer.run_pass()
    assert SID in caplog.text
    assert "13800138000" not in caplog.text
