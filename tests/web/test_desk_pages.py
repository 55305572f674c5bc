"""Issue 12, defects 1, 6, 7, 8, 9, 15, 17 and 18 as a user meets them on the pages (no browser needed)."""

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select

from callback.extensions import db
from callback.models import Penalty, WorkOrder
from callback.worklist import claim_next, record_attempt
from tests.conftest import PASSWORD, TEST_NOW
from tests.factories import store_order
from tests.web.test_cases_pages import automatic_case, english, fresh, hand_case, move
from tests.web.test_telephony_hooks import SID, start_call  # noqa: F401  (fixture)

# --- 1: an expired form sends the user to sign in, never to a 400 page --------------------------------------


def test_a_form_sent_after_the_session_ended_goes_to_sign_in_and_back(csrf_app, make_user) -> None:
    client = csrf_app.test_client()
    make_user("chen", "operator")
    login_page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "chen", "password": PASSWORD, "csrf_token": token})
    client.delete_cookie("session")  # the session ends while the call screen is open

    response = client.post(
        "/operator/tasks/1/attempts",
        data={"disposition": "completed", "csrf_token": "stale"},
        headers={"Referer": "http://localhost/operator/tasks/1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Foperator%2Ftasks%2F1"
    page = client.get(response.headers["Location"]).text
    assert "登录已过期" in page and "请求格式不正确" not in page


def test_an_expired_token_of_a_signed_in_user_goes_back_to_the_form(csrf_app, make_user) -> None:
    client = csrf_app.test_client()
    make_user("chen", "supervisor")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "chen", "password": PASSWORD, "csrf_token": token})
    response = client.post(
        "/ledgers/set", data={"csrf_token": "expired"}, headers={"Referer": "http://localhost/ledgers/?x=1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/ledgers/?x=1"
    assert "表单已过期" in client.get("/ledgers/?x=1").text
    # Another site's page is never where we send the user back to.
    elsewhere = client.post(
        "/ledgers/set", data={"csrf_token": "x"}, headers={"Referer": "https://evil.example/ledgers/"}
    )
    assert elsewhere.headers["Location"] == "/"


def test_the_api_still_answers_a_missing_token_in_json(csrf_app) -> None:
    client = csrf_app.test_client()
    assert client.post("/api/v1/tasks/claim").status_code == 401


# --- 6: the same penalty form sent twice records one penalty ------------------------------------------------


def test_a_penalty_form_sent_twice_records_one_penalty(client: FlaskClient, login) -> None:
    case = hand_case()
    move(case, "investigating", "letter_issued")
    login("supervisor")
    page = client.get(f"/cases/{case.id}").text
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    data = {"person": "王磊", "amount_yuan": "200", "reason": "柜门未关", "form_token": form_token}
    assert client.post(f"/cases/{case.id}/penalties", data=data).status_code == 302
    assert client.post(f"/cases/{case.id}/penalties", data=data).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Penalty)) == 1
    # A new form (a new token) is a new penalty.
    other = re.search(r'name="form_token" value="([^"]+)"', client.get(f"/cases/{case.id}").text).group(1)
    assert other != form_token
    client.post(f"/cases/{case.id}/penalties", data={**data, "form_token": other})
    assert db.session.scalar(select(func.count()).select_from(Penalty)) == 2


def test_every_page_loads_the_script_that_stops_a_second_submit(client: FlaskClient, login) -> None:
    login("supervisor")
    assert "/static/forms.js" in client.get("/").text
    with client.get("/static/forms.js") as script:
        assert "data-submitting" in script.text and "disabled = true" in script.text


# --- 7: the order page lists operators' calls too -----------------------------------------------------------


def test_the_order_page_lists_the_operators_calls(client: FlaskClient, login, make_user, settings) -> None:
    store_order("GD-CALLS")
    operator = make_user("chen", "operator")
    task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
    record_attempt(
        db.session,
        task.id,
        operator.id,
        disposition="callback_requested",
        answers={},
        callback_at=(TEST_NOW + timedelta(hours=3)).isoformat(),
        note="客户在开会，下午三点再打",
        now=TEST_NOW,
        settings=settings,
    )
    db.session.commit()
    login("operator")
    page = client.get("/orders/GD-CALLS").text
    calls = page.split('id="customer-history"', 1)[1].split("</section>", 1)[0]
    assert "chen" in calls
    assert "预约回访" in calls
    assert "客户在开会，下午三点再打" in calls
    assert "2026-11-27 13:00" in calls  # the appointment, local time


