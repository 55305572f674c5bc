"""The operator's workspace: the queue, the next callback, the call screen, the survey and its result."""

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import func, select

from callback.extensions import db
from callback.models import AuditEvent, CallAttempt, CallbackTask, SupervisionCase, TaskState, User
from callback.settings import current_settings
from callback.users import create_user
from callback.workdays import CallingHours
from tests.conftest import PASSWORD, TEST_NOW, fresh_schema, make_app
from tests.factories import newest_task, store_order

EARLIER = TEST_NOW - timedelta(days=2)


def use_settings(app: Flask, **changes: object) -> None:
    """Change the running app's settings for one test."""
    app.extensions["callback.settings"] = dataclasses.replace(current_settings(), **changes)


def next_callback(client: FlaskClient) -> str:
    """Press "next callback"; return where it led."""
    response = client.post("/operator/next")
    assert response.status_code == 302
    return response.headers["Location"]


def claimed_task_id(client: FlaskClient) -> int:
    location = next_callback(client)
    match = re.fullmatch(r"/operator/tasks/(\d+)", location)
    assert match, location
    return int(match.group(1))


def other_operator(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    """Sign a second operator in on a client of their own.

    The test's app context outlives each request, and Flask-Login caches the signed-in user on `g`:
    forget it before every request, so each client is seen as its own user.
    """

    @app.before_request
    def forget_cached_user() -> None:
        g.pop("_login_user", None)

    make_user("zhao", "operator")
    other = app.test_client()
    assert other.post("/login", data={"username": "zhao", "password": PASSWORD}).status_code == 302
    return other


COMPLETED_OFFLINE = {
    "disposition": "completed",
    "answers-is_applicant": "true",
    "answers-applied_on": "2026-11-10",  # 13 days before the system accepted the order (2026-11-23)
    "answers-progress": "surveyed",
    "answers-trips": "1",
    "answers-extra_documents": "false",
    "answers-fee_requested": "false",
    "answers-integrity": "false",
    "answers-satisfaction": "4",
    "answers-comment": "",
    "callback_at": "",
    "note": "客户说去年就递了材料",
}


def test_queue_counts_workable_tasks_by_kind_and_what_waits(app, client, login) -> None:
    use_settings(app, auto_kinds=frozenset())
    store_order("Q-1")
    store_order("Q-2")
    store_order("Q-3", status="connected", connected_at="2026-11-26T10:00:00")  # intake + completion
    later = newest_task(store_order("Q-4"))
    later.not_before = TEST_NOW + timedelta(hours=3)
    later.waiting = True  # as intake marks a task whose time is to come
    db.session.commit()
    login("operator")

    page = client.get("/operator/").text

    assert re.search(r'data-kind="intake">\s*<div class="queue-count-number" data-count>3<', page)
    assert re.search(r'data-kind="completion">\s*<div class="queue-count-number" data-count>1<', page)
    assert re.search(r'data-kind="due_date">\s*<div class="queue-count-number" data-count>0<', page)
    assert "受理回访" in page and "接电回访" in page and "到期回访" in page
    assert re.search(r'data-waiting="later">.*?<strong>1</strong>', page)
    assert "下一个回访" in page


def test_next_claims_the_most_urgent_task_and_opens_the_call_screen(client, login) -> None:
    store_order("U-LATER")
    urgent = newest_task(store_order("U-FIRST", now=EARLIER))  # seen earlier: due earlier
    login("operator")

    task_id = claimed_task_id(client)

    assert task_id == urgent.id
    page = client.get(f"/operator/tasks/{task_id}").text
    assert "U-FIRST" in page
    assert "宏达五金店" in page
    assert "+86138****8000" in page
    assert "+8613800138000" not in page
    assert "国网供电公司客户服务中心的回访员" in page
    assert "您是这张工单的用电申请人吗？" in page


def test_next_returns_to_a_live_claim_instead_of_claiming_another(client, login) -> None:
    store_order("R-1")
    store_order("R-2")
    login("operator")
    first = claimed_task_id(client)

    again = claimed_task_id(client)

    assert again == first
    claimed = db.session.scalar(select(func.count()).where(CallbackTask.state == TaskState.CLAIMED))
    assert claimed == 1
    queue = client.get("/operator/").text
    assert "R-1" in queue and "data-current-claim" in queue


def test_the_call_screen_and_its_actions_are_refused_to_anyone_but_the_holder(
    app, client, login, make_user
) -> None:
    store_order("H-1")
    other = other_operator(app, make_user)
    login("operator")
    task_id = claimed_task_id(client)

    screen = other.get(f"/operator/tasks/{task_id}")
    reveal = other.post(f"/operator/tasks/{task_id}/reveal")
    save = other.post(f"/operator/tasks/{task_id}/attempts", data=COMPLETED_OFFLINE)
    release = other.post(f"/operator/tasks/{task_id}/release")

    for response in (screen, reveal, save, release):
        assert response.status_code == 409
        assert "宏达五金店" not in response.text
        assert "8000" not in response.text
    assert "只有领取它的回访员才能打开" in screen.text
    assert db.session.get(CallbackTask, task_id).state == TaskState.CLAIMED
    assert db.session.scalar(select(func.count()).select_from(CallAttempt)) == 0


@pytest.mark.parametrize("role", ["discipline", "integration"])
def test_other_roles_do_not_get_the_workspace(client, login, role) -> None:
    login(role)
    assert client.get("/operator/").status_code == 403
    assert client.post("/operator/next").status_code == 403


def test_showing_the_number_is_audited_and_refused_once_released(client, login) -> None:
    store_order("P-1")
    user = login("operator")
    task_id = claimed_task_id(client)

    shown = client.post(f"/operator/tasks/{task_id}/reveal", headers={"HX-Request": "true"})

    assert shown.status_code == 200
    assert "+8613800138000" in shown.text
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.phone_revealed")).all()
    assert [(event.actor_id, event.entity_id) for event in audit] == [(user.id, task_id)]

    assert client.post(f"/operator/tasks/{task_id}/release").status_code == 302
    refused = client.post(f"/operator/tasks/{task_id}/reveal")
    assert refused.status_code == 409
    assert "+8613800138000" not in refused.text
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "task.phone_revealed")) == 1


