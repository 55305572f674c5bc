"""Notifications (issue 12): raised by `tick` once per event, delivered to WeCom and by e-mail once each."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from callback.cases import assign
from callback.extensions import db
from callback.models import Notification, OutboxMessage
from callback.notifications import backoff, deliver_outbox, enqueue, raise_due_notifications
from callback.settings import ConfigError, current_settings, load_settings
from callback.worklist import claim_next, record_attempt
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.factories import store_order
from tests.notifications.fakes import FakeSmtp, FakeWeCom, fake_smtp, fake_wecom
from tests.web.test_cases_pages import NOW, SYSTEM, hand_case, move

HEAD = "head@example.com"
OFFICE = "office@example.com"
CUSTOMER = ("宏达五金店", "13800138000", "人民路")  # what must never leave the app


@pytest.fixture
def wecom() -> Iterator[FakeWeCom]:
    with fake_wecom() as fake:
        yield fake


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with fake_smtp() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, monkeypatch, wecom: FakeWeCom, smtp: FakeSmtp) -> Iterator[Flask]:
    app = make_app(
        tmp_path,
        monkeypatch,
        WECOM_WEBHOOK_URL=wecom.url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp.port,
        SMTP_FROM="callback@example.com",
        SUPERVISION_OFFICE_EMAILS=[OFFICE],
        CENTRE_HEAD_EMAILS={"城关供电服务中心": HEAD},
        NOTIFY_TIMEOUT_SECONDS=5,
    )
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def tick(runner, now: datetime = NOW) -> str:
    result = runner.invoke(args=["tick", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def notifications(user_id: int | None = None, kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if user_id is not None:
        query = query.where(Notification.user_id == user_id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(query))


def wecom_texts(wecom: FakeWeCom) -> list[str]:
    return [message["markdown"]["content"] for message in wecom.received]


def test_an_overdue_case_reaches_its_assignee_and_climbs_the_ladder_once(
    runner, make_user, wecom: FakeWeCom, smtp: FakeSmtp
) -> None:
    lin = make_user("lin", "supervisor")
    late = hand_case("GD-LATE", opened=NOW - timedelta(days=40))
    assign(db.session, late.id, assignee_id=lin.id, now=NOW - timedelta(days=39), actor=SYSTEM)
    db.session.commit()
    hand_case("GD-FRESH")  # not overdue: nothing about it

    first = tick(runner)
    second = tick(runner)
    assert "notifications raised: 1" in first and "notifications raised: 0" in second
    overdue = notifications(lin.id, "case_overdue")
    assert len(overdue) == 1 and overdue[0].case_id == late.id

    # The robot got each message exactly once: two rungs of the ladder and the day's digest.
    texts = wecom_texts(wecom)
    assert len(texts) == 3, texts
    assert sum("升级至供电服务中心负责人" in text for text in texts) == 1
    assert sum("升级至营销服务监督室" in text for text in texts) == 1
    assert sum("监督案件日报" in text for text in texts) == 1
    assert all(message["msgtype"] == "markdown" for message in wecom.received)
    assert set(wecom.keys) == {"test-robot-key"}
    escalation = next(text for text in texts if "负责人" in text)
    assert "GD-LATE" in escalation and "配电柜门未关" in escalation  # order number and category
    assert "GD-FRESH" not in "".join(texts)
    # No personal data of the customer leaves the app (PIPL).
    for outside in [*texts, *(m["data"] for m in smtp.messages)]:
        assert not any(piece in outside for piece in CUSTOMER), outside

    # E-mail: the centre's head, then the supervision office (escalation and digest), once each.
    recipients = sorted(tuple(m["to"]) for m in smtp.messages)
    assert recipients == [(HEAD,), (OFFICE,), (OFFICE,)]
    assert db.session.scalar(select(func.count()).where(OutboxMessage.status != "sent")) == 0


def test_the_ladder_climbs_with_the_days(runner, make_user, wecom: FakeWeCom) -> None:
    make_user("lin", "supervisor")
    case = hand_case("GD-LADDER")
    due = case.due_at
    tick(runner, due + timedelta(hours=1))
    assert not any("升级" in text for text in wecom_texts(wecom))  # overdue today: the assignee rung only
    tick(runner, due + timedelta(days=3, hours=1))
    assert sum("负责人" in text for text in wecom_texts(wecom)) == 1
    assert not any("营销服务监督室" in text for text in wecom_texts(wecom))
    tick(runner, due + timedelta(days=8, hours=1))
    assert sum("负责人" in text for text in wecom_texts(wecom)) == 1
    assert sum("升级至营销服务监督室" in text for text in wecom_texts(wecom)) == 1


def test_an_unassigned_overdue_case_goes_to_the_supervisors_of_its_centre(runner, make_user) -> None:
    here = make_user("here", "supervisor")
    elsewhere = make_user("elsewhere", "supervisor")
    here.service_center = "城关供电服务中心"
    elsewhere.service_center = "城西供电服务中心"
    db.session.commit()
    hand_case("GD-UNASSIGNED", opened=NOW - timedelta(days=40))
    tick(runner)
    assert len(notifications(here.id, "case_overdue")) == 1
    assert notifications(elsewhere.id) == []


def test_assigning_rings_the_new_assignees_bell_each_time(make_user) -> None:
    lin, zhao = make_user("lin", "supervisor"), make_user("zhao", "supervisor")
    case = hand_case("GD-ASSIGN")
    assign(db.session, case.id, assignee_id=lin.id, now=NOW, actor=SYSTEM)
    assign(db.session, case.id, assignee_id=zhao.id, now=NOW + timedelta(minutes=1), actor=SYSTEM)
    assign(db.session, case.id, assignee_id=None, now=NOW + timedelta(minutes=2), actor=SYSTEM)
    db.session.commit()
    assert [n.kind for n in notifications(lin.id)] == ["case_assigned"]
    assert [n.params["order_no"] for n in notifications(zhao.id)] == ["GD-ASSIGN"]


def test_a_passed_rectification_deadline_is_raised_once(runner, make_user, wecom: FakeWeCom) -> None:
    lin = make_user("lin", "supervisor")
    case = hand_case("GD-RECT")
    move(case, "investigating")
    move(case, "letter_issued", requirements="整改", deadline="2026-12-01")
    assign(db.session, case.id, assignee_id=lin.id, now=NOW, actor=SYSTEM)
    db.session.commit()
    tick(runner, datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # the deadline day itself: not yet
    assert notifications(lin.id, "rectification_overdue") == []
    tick(runner, datetime(2026, 12, 2, 1, 0, tzinfo=UTC))
    tick(runner, datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    passed = notifications(lin.id, "rectification_overdue")
    assert len(passed) == 1 and passed[0].params["deadline"] == "2026-12-01"
    assert sum("整改期限已过" in text for text in wecom_texts(wecom)) == 1


def test_my_appointment_due_in_ten_minutes(runner, make_user, settings) -> None:
    operator = make_user("op", "operator")
    other = make_user("op2", "operator")
    store_order("GD-APPT")
    task = claim_next(db.session, operator.id, now=NOW, settings=settings)
    record_attempt(
        db.session,
        task.id,
        operator.id,
        disposition="callback_requested",
        answers={},
        callback_at=(NOW + timedelta(hours=2)).isoformat(),
        note="客户开会，两点后再打",
        now=NOW,
        settings=settings,
    )
    db.session.commit()
    tick(runner, NOW + timedelta(hours=1, minutes=40))  # 20 minutes before: not yet
    assert notifications(operator.id) == []
    tick(runner, NOW + timedelta(hours=1, minutes=51))
    tick(runner, NOW + timedelta(hours=1, minutes=55))
    due = notifications(operator.id, "appointment_due")
    assert len(due) == 1 and due[0].task_id == task.id
    assert notifications(other.id) == []


def test_a_failed_delivery_is_retried_with_backoff_and_sent_once(app, wecom: FakeWeCom) -> None:
    enqueue(db.session, "escalation:1", "wecom", None, "案件超期", "## 案件 #1 超期", now=NOW)
    db.session.commit()
    wecom.failures = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"}), (502, {})]
    settings = current_settings()
    assert deliver_outbox(db.session, now=NOW, settings=settings).retrying == 1
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "WeCom errcode 45009: api freq out of limit"
    assert message.next_try_at == NOW + timedelta(minutes=1)
    assert deliver_outbox(db.session, now=NOW + timedelta(seconds=30), settings=settings).sent == 0  # not due
    assert deliver_outbox(db.session, now=NOW + timedelta(minutes=1), settings=settings).retrying == 1
    db.session.refresh(message)
    assert message.last_error == "WeCom answered HTTP 502" and message.attempts == 2
    assert message.next_try_at == NOW + timedelta(minutes=3)  # then 2 minutes
    assert deliver_outbox(db.session, now=NOW + timedelta(minutes=3), settings=settings).sent == 1
    assert deliver_outbox(db.session, now=NOW + timedelta(hours=3), settings=settings).sent == 0
    db.session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, None)
    assert [m["markdown"]["content"] for m in wecom.received] == ["## 案件 #1 超期"]  # once
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 7, 8, 20)] == [1, 2, 4, 60, 60, 60]


def test_a_message_is_given_up_after_the_last_attempt_and_shows_why(tmp_path, monkeypatch) -> None:
    app = make_app(tmp_path, monkeypatch, WECOM_WEBHOOK_URL="http://127.0.0.1:9/cgi-bin/webhook/send?key=SECRET-KEY",
                   OUTBOX_MAX_ATTEMPTS=2, NOTIFY_TIMEOUT_SECONDS=2)  # fmt: skip
    with app.app_context():
        fresh_schema(app)
        hand_case("GD-GONE", opened=NOW - timedelta(days=40))
        settings = current_settings()
        raise_due_notifications(db.session, now=NOW, settings=settings)
        db.session.commit()
        deliver_outbox(db.session, now=NOW, settings=settings)
        report = deliver_outbox(db.session, now=NOW + timedelta(hours=2), settings=settings)
        assert report.failed >= 1
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert {m.status for m in messages} == {"failed"}
        for message in messages:
            assert message.last_error.startswith("WeCom unreachable")
            assert "SECRET-KEY" not in message.last_error  # the robot's key is a secret
        db.session.remove()
        db.engine.dispose()


def test_a_run_that_died_while_sending_never_sends_again(app, wecom: FakeWeCom) -> None:
    settings = current_settings()
    enqueue(db.session, "manual:1", "wecom", None, "测试", "内容", now=NOW)
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    message.status = "sending"  # as a run left it when its process was killed mid-send
    db.session.commit()
    deliver_outbox(db.session, now=NOW + timedelta(minutes=10), settings=settings)
    db.session.refresh(message)
    assert message.status == "failed" and "never delivered twice" in message.last_error
    assert wecom.received == []


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("ESCALATION_LADDER", "0:assignee,3:boss", "ESCALATION_LADDER"),
        ("ESCALATION_LADDER", "x:assignee", "ESCALATION_LADDER"),
        ("ESCALATION_LADDER", "0:assignee,2:assignee", "ESCALATION_LADDER"),
        ("WECOM_WEBHOOK_URL", "qyapi.weixin.qq.com", "WECOM_WEBHOOK_URL"),
        ("SMTP_HOST", "mail.example.com", "SMTP_FROM"),
        ("SUPERVISION_OFFICE_EMAILS", ["not an address"], "SUPERVISION_OFFICE_EMAILS"),
        ("CENTRE_HEAD_EMAILS", {"城关": "nobody"}, "CENTRE_HEAD_EMAILS"),
        ("ATTACHMENT_MAX_MB", 0, "ATTACHMENT_MAX_MB"),
        ("DIGEST_HOUR", 24, "DIGEST_HOUR"),
        ("OUTBOX_MAX_ATTEMPTS", "many", "OUTBOX_MAX_ATTEMPTS"),
    ],
)
def test_bad_notification_settings_are_refused_at_start(app, key, value, complaint) -> None:
    config = dict(app.config)
    config[key] = value
    if key == "SMTP_HOST":
        config["SMTP_FROM"] = None
    with pytest.raises(ConfigError, match=complaint):
        load_settings(config)


def test_the_ladder_reads_pairs_and_text(app) -> None:
    config = dict(app.config)
    config["ESCALATION_LADDER"] = [[5, "supervision_office"], [0, "assignee"]]
    assert load_settings(config).escalation_ladder == ((0, "assignee"), (5, "supervision_office"))
    assert current_settings().escalation_ladder == (
        (0, "assignee"),
        (3, "centre_head"),
        (7, "supervision_office"),
    )


def test_the_digest_waits_for_its_hour_and_goes_once_a_day(runner, wecom: FakeWeCom, smtp: FakeSmtp) -> None:
    early = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # 07:00 in Beijing, before DIGEST_HOUR
    tick(runner, early)
    assert wecom.received == []
    tick(runner, early + timedelta(hours=1, minutes=5))
    tick(runner, early + timedelta(hours=5))
    assert [json.dumps(m, ensure_ascii=False).count("日报") > 0 for m in wecom.received] == [True]
    assert [m["to"] for m in smtp.messages] == [[OFFICE]]
    assert "Subject: =?utf-8?" in smtp.messages[0]["data"] or "日报" in smtp.messages[0]["data"]
    tick(runner, early + timedelta(days=1, hours=2))
    assert len(wecom.received) == 2
    assert TEST_NOW  # the module's clock is the suite's
