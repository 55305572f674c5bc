"""The operator's desk (issue 12): customer history, my work and figures, live counts, taking a callback."""

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from callback.desk import day_start, operator_figures, week_start
from callback.extensions import db
from callback.models import CallbackTask, Disposition, TaskState, User
from callback.settings import current_settings
from callback.worklist import (
    claim_next,
    finish_automated_attempt,
    record_attempt,
    start_automated_attempt,
    store_answer,
)
from tests.conftest import TEST_NOW
from tests.factories import newest_task, store_order
from tests.web.test_operator import COMPLETED_OFFLINE, claimed_task_id

EARLIER_THIS_WEEK = TEST_NOW - timedelta(days=3)  # Tuesday 2026-11-24, same week as Friday the 27th
LAST_WEEK = TEST_NOW - timedelta(days=7)


def call(user: User, disposition: str, *, now=TEST_NOW, **fields) -> CallbackTask:
    """The user takes the next callback at `now` and records it."""
    settings = current_settings()
    task = claim_next(db.session, user.id, now=now, settings=settings)
    assert task is not None
    record_attempt(
        db.session,
        task.id,
        user.id,
        disposition=disposition,
        answers=fields.get("answers"),
        callback_at=fields.get("callback_at"),
        note=fields.get("note"),
        now=now,
        settings=settings,
    )
    db.session.commit()
    return task


COMPLETE_ANSWERS = {"is_applicant": True, "progress": "surveyed", "satisfaction": 5}


def test_my_figures_count_calls_completes_and_contact_rate_today_and_this_week(app, make_user):
    chen = make_user("chen", "operator")
    zhao = make_user("zhao", "operator")
    for number in range(6):
        store_order(f"F-{number}", now=LAST_WEEK)
    call(chen, "no_answer", now=LAST_WEEK + timedelta(hours=1))  # last week: not counted
    call(chen, "completed", now=EARLIER_THIS_WEEK, answers=COMPLETE_ANSWERS)
    call(chen, "completed", answers=COMPLETE_ANSWERS)
    call(chen, "busy")
    call(chen, "refused")
    call(zhao, "completed", answers=COMPLETE_ANSWERS)  # someone else's
    tz = current_settings().tz
    tomorrow = day_start(TEST_NOW, tz) + timedelta(days=1)

    today = operator_figures(db.session, chen.id, day_start(TEST_NOW, tz), tomorrow)
    week = operator_figures(db.session, chen.id, week_start(TEST_NOW, tz), tomorrow)

    assert (today.calls, today.completes, today.contacts) == (3, 1, 2)
    assert round(today.contact_rate, 3) == 0.667
    assert (week.calls, week.completes, week.contacts) == (4, 2, 3)
    assert (
        operator_figures(
            db.session, make_user("new", "operator").id, week_start(TEST_NOW, tz), tomorrow
        ).contact_rate
        is None
    )


def test_my_work_page_shows_my_calls_today_appointments_and_figures(client: FlaskClient, login):
    for number in range(3):
        store_order(f"M-{number}")
    me = login("operator", "chen")
    call(me, "completed", answers=COMPLETE_ANSWERS)
    appointment = TEST_NOW + timedelta(hours=3)
    booked = call(me, "callback_requested", callback_at=appointment.isoformat(), note="客户下午有空")

    page = client.get("/operator/mine").text

    assert "我的工作" in page
    assert len(re.findall(r"data-my-call=", page)) == 2
    assert "客户下午有空" in page and "预约回访" in page  # the note and the outcome's Chinese label
    assert f'data-appointment="{booked.id}"' in page
    assert "13:00" in page and "13:30" in page  # appointed 13:00 local, reserved for me until 13:30
    today = re.search(
        r'data-figures="today".*?data-figure="calls">(\d+)<.*?data-figure="completes">(\d+)<'
        r'.*?data-figure="contact_rate">([^<]+)<',
        page,
        re.S,
    )
    assert today and today.groups() == ("2", "1", "100.0%")
    assert 'hx-get="/operator/counts"' in page and 'hx-trigger="every 30s"' in page


def test_the_menu_links_my_work_for_operators_only(client, login):
    login("operator")
    assert 'href="/operator/mine"' in client.get("/").text


def test_queue_counts_partial_refreshes_alone_and_only_for_operators(client, login):
    store_order("C-1")
    store_order("C-2")
    login("operator")
    partial = client.get("/operator/counts")
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert re.search(r'data-kind="intake">\s*<div class="queue-count-number" data-count>2<', partial.text)
    store_order("C-3")
    assert re.search(
        r'data-kind="intake">\s*<div class="queue-count-number" data-count>3<',
        client.get("/operator/counts").text,
    )
    queue = client.get("/operator/").text
    assert 'hx-get="/operator/counts"' in queue


def test_discipline_has_no_operator_desk(client, login):
    login("discipline")
    assert client.get("/operator/mine").status_code == 403
    assert client.get("/operator/counts").status_code == 403