def test_a_completed_survey_with_off_line_answers_shows_the_finding_and_opens_a_case(client, login) -> None:
    store_order("F-1")
    login("operator")
    task_id = claimed_task_id(client)

    saved = client.post(f"/operator/tasks/{task_id}/attempts", data=COMPLETED_OFFLINE)

    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).text
    assert 'data-category="offline_circulation"' in page
    assert "线外流转" in page
    assert "2026-11-10" in page and "2026-11-23" in page  # the reason, with the dates compared
    assert "新立案" in page
    assert "下一个回访" in page
    case = db.session.scalar(select(SupervisionCase))
    assert case is not None and case.category == "offline_circulation"
    assert f"#{case.id}" in page
    assert db.session.get(CallbackTask, task_id).state == TaskState.DONE
    assert "客户说去年就递了材料" in page


def test_answers_are_dropped_when_the_call_ended_otherwise(client, login) -> None:
    store_order("N-1")
    login("operator")
    task_id = claimed_task_id(client)

    saved = client.post(
        f"/operator/tasks/{task_id}/attempts", data={**COMPLETED_OFFLINE, "disposition": "busy"}
    )

    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).text
    assert "占线" in page
    assert "没有进行问卷调查" in page
    assert db.session.scalar(select(func.count()).select_from(SupervisionCase)) == 0
    assert db.session.get(CallbackTask, task_id).state == TaskState.OPEN


def test_invalid_input_is_422_keeps_what_was_typed_and_names_each_field(client, login) -> None:
    store_order("V-1")
    login("operator")
    task_id = claimed_task_id(client)
    typed = {
        **COMPLETED_OFFLINE,
        "answers-progress": "",  # required for a completed call
        "answers-trips": "lots",
        "answers-comment": "客户很忙",
    }

    response = client.post(f"/operator/tasks/{task_id}/attempts", data=typed)

    assert response.status_code == 422
    page = response.text
    assert 'id="answers-progress-error"' in page
    assert 'id="answers-trips-error"' in page
    assert "完成回访时为必填项" in page
    assert "必须是整数" in page
    assert 'value="lots"' in page
    assert "客户很忙" in page
    assert 'value="2026-11-10"' in page
    assert re.search(r'value="4" data-key="4" checked', page)
    assert db.session.get(CallbackTask, task_id).state == TaskState.CLAIMED
    assert db.session.scalar(select(func.count()).select_from(CallAttempt)) == 0


def test_queue_counts_stop_at_the_cap_and_say_more(app, client, login, monkeypatch) -> None:
    """Each count reads at most QUEUE_COUNT_CAP + 1 tasks; a longer queue reads "N+"."""
    monkeypatch.setattr("callback.web.operator.QUEUE_COUNT_CAP", 2)
    use_settings(app, auto_kinds=frozenset())
    for number in range(3):
        store_order(f"CAP-{number}")
    # A fourth intake callback, and one completion callback.
    store_order("CAP-C", status="connected", connected_at="2026-11-26T10:00:00")
    for number in range(3):
        retry = newest_task(store_order(f"CAP-R{number}"))
        retry.not_before, retry.waiting, retry.attempt_count = TEST_NOW + timedelta(hours=1), True, 1
    db.session.commit()
    login("operator")

    page = client.get("/operator/").text

    assert re.search(r'data-kind="intake">\s*<div class="queue-count-number" data-count>2\+<', page)
    assert re.search(r'data-kind="completion">\s*<div class="queue-count-number" data-count>1<', page)
    assert "现在可拨打的回访超过 2 个。" in page
    assert re.search(r'data-waiting="retry">.*?<strong>2\+</strong>', page)
    assert re.search(r'data-waiting="later">.*?<strong>0</strong>', page)


