"""The bell, the notifications page and the outbox page (issue 12)."""

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from callback.audit import Actor
from callback.cases import assign
from callback.extensions import db
from callback.models import AuditEvent, Notification, OutboxMessage
from callback.notifications import enqueue, notify
from tests.web.test_cases_pages import NOW, english, hand_case


def bell_count(html: str) -> int:
    found = re.search(r'id="bell-count">(\d+)', html)
    return int(found.group(1)) if found else 0


def test_the_bell_counts_unread_and_the_list_leads_to_the_case(client: FlaskClient, login) -> None:
    user = login("supervisor")
    english(client)
    assert 'id="bell"' in client.get("/").text or 'id="bell"' in client.get("/cases/").text
    assert bell_count(client.get("/cases/").text) == 0
    case = hand_case("GD-BELL")
    assign(db.session, case.id, assignee_id=user.id, now=NOW, actor=Actor(user_id=user.id, source="web"))
    db.session.commit()
    assert bell_count(client.get("/cases/").text) == 0  # assigning oneself rings nobody
    other = hand_case("GD-BELL-2")
    notify(
        db.session,
        user.id,
        "case_assigned",
        "k1",
        now=NOW,
        case_id=other.id,
        params={"order_no": "GD-BELL-2", "category": "other", "case_id": other.id},
    )
    notify(
        db.session,
        user.id,
        "case_overdue",
        "k2",
        now=NOW,
        case_id=case.id,
        params={"order_no": "GD-BELL", "category": "cabinet_door_open", "case_id": case.id, "days": 3},
    )
    db.session.commit()
    page = client.get("/cases/").text
    assert bell_count(page) == 2
    listing = client.get("/notifications/").text
    assert f"Case #{other.id} (GD-BELL-2, Other) is assigned to you." in listing
    assert f"Case #{case.id} (GD-BELL, " in listing and "past its deadline" in listing
    item = db.session.scalar(select(Notification).where(Notification.key == "k1"))
    opened = client.get(f"/notifications/{item.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/cases/{other.id}")
    assert bell_count(client.get("/cases/").text) == 1
    assert client.post("/notifications/read").status_code == 302
    assert bell_count(client.get("/cases/").text) == 0


def test_nobody_opens_anothers_notification(client: FlaskClient, login, make_user) -> None:
    owner = make_user("owner", "supervisor")
    notify(
        db.session,
        owner.id,
        "appointment_due",
        "mine",
        now=NOW,
        params={"order_no": "GD-1", "at": (NOW + timedelta(minutes=10)).isoformat()},
    )
    db.session.commit()
    login("operator")
    item = db.session.scalar(select(Notification))
    assert client.get(f"/notifications/{item.id}").status_code == 404
    assert client.get("/notifications/99999").status_code == 404
    assert "GD-1" not in client.get("/notifications/").text
    db.session.refresh(item)
    assert item.read_at is None


def test_an_operators_appointment_notice_reads_in_local_time(client: FlaskClient, login) -> None:
    user = login("operator")
    english(client)
    notify(
        db.session,
        user.id,
        "appointment_due",
        "appt",
        now=NOW,
        params={"order_no": "GD-APPT", "at": (NOW + timedelta(minutes=10)).isoformat(), "task_id": 1},
    )
    db.session.commit()
    assert "Your appointment for order GD-APPT is due at 10:10." in client.get("/notifications/").text


def test_the_outbox_page_is_for_admins_and_a_failed_message_can_be_sent_again(
    client: FlaskClient, login
) -> None:
    enqueue(db.session, "digest:1", "email", "office@example.com", "监督案件日报", "正文", now=NOW)
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    message.status, message.attempts, message.last_error = "failed", 8, "SMTP failed (SMTPRecipientsRefused)"
    db.session.commit()
    login("supervisor", "sup")
    assert client.get("/notifications/outbox").status_code == 403
    assert client.post(f"/notifications/outbox/{message.id}/retry").status_code == 403
    client.post("/logout")
    login("admin")
    english(client)
    page = client.get("/notifications/outbox").text
    assert "SMTP failed (SMTPRecipientsRefused)" in page and "office@example.com" in page
    assert client.get("/notifications/outbox?status=nonsense&page=-1").status_code == 200
    assert client.post(f"/notifications/outbox/{message.id}/retry").status_code == 302
    db.session.refresh(message)
    assert message.status == "pending"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "outbox.retry"))
    # Only a failed message: a pending or sent one stays as it is.
    assert client.post(f"/notifications/outbox/{message.id}/retry").status_code == 302
    assert client.post("/notifications/outbox/12345/retry").status_code == 302


def test_notifications_need_sign_in_and_csrf(csrf_app) -> None:
    client = csrf_app.test_client()
    assert client.get("/notifications/").status_code == 302
    assert client.post("/notifications/read").status_code in (302, 400)