def test_history_shows_every_call_to_the_number_by_ivr_and_operators_newest_first(client, login, make_user):
    settings = current_settings()
    # An earlier order of the same customer, already connected: its completion callback goes to the IVR.
    store_order(
        "H-OLD",
        now=LAST_WEEK,
        status="connected",
        accepted_at="2026-11-16T09:00:00",
        due_at="2026-11-26T17:00:00",
        connected_at="2026-11-19T10:00:00",
    )
    attempt = start_automated_attempt(db.session, now=LAST_WEEK + timedelta(hours=1), settings=settings)
    assert attempt is not None and attempt.task.order.order_no == "H-OLD"
    store_answer(db.session, attempt, "satisfaction", 2, now=LAST_WEEK + timedelta(hours=1))
    finish_automated_attempt(
        db.session,
        attempt,
        Disposition.PARTIAL,
        now=LAST_WEEK + timedelta(hours=1, minutes=3),
        settings=settings,
    )
    db.session.commit()
    colleague = make_user("zhao", "operator")
    call(colleague, "refused", now=LAST_WEEK + timedelta(hours=2), note="客户说很忙")  # H-OLD's intake
    store_order("H-NEW")
    store_order("H-STRANGER", customer_phone="13911112222")
    login("operator", "chen")

    task_id = claimed_task_id(client)
    assert db.session.get(CallbackTask, task_id).order.order_no == "H-NEW"
    page = client.get(f"/operator/tasks/{task_id}").text

    history = page[page.index('id="customer-history"') :]
    items = re.findall(r'data-history-attempt="(\d+)" data-channel="(\w+)"', history)
    assert [channel for _id, channel in items] == ["operator", "auto"]  # newest first
    assert "zhao" in history and "客户说很忙" in history and "拒访" in history
    assert "自动外呼（IVR）" in history and "部分完成" in history
    assert "您对这次办电总体满意吗？" in history  # the IVR's answer, with its question
    assert "H-OLD" in history and "H-STRANGER" not in history


def test_the_order_page_shows_operator_calls_in_its_history(client, login):
    store_order("O-1")
    login("operator", "chen")
    task_id = claimed_task_id(client)
    response = client.post(f"/operator/tasks/{task_id}/attempts", data=COMPLETED_OFFLINE)
    assert response.status_code == 302
    page = client.get("/orders/O-1").text
    history = page[page.index('id="customer-history"') :]
    assert "chen" in history and "完成" in history
    assert "客户说去年就递了材料" in history  # the note
    assert "2026-11-10" in history  # an answer


def test_the_call_screen_fills_in_the_script_and_starts_the_timer_at_the_claim(client, login):
    store_order("S-1", customer_name="明珠餐馆", status="surveyed", surveyed_at="2026-11-24T10:00:00")
    login("operator")
    task_id = claimed_task_id(client)
    page = client.get(f"/operator/tasks/{task_id}").text
    greeting = re.search(r"data-script-greeting>([^<]+)<", page)
    assert greeting and "明珠餐馆" in greeting.group(1) and "S-1" in greeting.group(1)
    assert "勘查" in greeting.group(1)  # the order's stage, in words
    assert 'data-elapsed="0"' in page  # the claim was taken just now (the test clock stands still)
    assert "call_timer.js" in page


def test_an_operator_takes_the_callback_of_a_customer_found_by_search(client, login):
    store_order("T-OTHER", now=TEST_NOW - timedelta(days=2))  # more urgent: "next" would give this one
    task = newest_task(store_order("T-FOUND", customer_phone="15123940550"))
    login("operator")
    page = client.get("/search", query_string={"q": "151 2394 0550"}).text
    assert f'data-claim-task="{task.id}"' in page

    response = client.post(f"/operator/tasks/{task.id}/claim", data={"next": "/search?q=15123940550"})

    assert response.headers["Location"] == f"/operator/tasks/{task.id}"
    db.session.refresh(task)
    assert task.state == TaskState.CLAIMED
    # Holding it, another claim leads back to it.
    other = db.session.scalar(select(CallbackTask).where(CallbackTask.id != task.id))
    again = client.post(f"/operator/tasks/{other.id}/claim")
    assert again.headers["Location"] == f"/operator/tasks/{task.id}"


def test_a_callback_that_cannot_be_taken_goes_back_with_a_message(client, login):
    task = newest_task(store_order("T-LATER"))
    task.not_before = TEST_NOW + timedelta(hours=2)
    db.session.commit()
    login("operator")
    response = client.post(f"/operator/tasks/{task.id}/claim", data={"next": "/orders/T-LATER"})
    assert response.status_code == 302 and response.headers["Location"] == "/orders/T-LATER"
    assert "无法领取" in client.get("/orders/T-LATER").text
    outside = client.post(f"/operator/tasks/{task.id}/claim", data={"next": "//evil.example/"})
    assert outside.headers["Location"] == "/operator/mine"
    assert client.post("/operator/tasks/99999/claim").status_code == 302
    db.session.refresh(task)
    assert task.state == TaskState.OPEN


def test_the_desk_speaks_english_when_chosen(client, login):
    store_order("E-1")
    login("operator")
    client.post("/language/en", data={"next": "/operator/mine"})
    page = client.get("/operator/mine").text
    assert "My figures" in page and "My appointments" in page and "Contact rate" in page
    results = client.get("/search", query_string={"q": "e-1"}).text
    assert "Work orders" in results and "Take this callback" in results


def test_a_colleagues_reserved_appointment_is_not_counted_as_workable(app, client, login, make_user):
    settings = current_settings()
    zhao = make_user("zhao", "operator")
    store_order("R-1", now=TEST_NOW - timedelta(hours=3))
    call(zhao, "callback_requested", now=TEST_NOW - timedelta(hours=2), callback_at=TEST_NOW.isoformat())
    login("operator", "chen")
    counts = client.get("/operator/counts").text
    assert re.search(r'data-kind="intake">\s*<div class="queue-count-number" data-count>0<', counts)
    assert re.search(r'data-waiting="appointment">.*?<strong>1</strong>', counts)  # it waits for zhao
    app.config["CLOCK"] = lambda: TEST_NOW + timedelta(minutes=settings.appointment_owner_minutes)
    counts = client.get("/operator/counts").text
    assert re.search(r'data-kind="intake">\s*<div class="queue-count-number" data-count>1<', counts)
