"""One page of a list (callback/web/paging.py `paginate`), and the lists that use it."""

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from callback.extensions import db
from callback.models import User
from callback.notifications import enqueue
from callback.web.paging import paginate
from tests.reports.published_year import build_published_year
from tests.web.test_cases_pages import NOW


def test_a_page_past_the_end_shows_the_last_page(app: Flask, make_user: Callable[..., User]) -> None:
    for n in range(5):
        make_user(f"pager-{n}", "operator")
    users = select(User.username).order_by(User.username)
    with app.test_request_context("/?page=9"):
        shown = paginate(users, total=5, per_page=2)
    assert (shown.page, shown.pages, shown.total, shown.per_page) == (3, 3, 5, 2)
    assert list(shown.items) == ["pager-4"]
    with app.test_request_context("/?page=abc"):
        assert list(paginate(users, total=5, per_page=2).items) == ["pager-0", "pager-1"]


def test_a_given_page_is_used_as_given_and_may_be_empty(app: Flask) -> None:
    with app.test_request_context("/?page=1"):
        shown = paginate(list("abcde"), total=5, per_page=2, page=4, rows=lambda window: window)
    assert (shown.items, shown.page, shown.pages) == ([], 4, 3)


def test_an_empty_list_is_page_one_of_one(app: Flask) -> None:
    with app.test_request_context("/?page=7"):
        shown = paginate([], total=0, per_page=50, rows=lambda window: window)
    assert (shown.items, shown.page, shown.pages) == ([], 1, 1)


def test_the_rows_hook_sees_the_limited_query(app: Flask, make_user: Callable[..., User]) -> None:
    for n in range(3):
        make_user(f"hook-{n}", "operator")
    seen = []

    def names(limited):
        seen.append((limited._limit_clause.value, limited._offset_clause.value))
        return ["x"]

    with app.test_request_context("/?page=2"):
        paginate(select(User).order_by(User.id), total=3, per_page=2, rows=names)
    assert seen == [(2, 2)]


def test_the_outbox_past_its_last_page_shows_the_last_page(client: FlaskClient, login) -> None:
    for n in range(51):
        enqueue(db.session, f"pager:{n}", "email", "office@example.com", f"subject-{n:02d}", "body", now=NOW)
    db.session.commit()
    login("admin")
    page = client.get("/notifications/outbox", query_string={"page": 9}).text
    assert "subject-00" in page and "subject-01" not in page  # newest first: the oldest alone on page 2
    assert 'href="/notifications/outbox?page=1"' in page


def test_the_lists_that_did_not_clamp_now_do_and_refuse_huge_pages(client: FlaskClient, login) -> None:
    login("admin")
    for url in ("/qa/?page=5", "/notifications/outbox?page=5", "/audit/?page=5", "/do-not-call/?page=5"):
        assert client.get(url).status_code == 200, url
        assert client.get(url + "0000000000000000000").status_code == 400, url


def test_the_connections_report_pages_its_frame_and_shows_the_last_page_past_the_end(
    client: FlaskClient, login, settings
) -> None:
    build_published_year(db.session, settings)
    db.session.commit()
    login("supervisor")
    year = {"from": "2022-01-01", "to": "2022-12-31"}
    first = client.get("/reports/connections", query_string=year).text
    last = client.get("/reports/connections", query_string={**year, "page": 9}).text
    assert first.count('<th scope="row"') == 100  # CONNECTIONS_PER_PAGE
    assert last.count('<th scope="row"') == 148 - 100  # the published year's 67 + 81 connections
    assert "第 2 页，共 2 页" in last