# --- 8: an operator's result page names the case without a link it may not follow --------------------------


def test_the_operator_sees_the_case_number_without_a_link(client: FlaskClient, make_user) -> None:
    case = automatic_case(make_user, "GD-RESULT")
    attempt_id = case.evidence[0].attempt_id
    client.post("/login", data={"username": "op-GD-RESULT", "password": PASSWORD})
    page = client.get(f"/operator/attempts/{attempt_id}").text
    assert f"/cases/{case.id}" not in page
    assert f"#{case.id}" in page
    assert client.get(f"/cases/{case.id}").status_code == 403  # the link would have led here
    client.post("/logout")
    make_user("lin", "supervisor")
    client.post("/login", data={"username": "lin", "password": PASSWORD})
    assert f'href="/cases/{case.id}"' in client.get(f"/operator/attempts/{attempt_id}").text


# --- 9: no ledger is chosen by default; taking off is chosen on purpose and confirmed --------------------


def test_the_ledger_form_has_no_default_and_taking_off_asks_first(client: FlaskClient, login) -> None:
    store_order("GD-LEDGER", ledger="in_transit")
    login("supervisor")
    page = client.get("/orders/GD-LEDGER").text
    select_html = page.split('name="ledger"', 1)[1].split("</select>", 1)[0]
    selected = re.findall(r"<option[^>]*selected[^>]*>([^<]*)<", select_html)
    assert selected == ["请选择台账…"]
    assert re.search(r'<option value="none" data-confirm="[^"]+">无（移出台账）', select_html)
    # Sent without a choice (an old form): nothing changes.
    refused = client.post(
        "/ledgers/set", data={"order_no": "GD-LEDGER", "ledger": "", "note": "误点"}, follow_redirects=True
    )
    assert "请选择台账" in refused.text
    db.session.expire_all()
    order = db.session.scalar(select(WorkOrder).where(WorkOrder.order_no == "GD-LEDGER"))
    assert order.ledger == "in_transit"
    rows = client.get("/ledgers/in_transit").text
    assert re.search(r'class="d-flex gap-1 take-off-form"\s+data-confirm="[^"]*GD-LEDGER', rows)


# --- 15: call statuses in words ----------------------------------------------------------------------------


def test_the_transcript_shows_call_statuses_in_chinese(client, login, start_call, twilio_post) -> None:  # noqa: F811
    attempt = start_call("STATUS-1")
    twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "initiated"})
    twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "no-answer"})
    login("operator")
    page = client.get(f"/twilio/attempts/{attempt.id}/transcript").text
    assert "无人接听" in page and "正在拨号" in page
    assert ">no-answer<" not in page and "initiated" not in page.split("<main", 1)[1].replace(
        'data-call-status="initiated"', ""
    )


# --- 17: a finished case offers nothing to change ----------------------------------------------------------


def test_a_closed_case_shows_no_forms_and_no_move_keys(client: FlaskClient, login) -> None:
    case = hand_case()
    move(case, "investigating", "letter_issued", "rectified", "closed")
    login("supervisor")
    page = client.get(f"/cases/{case.id}").text
    for form in ("/penalties", "/assign", "/referral", "/transition"):
        assert f'action="/cases/{case.id}{form}"' not in page, form
    assert 'id="shortcut-help"' in page
    help_line = page.split('id="shortcut-help"', 1)[1].split("</aside>", 1)[0]
    assert "<kbd>p</kbd>" in help_line and "<kbd>i</kbd>" not in help_line and "<kbd>c</kbd>" not in help_line
    english(client)
    refused = client.post(f"/cases/{case.id}/assign", data={"assignee_id": ""})
    assert refused.status_code == 409 and "finished" in refused.text
    assert client.post(f"/cases/{case.id}/referral", data={"note": "x"}).status_code == 409
    assert fresh(case).referred_to_discipline is False


