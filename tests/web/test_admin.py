"""User administration in the web interface, for admins only; every user changes their own password."""

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from callback.extensions import db
from callback.models import ApiToken, AuditEvent, User
from callback.users import create_user
from tests.conftest import PASSWORD, TEST_NOW

ADMIN_PAGES = [
    ("GET", "/admin/"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/1"),
    ("POST", "/admin/users/1/role"),
    ("POST", "/admin/users/1/password"),
    ("POST", "/admin/users/1/deactivate"),
    ("POST", "/admin/users/1/reactivate"),
    ("POST", "/admin/users/1/tokens"),
    ("POST", "/admin/users/1/tokens/1/revoke"),
]


def _users(app: Flask, *users: tuple[str, str]) -> dict[str, int]:
    with app.app_context():
        made = {name: create_user(db.session, name, role, PASSWORD, now=TEST_NOW) for name, role in users}
        db.session.commit()
        return {name: user.id for name, user in made.items()}


def _signed_in_as(app: Flask, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.text
    return client


def _user(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge_all()
        return user


@pytest.mark.parametrize("role", ["operator", "supervisor", "discipline", "integration"])
def test_only_admins_reach_user_administration(isolated_app, role):
    app = isolated_app()
    _users(app, ("target", "operator"), ("someone", role))
    client = _signed_in_as(app, "someone")
    for method, path in ADMIN_PAGES:
        response = client.open(path, method=method, data={"role": "admin", "password": "x" * 12})
        assert response.status_code == 403, (method, path)
    assert _user(app, "target").role == "operator" and _user(app, "target").active
    anonymous = app.test_client()
    assert anonymous.get("/admin/").status_code == 302


def test_an_admin_creates_a_user_who_can_then_sign_in(isolated_app):
    app = isolated_app()
    _users(app, ("boss", "admin"))
    admin = _signed_in_as(app, "boss")
    page = admin.get("/admin/")
    assert page.status_code == 200 and "boss" in page.text
    refused = admin.post(
        "/admin/users/new",
        data={"username": "zhang", "role": "operator", "password": "short", "confirm": "short"},
    )
    assert refused.status_code == 422
    assert "密码至少需要 8 个字符" in refused.text
    duplicate = admin.post(
        "/admin/users/new",
        data={"username": "boss", "role": "operator", "password": "x" * 9, "confirm": "x" * 9},
    )
    assert duplicate.status_code == 422 and "已存在" in duplicate.text
    created = admin.post(
        "/admin/users/new",
        data={"username": "zhang", "role": "operator", "password": "long enough", "confirm": "long enough"},
    )
    assert created.status_code == 302
    assert "zhang" in admin.get("/admin/").text
    _signed_in_as(app, "zhang", "long enough")


def test_role_change_password_reset_deactivation_and_reactivation(isolated_app):
    app = isolated_app()
    ids = _users(app, ("boss", "admin"), ("wang", "operator"))
    admin = _signed_in_as(app, "boss")
    wang = _signed_in_as(app, "wang")
    detail = admin.get(f"/admin/users/{ids['wang']}")
    assert detail.status_code == 200 and "wang" in detail.text

    assert admin.post(f"/admin/users/{ids['wang']}/role", data={"role": "supervisor"}).status_code == 302
    assert _user(app, "wang").role == "supervisor"
    assert wang.get("/").status_code == 302  # signed out by the change
    assert admin.post(f"/admin/users/{ids['wang']}/role", data={"role": "boss"}).status_code == 422

    mismatch = admin.post(
        f"/admin/users/{ids['wang']}/password", data={"password": "new password 1", "confirm": "other"}
    )
    assert mismatch.status_code == 422
    reset = admin.post(
        f"/admin/users/{ids['wang']}/password",
        data={"password": "new password 1", "confirm": "new password 1"},
    )
    assert reset.status_code == 302
    wang = _signed_in_as(app, "wang", "new password 1")

    assert admin.post(f"/admin/users/{ids['wang']}/deactivate").status_code == 302
    assert not _user(app, "wang").active
    assert wang.get("/").status_code == 302
    assert (
        app.test_client().post("/login", data={"username": "wang", "password": "new password 1"}).status_code
        == 200
    )
    assert admin.post(f"/admin/users/{ids['wang']}/reactivate").status_code == 302
    _signed_in_as(app, "wang", "new password 1")

    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == ids["wang"])
        ).all()
        details = db.session.scalars(select(AuditEvent.details)).all()
    for action in ("user.role_changed", "user.password_set", "user.deactivated", "user.reactivated"):
        assert action in actions
    assert "new password 1" not in repr(details)
    assert admin.get("/admin/users/99999999999999999999").status_code == 404
    assert admin.get("/admin/users/2147483648").status_code == 404


def test_the_last_active_admin_cannot_deactivate_or_demote_themselves(isolated_app):
    app = isolated_app()
    ids = _users(app, ("boss", "admin"))
    admin = _signed_in_as(app, "boss")
    refused = admin.post(f"/admin/users/{ids['boss']}/deactivate")
    assert refused.status_code == 409
    assert "最后一位在用的管理员" in refused.text
    assert admin.post(f"/admin/users/{ids['boss']}/role", data={"role": "operator"}).status_code == 409
    boss = _user(app, "boss")
    assert boss.active and boss.role == "admin"
    # With a second admin, the first may step down (and is signed out by it).
    ids.update(_users(app, ("deputy", "admin")))
    assert admin.post(f"/admin/users/{ids['boss']}/role", data={"role": "supervisor"}).status_code == 302
    assert _user(app, "boss").role == "supervisor"
    assert admin.get("/admin/").status_code == 302
    deputy = _signed_in_as(app, "deputy")
    assert deputy.post(f"/admin/users/{ids['deputy']}/deactivate").status_code == 409


def test_tokens_are_shown_once_listed_with_their_use_and_revoked(isolated_app):
    app = isolated_app()
    ids = _users(app, ("boss", "admin"), ("crm", "integration"))
    admin = _signed_in_as(app, "boss")
    created = admin.post(f"/admin/users/{ids['crm']}/tokens")
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token-secret">([^<]+)<', created.text).group(1)
    headers = {"Authorization": f"Bearer {secret}"}
    assert admin.get("/api/v1/work-orders/X", headers=headers).status_code == 404  # the token works
    page = admin.get(f"/admin/users/{ids['crm']}").text
    assert secret not in page  # never shown again
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.last_used_at == TEST_NOW
        token_id = token.id
    row = re.search(rf'<tr data-token-id="{token_id}">(.*?)</tr>', page, re.S).group(1)
    assert row.count("<time") == 2  # created and last used; not revoked

    assert admin.post(f"/admin/users/{ids['crm']}/tokens/{token_id}/revoke").status_code == 302
    assert admin.get("/api/v1/work-orders/X", headers=headers).status_code == 401
    assert admin.post(f"/admin/users/{ids['boss']}/tokens/{token_id}/revoke").status_code == 404  # not theirs
    assert admin.post(f"/admin/users/{ids['crm']}/tokens/99999999999/revoke").status_code == 404


def test_every_user_changes_their_own_password_and_other_sessions_end(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    here, elsewhere = _signed_in_as(app, "wang"), _signed_in_as(app, "wang")
    assert here.get("/account/password").status_code == 200
    wrong = here.post(
        "/account/password", data={"current": "wrong one", "new": "brand new pw", "confirm": "brand new pw"}
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    differ = here.post("/account/password", data={"current": PASSWORD, "new": "brand new pw", "confirm": "x"})
    assert differ.status_code == 422 and "两次输入的新密码不一致" in differ.text
    changed = here.post(
        "/account/password", data={"current": PASSWORD, "new": "brand new pw", "confirm": "brand new pw"}
    )
    assert changed.status_code == 302
    assert here.get("/").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/").status_code == 302  # the other one does not
    assert (
        app.test_client().post("/login", data={"username": "wang", "password": PASSWORD}).status_code == 200
    )
    _signed_in_as(app, "wang", "brand new pw")
    assert app.test_client().get("/account/password").status_code == 302  # anonymous: sign in first


def test_the_user_page_counts_the_sessions_a_browser_could_still_resume(isolated_app):
    app = isolated_app()
    ids = _users(app, ("boss", "admin"), ("wang", "operator"))
    admin = _signed_in_as(app, "boss")
    _signed_in_as(app, "wang")
    _signed_in_as(app, "wang")
    assert "登录会话：2 个" in admin.get(f"/admin/users/{ids['wang']}").text
    app.config["CLOCK"] = lambda: TEST_NOW + timedelta(minutes=25)
    admin.get("/admin/")  # the admin keeps their own session alive
    app.config["CLOCK"] = lambda: TEST_NOW + timedelta(minutes=35)
    assert "登录会话：0 个" in admin.get(f"/admin/users/{ids['wang']}").text