def test_an_appointment_needs_a_future_time(client, login) -> None:
    store_order("A-1")
    login("operator")
    task_id = claimed_task_id(client)
    data = {"disposition": "callback_requested", "callback_at": "2026-11-27T09:00", "note": ""}

    past = client.post(f"/operator/tasks/{task_id}/attempts", data=data)
    assert past.status_code == 422
    assert 'id="callback_at-error"' in past.text

    booked = client.post(
        f"/operator/tasks/{task_id}/attempts", data={**data, "callback_at": "2026-11-27T15:30"}
    )
    assert booked.status_code == 302
    task = db.session.get(CallbackTask, task_id)
    assert (task.state, task.not_before) == (TaskState.OPEN, datetime(2026, 11, 27, 7, 30, tzinfo=UTC))
    assert "2026-11-27 15:30" in client.get(booked.headers["Location"]).text
    assert re.search(r'data-waiting="appointment">.*?<strong>1</strong>', client.get("/operator/").text)


def test_outside_calling_hours_nothing_is_claimed_and_the_queue_says_so(app, client, login) -> None:
    use_settings(app, calling_hours=CallingHours.parse("08:00-09:00"))  # it is 10:00 in Beijing
    store_order("O-1")
    login("operator")

    assert client.get("/operator/").text.count("data-outside-hours") == 1
    response = client.post("/operator/next", follow_redirects=True)

    assert response.request.path == "/operator/"
    assert "不在呼叫时段" in response.text
    assert "08:00–09:00" in response.text
    assert db.session.scalar(select(func.count()).where(CallbackTask.state == TaskState.CLAIMED)) == 0


def test_an_empty_queue_says_nothing_is_workable(client, login) -> None:
    login("operator")
    response = client.post("/operator/next", follow_redirects=True)
    assert response.request.path == "/operator/"
    assert "暂无可拨打的回访" in response.text


def test_release_puts_the_task_back(client, login) -> None:
    store_order("L-1")
    login("operator")
    task_id = claimed_task_id(client)

    response = client.post(f"/operator/tasks/{task_id}/release", follow_redirects=True)

    assert response.request.path == "/operator/"
    assert "已放回队列" in response.text
    assert db.session.get(CallbackTask, task_id).state == TaskState.OPEN


def test_an_operator_reads_only_their_own_results(app, client, login, make_user) -> None:
    store_order("S-1")
    other = other_operator(app, make_user)
    login("operator")
    task_id = claimed_task_id(client)
    location = client.post(f"/operator/tasks/{task_id}/attempts", data=COMPLETED_OFFLINE).headers["Location"]
    assert other.get(location).status_code == 403


def test_forms_without_a_csrf_token_are_refused(tmp_path, monkeypatch) -> None:
    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        fresh_schema(app)
        create_user(db.session, "wu", "operator", PASSWORD, now=TEST_NOW)
        db.session.commit()
        task = newest_task(store_order("C-1"))
        client = app.test_client()
        login_page = client.get("/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"username": "wu", "password": PASSWORD, "csrf_token": token})
        queue = client.get("/operator/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', queue).group(1)

        refused = client.post("/operator/next", headers={"Referer": "http://localhost/operator/"})
        assert refused.status_code == 302  # back to the form with a message, never a bare 400 page
        assert refused.headers["Location"] == "/operator/"
        assert db.session.get(CallbackTask, task.id).state == TaskState.OPEN

        accepted = client.post("/operator/next", data={"csrf_token": token})
        assert accepted.headers["Location"] == f"/operator/tasks/{task.id}"
        db.session.remove()
        db.engine.dispose()


def test_the_call_screen_speaks_english_when_asked(client, login) -> None:
    store_order("E-1")
    login("operator")
    task_id = claimed_task_id(client)
    client.post("/language/en", data={"next": f"/operator/tasks/{task_id}"})

    page = client.get(f"/operator/tasks/{task_id}").text

    assert "Are you the applicant for this work order?" in page
    assert "The meter is installed and the power is on" in page
    assert "Show number" in page
    assert "Call back later" in page


def test_the_call_screen_shows_the_slots_tried_and_those_left(app, client, login) -> None:
    store_order("S-1")
    login("operator")
    task_id = claimed_task_id(client)  # Friday 10:00 in Beijing: the weekday morning
    assert "未试时段" in client.get(f"/operator/tasks/{task_id}").text

    client.post(f"/operator/tasks/{task_id}/attempts", data={"disposition": "busy"})
    task = db.session.get(CallbackTask, task_id)
    noon = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # 12:00 in Beijing: the afternoon, not yet tried
    assert task.not_before == noon and task.waiting
    app.config["CLOCK"] = lambda: noon
    assert claimed_task_id(client) == task_id

    page = client.get(f"/operator/tasks/{task_id}").text
    tried = re.search(r'<p[^>]*id="slots-tried".*?</p>', page, re.S).group(0)
    assert "已试时段" in tried and "工作日上午 × 1" in tried
    assert "未试时段: 工作日下午、工作日傍晚、周末及节假日" in tried

    client.post("/language/en", data={"next": f"/operator/tasks/{task_id}"})
    english = client.get(f"/operator/tasks/{task_id}").text
    assert "Weekday morning × 1" in english
    assert "Not tried yet: Weekday afternoon, Weekday evening, Weekend or holiday" in english
