"""The do-not-call page, the call screen's button and whistle-blower protection on case pages (issue 13)."""

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from callback.audit import Actor
from callback.cases import open_case_by_hand, refer_to_discipline
from callback.donotcall import Listing, add, is_listed
from callback.extensions import db
from callback.models import AuditEvent, CallbackTask, DoNotCallEntry, DoNotCallReason, DoNotCallSource
from callback.settings import current_settings
from tests.conftest import TEST_NOW
from tests.factories import store_order

NUMBER = "+8613800138000"  # the factory order's customer
SYSTEM = Actor(source="test")


def list_number(reason=DoNotCallReason.CUSTOMER_ASKED, number=NUMBER):
    add(
        db.session,
        Listing(number, reason, None, None),
        source=DoNotCallSource.SUPERVISOR,
        actor=SYSTEM,
        now=TEST_NOW,
    )
    db.session.commit()


@pytest.mark.parametrize("role", ["operator", "discipline", "integration"])
def test_only_supervisors_and_admins_open_the_list(client: FlaskClient, login, role):
    login(role)
    assert client.get("/do-not-call/").status_code == 403
    assert client.post("/do-not-call/", data={"number": "13900139000", "reason": "legal"}).status_code == 403
    assert db.session.scalar(select(DoNotCallEntry)) is None


def test_a_supervisor_adds_searches_and_removes_a_number(client: FlaskClient, login):
    login("supervisor")
    page = client.get("/do-not-call/")
    assert page.status_code == 200 and "免打扰名单" in page.text
    added = client.post(
        "/do-not-call/",
        data={"number": "139-0013-9000", "reason": "integrity", "note": "举报人", "expires_at": ""},
    )
    assert added.status_code == 302
    client.post("/do-not-call/", data={"number": "13700137000", "reason": "legal"})
    listing = client.get("/do-not-call/", query_string={"q": "1390013"}).text
    assert "+8613900139000" in listing and "+8613700137000" not in listing
    assert "举报人保护" in listing  # the reason's Chinese label
    entry = db.session.scalar(select(DoNotCallEntry).where(DoNotCallEntry.number == "+8613900139000"))
    assert entry.source == "supervisor"
    assert client.post(f"/do-not-call/{entry.id}/remove").status_code == 302
    db.session.expire_all()
    assert is_listed(db.session, "+8613900139000", TEST_NOW) is None
    removed = client.get("/do-not-call/", query_string={"state": "removed"}).text
    assert "+8613900139000" in removed
    assert client.post(f"/do-not-call/{entry.id}/remove").status_code == 302  # twice: a message, no error
    assert client.post("/do-not-call/999/remove").status_code == 302
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == entry.id))
    assert set(actions) >= {"do_not_call.added", "do_not_call.removed"}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"number": "12345", "reason": "legal"}, "手机号"),
        ({"number": "13900139000", "reason": "whim"}, "reason"),
        ({"number": "13900139000", "reason": "legal", "expires_at": "2020-01-01T08:00"}, "expires_at"),
        ({"number": "13900139000", "reason": "legal", "expires_at": "soon"}, "expires_at"),
        ({}, "number"),
    ],
)
def test_bad_input_shows_the_form_again_and_changes_nothing(client: FlaskClient, login, form, message):
    login("supervisor")
    response = client.post("/do-not-call/", data=form)
    assert response.status_code == 422
    assert 'id="dnc-form-error"' in response.text
    assert db.session.scalar(select(DoNotCallEntry)) is None
    assert message  # the field concerned is marked on the form
    assert "is-invalid" in response.text


def test_listing_a_listed_number_again_is_a_conflict_on_the_page(client: FlaskClient, login):
    login("supervisor")
    list_number()
    response = client.post("/do-not-call/", data={"number": "13800138000", "reason": "legal"})
    assert response.status_code == 409
    assert "免打扰名单" in response.text


def test_forms_without_the_csrf_token_change_nothing(app, client: FlaskClient, login, monkeypatch):
    login("supervisor")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post("/do-not-call/", data={"number": "13900139000", "reason": "legal"})
    assert refused.status_code in (302, 400)
    assert db.session.scalar(select(DoNotCallEntry)) is None
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/do-not-call/").text).group(1)
    accepted = client.post(
        "/do-not-call/", data={"number": "13900139000", "reason": "legal", "csrf_token": token}
    )
    assert accepted.status_code == 302


def test_the_call_screen_button_ends_the_task_and_lists_the_number(client: FlaskClient, login):
    store_order()
    operator = login("operator")
    call = client.post("/operator/next")
    screen = client.get(call.headers["Location"])
    assert "客户要求不再回访" in screen.text and 'id="do-not-call-form"' in screen.text
    task = db.session.scalar(select(CallbackTask))
    response = client.post(f"/operator/tasks/{task.id}/do-not-call", data={"dnc_note": "客户很生气"})
    assert response.status_code == 302
    result = client.get(response.headers["Location"]).text
    assert "免打扰" in result
    db.session.expire_all()
    assert db.session.get(CallbackTask, task.id).state == "do_not_call"
    entry = is_listed(db.session, NUMBER, TEST_NOW)
    assert (entry.source, entry.added_by_id, entry.note) == ("call_screen", operator.id, "客户很生气")
    # The task is no longer the operator's: pressing again is refused, not an error page.
    assert client.post(f"/operator/tasks/{task.id}/do-not-call").status_code == 409


def test_a_listed_number_is_never_claimed_from_the_queue(client: FlaskClient, login):
    store_order()
    list_number()
    login("operator")
    response = client.post("/operator/next", follow_redirects=True)
    assert "/operator/tasks/" not in response.request.path
    assert db.session.scalar(select(CallbackTask)).state == "do_not_call"


def case_on_a_whistle_blower():
    store_order(customer_name="举报人五金店", address="城关镇举报路 1 号")
    case = open_case_by_hand(
        db.session,
        order_no="GD-2026-0001",
        category="other",
        description="索要好处",
        now=TEST_NOW,
        settings=current_settings(),
        actor=SYSTEM,
    )
    refer_to_discipline(db.session, case.id, note=None, now=TEST_NOW, actor=SYSTEM)
    db.session.commit()
    list_number(DoNotCallReason.INTEGRITY)
    return case


@pytest.mark.parametrize(("role", "hidden"), [("supervisor", True), ("discipline", False), ("admin", False)])
def test_case_pages_hide_a_whistle_blower_from_the_service_centre(client: FlaskClient, login, role, hidden):
    case = case_on_a_whistle_blower()
    login(role)
    pages = [
        client.get(f"/cases/{case.id}").text,
        client.get("/cases/").text,
        client.get("/orders/GD-2026-0001").text,
    ]
    for page in pages:
        assert ("举报人五金店" in page) is not hidden
    for page in (pages[0], pages[2]):  # the case and the order show the address; the case list does not
        assert ("城关镇举报路" in page) is not hidden
    if hidden:
        assert "已隐藏（举报人保护）" in pages[0]
        assert "138****8000" not in pages[2]


def test_operators_never_see_a_whistle_blower_on_order_pages(client: FlaskClient, login):
    case_on_a_whistle_blower()
    login("operator")
    for page in (client.get("/orders/").text, client.get("/orders/GD-2026-0001").text):
        assert "举报人五金店" not in page and "138****8000" not in page


def test_another_reason_hides_nobody(client: FlaskClient, login):
    store_order(customer_name="普通五金店")
    list_number(DoNotCallReason.COMPLAINT)
    login("supervisor")
    assert "普通五金店" in client.get("/orders/GD-2026-0001").text
