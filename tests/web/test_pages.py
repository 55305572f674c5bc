"""The signed-in pages as people see them: sign-in, roles, the work-order list and detail, languages."""

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from callback.extensions import db
from tests.conftest import PASSWORD
from tests.factories import store_order

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_sign_in_with_the_right_password_opens_the_work_orders(client: FlaskClient, make_user) -> None:
    make_user("wang", "operator")
    response = client.post("/login", data={"username": "wang", "password": PASSWORD}, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/"
    page = response.text
    assert "业扩工单" in page
    assert "wang" in page
    assert "回访坐席" in page


def test_sign_in_with_a_wrong_password_says_so_in_chinese(client: FlaskClient, make_user) -> None:
    make_user("wang", "operator")
    response = client.post("/login", data={"username": "wang", "password": "not it"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert client.get("/").status_code == 302


def test_sign_in_with_empty_fields_marks_them_in_chinese(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 200
    assert response.text.count("该字段是必填字段") == 2
    assert 'aria-describedby="username-errors"' in response.text


def test_sign_out_ends_the_session(client: FlaskClient, login) -> None:
    login("operator")
    response = client.post("/logout", follow_redirects=True)
    assert response.request.path == "/login"
    assert "您已退出登录" in response.text
    assert client.get("/").headers["Location"].startswith("/login")


def test_anonymous_visitor_is_sent_to_the_sign_in_page(client: FlaskClient) -> None:
    response = client.get("/orders/GD-2026-0001")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Forders%2FGD-2026-0001"
    page = client.get(response.headers["Location"]).text
    assert "请先登录后再访问此页面" in page
    assert 'name="password"' in page


def test_a_role_without_access_gets_the_forbidden_page(client: FlaskClient, login) -> None:
    login("integration")
    response = client.get("/")
    assert response.status_code == 403
    assert "403" in response.text
    assert "您的角色无权执行此操作" in response.text
    assert "<nav" in response.text  # the full layout, not a bare error


def test_unknown_page_shows_the_error_page_to_anonymous_visitors(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "您访问的页面或资源不存在" in response.text
    assert 'href="/login"' in response.text


def test_orders_list_shows_chinese_labels_masked_phone_and_tasks(client: FlaskClient, login) -> None:
    store_order(ledger="in_transit", has_engineering=True, now=NOW)
    login("supervisor")
    page = client.get("/").text
    assert 'href="/orders/GD-2026-0001"' in page
    assert "宏达五金店" in page
    assert "+86138****8000" in page
    assert "13800138000" not in page
    assert ">受理</span>" in page
    assert "系统流程在途" in page
    assert "受理回访 · 待回访" in page
    assert "2026-11-23 09:30" in page  # accepted at 09:30 Asia/Shanghai
    assert "共 1 张工单" in page


def test_orders_list_filters_by_status_and_says_when_nothing_matches(client: FlaskClient, login) -> None:
    store_order(now=NOW)
    login("operator")
    page = client.get("/?status=connected").text
    assert "GD-2026-0001" not in page
    assert "没有符合筛选条件的工单" in page
    assert "GD-2026-0001" in client.get("/?q=宏达").text


def test_orders_list_counts_up_to_the_cap_then_says_more_than(
    client: FlaskClient, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("callback.web.orders.COUNT_CAP", 3)
    monkeypatch.setattr("callback.web.orders.PER_PAGE", 2)
    for n in range(1, 5):
        store_order(order_no=f"GD-2026-000{n}", accepted_at=f"2026-11-2{n}T01:30:00Z")
    login("supervisor")
    page = client.get("/").text
    assert "超过 3 张工单，请筛选或搜索以缩小范围" in page
    assert "张工单" not in page.replace("超过 3 张工单", "")
    assert "第 1 页，共 2 页" in page  # pages over the capped count
    filtered = client.get("/?q=GD-2026-0003").text
    assert "共 1 张工单" in filtered


def test_orders_list_search_finds_part_of_a_number_or_a_name_and_takes_wildcards_literally(
    client: FlaskClient, login
) -> None:
    store_order(order_no="GD-2026-0001", customer_name="宏达五金店")
    store_order(order_no="GD-2026-0002", customer_name="百分百_超市")
    login("supervisor")
    page = client.get("/?q=026-0001").text
    assert "GD-2026-0001" in page and "GD-2026-0002" not in page
    page = client.get("/?q=gd-2026-0002").text  # case-insensitive
    assert "GD-2026-0002" in page and "GD-2026-0001" not in page
    page = client.get("/?q=五金").text
    assert "GD-2026-0001" in page and "GD-2026-0002" not in page
    page = client.get("/?q=%").text  # a literal percent sign, not "anything"
    assert "没有符合筛选条件的工单" in page
    page = client.get("/?q=百_").text
    assert "GD-2026-0002" in page and "GD-2026-0001" not in page
    page = client.get("/?q=五_").text
    assert "没有符合筛选条件的工单" in page


def test_orders_list_search_on_sqlite_reads_names_in_the_newest_window_and_numbers_everywhere(
    app: Flask, client: FlaskClient, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL searches every order through its trigram index")
    monkeypatch.setattr("callback.web.orders.TEXT_SCAN_LIMIT", 1)
    store_order(order_no="GD-2026-0001", customer_name="宏达五金店", accepted_at="2026-11-20T01:30:00Z")
    store_order(order_no="GD-2026-0002", customer_name="宏达超市", accepted_at="2026-11-21T01:30:00Z")
    login("supervisor")
    page = client.get("/?q=宏达").text
    assert "GD-2026-0002" in page and "GD-2026-0001" not in page
    assert "GD-2026-0001" in client.get("/?q=gd-2026-0001").text  # a number is found however old


def test_orders_list_offers_each_service_centre_once_in_order(client: FlaskClient, login) -> None:
    for n, center in enumerate(["城关供电服务中心", "东城供电服务中心", "城关供电服务中心"], start=1):
        store_order(order_no=f"GD-2026-000{n}", service_center=center)
    login("supervisor")
    page = client.get("/").text
    start = page.index('id="filter-center"')
    select = page[start : page.index("</select>", start)]
    options = re.findall(r'<option value="([^"]+)"', select)
    assert options == sorted({"城关供电服务中心", "东城供电服务中心"})


def test_order_detail_shows_the_timeline_in_local_time(client: FlaskClient, login) -> None:
    store_order(
        now=NOW,
        status="surveyed",
        accepted_at="2026-11-23T01:30:00Z",
        surveyed_at="2026-11-24T06:00:00+00:00",
        updated_at="2026-11-23T02:05:00Z",  # within 10 minutes of its arrival (NOW)
    )
    login("operator")
    response = client.get("/orders/GD-2026-0001")
    assert response.status_code == 200
    page = response.text
    timeline = page[page.index('class="timeline') : page.index("</ol>", page.index('class="timeline'))]
    assert "受理" in timeline
    assert "2026-11-23 09:30" in timeline
    assert "勘查" in timeline
    assert "2026-11-24 14:00" in timeline
    assert "+86138****8000" in page
    assert "13800138000" not in page
    assert "受理回访" in page


def test_unknown_order_is_not_found(client: FlaskClient, login) -> None:
    login("operator")
    assert client.get("/orders/NOPE-1").status_code == 404


def test_switching_to_english_shows_english_labels(client: FlaskClient, login) -> None:
    store_order(ledger="connect_first", now=NOW)
    login("operator")
    response = client.post("/language/en", data={"next": "/?status="}, follow_redirects=True)
    assert response.request.path == "/"
    page = response.text
    assert '<html lang="en">' in page
    assert "Work orders" in page
    assert ">Accepted</span>" in page
    assert "Connect first, upgrade later" in page
    assert "Intake callback · Open" in page
    assert "Call operator" in page
    assert "先接入后改造" not in page
    back = client.post("/language/zh_CN", follow_redirects=True).text
    assert '<html lang="zh-CN">' in back
    assert "先接入后改造" in back


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(client: FlaskClient, make_user, target: str) -> None:
    make_user("wang", "operator")
    response = client.post(
        "/login", query_string={"next": target}, data={"username": "wang", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(client: FlaskClient, make_user) -> None:
    make_user("wang", "operator")
    response = client.post(
        "/login", query_string={"next": "/orders/X-1"}, data={"username": "wang", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/orders/X-1"


def test_pages_load_only_their_own_assets(client: FlaskClient, login) -> None:
    login("operator")
    page = client.get("/").text
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert "/static/vendor/bootstrap/bootstrap.min.css" in assets
    assert "/static/vendor/htmx/htmx.min.js" in assets
    assert all(asset.startswith("/static/") for asset in assets), assets
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200, asset


def test_sign_in_without_a_csrf_token_is_refused(csrf_app: Flask) -> None:
    from callback.users import create_user

    create_user(db.session, "wang", "operator", PASSWORD, now=NOW)
    db.session.commit()
    client = csrf_app.test_client()
    response = client.post("/login?next=/operator/", data={"username": "wang", "password": PASSWORD})
    assert response.status_code == 302  # back to the sign-in form (issue 12: never a bare 400 page)
    assert response.headers["Location"] == "/login?next=/operator/"
    assert client.get("/").status_code == 302  # still signed out

    form = client.get("/login").text
    token = form.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    signed_in = client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200


def test_language_and_sign_out_forms_carry_a_csrf_token(csrf_app: Flask) -> None:
    from callback.users import create_user

    create_user(db.session, "wang", "operator", PASSWORD, now=NOW)
    db.session.commit()
    client = csrf_app.test_client()
    refused = client.post("/language/en")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")  # not a 400 page
    assert "Sign in" not in client.get("/login").text  # the language did not change
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/language/en", data={"csrf_token": token, "next": "/login"})
    assert response.status_code == 302
    assert "Sign in" in client.get("/login").text
