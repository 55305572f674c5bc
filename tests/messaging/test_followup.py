"""Message follow-up with the simulated provider: queued by tick after the last failed contact or at the
customer's request, sent once, paced, recorded as an attempt of channel sms, refused for do-not-call."""

from datetime import timedelta

from sqlalchemy import func, select

from callback.audit import Actor
from callback.extensions import db
from callback.messaging import service
from callback.models import AuditEvent, CallAttempt
from callback.settings import load_settings
from callback.tick import run_tick
from tests.conftest import TEST_NOW
from tests.messaging.helpers import (
    START,
    call,
    followup_of,
    make_unreachable,
    sms_attempts,
    store_order,
)


def tick(runner, now=TEST_NOW):
    result = runner.invoke(args=["tick", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_last_failed_attempt_sends_one_message_and_tick_never_sends_it_twice(runner, settings, make_user):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "SMS-1")
    output = tick(runner)
    assert "message follow-ups queued: 1" in output
    assert "messages sent: 1" in output
    followup = followup_of(task_id)
    assert followup is not None
    assert (followup.reason, followup.state, followup.provider) == ("unreachable", "delivered", "simulated")
    assert "95598" in followup.body and "http" not in followup.body
    [attempt] = sms_attempts(task_id)
    assert attempt.call_status == "delivered"
    assert attempt.provider_call_sid == followup.provider_message_id
    assert attempt.disposition is None  # a message is no call: the response rates do not count it
    again = tick(runner, TEST_NOW + timedelta(minutes=5))
    assert "message follow-ups queued: 0" in again and "messages sent: 0" in again
    assert len(sms_attempts(task_id)) == 1
    actions = set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "sms_followup"))
    )
    assert {"sms.queued", "sms.sent", "sms.status"} <= actions


def test_dead_numbers_and_old_history_get_no_message(runner, settings, make_user):
    operator = make_user("op", "operator")
    wrong = store_order(settings, "SMS-WRONG")
    call(settings, operator.id, "wrong_number", START)
    old = make_unreachable(settings, operator.id, "SMS-OLD")
    output = tick(runner, TEST_NOW + settings.sms_followup_within + timedelta(hours=1))
    assert "message follow-ups queued: 0" in output
    assert followup_of(wrong) is None and followup_of(old) is None


def test_no_message_goes_out_outside_calling_hours_until_they_begin(app, runner, settings, make_user):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "SMS-NIGHT")
    app.config["CALLING_HOURS"] = "08:00-20:00"
    app.extensions["callback.settings"] = load_settings(app.config)
    night = tick(runner, TEST_NOW.replace(hour=14))  # 22:00 in Beijing
    assert "message follow-ups queued: 1" in night and "outside calling hours" in night
    assert followup_of(task_id).state == "queued"
    morning = tick(runner, TEST_NOW.replace(hour=23, minute=30) + timedelta(days=0))  # 07:30 next day
    assert followup_of(task_id).state == "queued", morning
    tick(runner, TEST_NOW + timedelta(days=1))  # 10:00 next day
    assert followup_of(task_id).state == "delivered"


def test_a_do_not_call_number_is_refused_and_audited(runner, settings, make_user, monkeypatch):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "SMS-DNC")
    asked = []

    def listed(session, phone, now):
        asked.append(phone)
        return False

    monkeypatch.setattr(service, "may_message", listed)
    output = tick(runner)
    assert "refused (do not call): 1" in output
    assert asked == ["+8613800138000"]
    assert followup_of(task_id).state == "refused"
    assert sms_attempts(task_id) == []
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "sms.refused")) == 1


def test_the_seams_default_lets_every_number_be_messaged(app):
    assert service.may_message(db.session, "+8613800138000", TEST_NOW) is True


def test_a_landline_cannot_take_a_text_and_fails_without_a_send(runner, settings, make_user):
    operator = make_user("op", "operator")
    task_id = make_unreachable(settings, operator.id, "SMS-LAND", customer_phone="0571-88886666")
    assert "not sent: 1" in tick(runner)
    followup = followup_of(task_id)
    assert followup.state == "failed" and "mobile" in followup.error
    assert sms_attempts(task_id)[0].call_status == "failed"


def test_sending_waits_for_a_paced_slot_per_message(app, settings, make_user):
    operator = make_user("op", "operator")
    for n in range(3):
        make_unreachable(settings, operator.id, f"SMS-P{n}")
    run_tick(db.session, now=TEST_NOW, settings=settings, actor=Actor(source="t"))
    db.session.commit()
    slots = []
    sender = service.FollowupSender(
        db.session,
        __import__("callback.messaging.providers", fromlist=["SimulatedMessenger"]).SimulatedMessenger(),
        settings=settings,
        status_url=lambda n: f"http://127.0.0.1/twilio/sms-status/{n}",
        wait_for_slot=lambda: slots.append(1),
        actor=Actor(source="t"),
    )
    report = sender.run(TEST_NOW)
    assert report.sent == 3 and len(slots) == 3


def test_the_operator_sends_the_message_the_customer_asks_for_once(client, login, settings):
    operator = login("operator")
    task_id = store_order(settings, "SMS-ASK")
    assert client.post("/operator/next").status_code == 302
    page = client.get(f"/operator/tasks/{task_id}")
    assert "客户要求发送短信" in page.text
    asked = client.post(f"/operator/tasks/{task_id}/sms", follow_redirects=True)
    assert asked.status_code == 200
    assert "短信" in asked.text and "已排队" in asked.text
    followup = followup_of(task_id)
    assert (followup.reason, followup.requested_by_id, followup.state) == (
        "customer_request",
        operator.id,
        "queued",
    )
    twice = client.post(f"/operator/tasks/{task_id}/sms", follow_redirects=True)
    assert "已经发送或已排队" in twice.text
    assert (
        db.session.scalar(select(func.count()).select_from(CallAttempt)) == 0
    )  # nothing sent in the request


def test_only_the_claims_holder_may_ask_for_the_message(client, login, settings, make_user):
    login("operator")
    other = make_user("other", "operator")
    task_id = store_order(settings, "SMS-NOT-MINE")
    call_task = __import__("callback.worklist", fromlist=["claim_next"]).claim_next
    call_task(db.session, other.id, now=TEST_NOW, settings=settings)
    db.session.commit()
    assert client.post(f"/operator/tasks/{task_id}/sms").status_code == 409
    assert followup_of(task_id) is None


def test_the_order_page_shows_the_message_and_its_delivery(client, login, runner, settings, make_user):
    operator = make_user("op", "operator")
    make_unreachable(settings, operator.id, "SMS-PAGE")
    tick(runner)
    login("supervisor")
    page = client.get("/orders/SMS-PAGE")
    assert page.status_code == 200
    assert 'data-sms-status="delivered"' in page.text and "短信 · 已送达" in page.text