def test_a_discipline_inspector_is_not_offered_to_print_a_letter_that_does_not_exist(
    client: FlaskClient, login
) -> None:
    from callback.cases import refer_to_discipline
    from tests.web.test_cases_pages import SYSTEM

    case = hand_case()
    refer_to_discipline(db.session, case.id, note="移交", now=TEST_NOW, actor=SYSTEM)
    db.session.commit()
    login("discipline")
    page = client.get(f"/cases/{case.id}").text
    assert "打印意见书" not in page and 'data-shortcut="p"' not in page


# --- 18: paging, order numbers as typed, the icon, error pages -------------------------------------------


def test_past_the_last_page_the_list_shows_the_last_page(client: FlaskClient, login, settings) -> None:
    from tests.factories import order_payload, store_orders

    store_orders(*(order_payload(f"GD-P-{n:03d}") for n in range(60)))
    login("supervisor")
    page = client.get("/", query_string={"page": 9}).text
    assert "暂无工单" not in page
    assert page.count('href="/orders/GD-P-') == 10  # the 10 rows of page 2 of 2
    assert "第 2 页，共 2 页" in page


def test_a_case_is_opened_by_hand_with_a_lower_case_order_number(client: FlaskClient, login) -> None:
    store_order("GD-2026-0042")
    login("supervisor")
    response = client.post(
        "/cases/new",
        data={"order_no": " gd-2026-0042 ", "category": "cabinet_door_open", "description": "柜门未关"},
    )
    assert response.status_code == 302, response.text
    page = client.get(response.headers["Location"]).text
    assert "GD-2026-0042" in page


def test_the_favicon_is_served_and_linked(client: FlaskClient, login) -> None:
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"
    login("supervisor")
    page = client.get("/").text
    assert 'rel="icon" href="/static/favicon.svg"' in page and 'href="/static/favicon.ico"' in page
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and b"<svg" in svg.data


def test_error_pages_say_what_happened_in_words(client: FlaskClient, login) -> None:
    login("operator")
    missing = client.get("/orders/NO-SUCH-ORDER")
    assert missing.status_code == 404
    assert "<title>页面不存在" in missing.text and "错误代码 404" in missing.text
    forbidden = client.get("/reports/")
    assert forbidden.status_code == 403 and "您无权打开此页面" in forbidden.text


# --- 12: the due-date script after the due date, and the window on the call screen -----------------------


def test_a_due_date_call_after_the_due_date_does_not_say_due_about_now(
    client: FlaskClient, login, settings
) -> None:
    from callback.audit import Actor
    from callback.tick import create_due_date_tasks

    store_order("GD-LATE", due_at="2026-11-26T17:00:00")  # due yesterday
    create_due_date_tasks(db.session, now=TEST_NOW, settings=settings, actor=Actor(source="test"))
    db.session.commit()
    user = login("operator")
    task = claim_next(db.session, user.id, now=TEST_NOW, settings=settings, kind="due_date")
    db.session.commit()
    assert task is not None and task.kind == "due_date"
    page = client.get(f"/operator/tasks/{task.id}").text
    opening = re.search(r'<p class="script-opening mb-1">(.*?)</p>', page, re.S).group(1)
    assert "即将到期" not in opening
    assert "2026-11-26" in opening and "已到期" in opening
    assert "data-callback-window" in page


# --- 13: the number stays shown for the claim ---------------------------------------------------------------


def test_a_revealed_number_stays_shown_for_the_claim_only(client: FlaskClient, login, settings) -> None:
    store_order("GD-SHOWN")
    user = login("operator")
    task = claim_next(db.session, user.id, now=TEST_NOW, settings=settings)
    db.session.commit()
    assert "data-phone-masked" in client.get(f"/operator/tasks/{task.id}").text
    client.post(f"/operator/tasks/{task.id}/reveal")
    assert "data-phone-revealed" in client.get(f"/operator/tasks/{task.id}").text  # reload
    failed = client.post(f"/operator/tasks/{task.id}/attempts", data={"disposition": "completed"})
    assert failed.status_code == 422 and "data-phone-revealed" in failed.text  # a failed save
    # A new claim of the same task starts masked again.
    client.post(f"/operator/tasks/{task.id}/release")
    again = claim_next(db.session, user.id, now=TEST_NOW, settings=settings)
    db.session.commit()
    assert again.id == task.id
    assert "data-phone-masked" in client.get(f"/operator/tasks/{task.id}").text
