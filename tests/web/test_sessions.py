"""Sessions end when they should: sign-out, password and role changes, deactivation, idle, age (issue 9).

Each browser is its own test client on an app that holds no context between requests, as in production.
"""

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from callback.audit import Actor
from callback.extensions import db
from callback.models import AuditEvent, User
from callback.users import create_user, deactivate_user, set_password, set_role
from tests.conftest import PASSWORD, TEST_NOW


def _users(app: Flask, *users: tuple[str, str]) -> None:
    with app.app_context():
        for username, role in users:
            create_user(db.session, username, role, PASSWORD, now=TEST_NOW)
        db.session.commit()


def _sign_in(client: FlaskClient, username: str, password: str = PASSWORD, **extra: str):
    return client.post("/login", data={"username": username, "password": password, **extra})


def _signed_in(client: FlaskClient) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _at(app: Flask, moment) -> None:
    app.config["CLOCK"] = lambda: moment


def _browser_restart(app: Flask, client: FlaskClient | str) -> FlaskClient:
    """A new browser session: the session cookie is gone, the remember-me cookie (or its value) stays."""
    value = client if isinstance(client, str) else client.get_cookie("remember_token").value
    restarted = app.test_client()
    restarted.set_cookie("remember_token", value)
    return restarted


def test_signing_out_ends_every_session_of_the_user_and_its_remember_me_cookie(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"), ("li", "operator"))
    laptop, desk, colleague = app.test_client(), app.test_client(), app.test_client()
    assert _sign_in(laptop, "wang", remember="y").status_code == 302
    remembered = laptop.get_cookie("remember_token").value
    assert _sign_in(desk, "wang").status_code == 302
    assert _sign_in(colleague, "li").status_code == 302
    assert _signed_in(laptop) and _signed_in(desk)

    response = desk.post("/logout")
    assert response.status_code == 302

    assert not _signed_in(desk)
    assert not _signed_in(laptop)
    assert not _signed_in(_browser_restart(app, remembered))
    assert _signed_in(colleague)  # another user's session is untouched
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("auth.%"))).all()
    assert actions.count("auth.signed_in") == 3
    assert actions.count("auth.signed_out") == 1


def test_a_stale_remember_me_cookie_is_deleted(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    laptop = app.test_client()
    _sign_in(laptop, "wang", remember="y")
    restarted = _browser_restart(app, laptop)
    laptop.post("/logout")
    response = restarted.get("/")
    assert response.status_code == 302
    assert any(header.startswith("remember_token=;") for header in response.headers.getlist("Set-Cookie")), (
        response.headers
    )


def test_remember_me_survives_a_browser_restart_within_the_idle_timeout_only(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    client = app.test_client()
    _sign_in(client, "wang", remember="y")
    _at(app, TEST_NOW + timedelta(minutes=10))
    assert _signed_in(_browser_restart(app, client))
    # Idle longer than SESSION_IDLE_MINUTES (30) since that request: the cookie brings nothing back.
    _at(app, TEST_NOW + timedelta(minutes=10 + 31))
    assert not _signed_in(_browser_restart(app, client))
    assert not _signed_in(client)


def test_a_session_ends_after_the_idle_timeout_and_lives_on_while_used(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    client = app.test_client()
    _sign_in(client, "wang")
    for minutes in (20, 40, 60, 80):  # a request every 20 minutes keeps it alive
        _at(app, TEST_NOW + timedelta(minutes=minutes))
        assert _signed_in(client), minutes
    _at(app, TEST_NOW + timedelta(minutes=80 + 30))
    response = client.get("/operator/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_session_ends_after_its_absolute_lifetime_however_busy(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    client = app.test_client()
    _sign_in(client, "wang", remember="y")
    remembered = client.get_cookie("remember_token").value
    moment = TEST_NOW
    while moment + timedelta(minutes=20) < TEST_NOW + timedelta(hours=12):
        moment += timedelta(minutes=20)
        _at(app, moment)
        assert _signed_in(client), moment
    _at(app, TEST_NOW + timedelta(hours=12))
    assert not _signed_in(client)
    assert not _signed_in(_browser_restart(app, remembered))


def test_the_timeouts_follow_the_configuration(isolated_app):
    app = isolated_app(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    _users(app, ("wang", "operator"))
    client = app.test_client()
    _sign_in(client, "wang")
    _at(app, TEST_NOW + timedelta(minutes=4))
    assert _signed_in(client)
    _at(app, TEST_NOW + timedelta(minutes=10))
    assert not _signed_in(client)
    _sign_in(client, "wang")  # at minute 10
    for minutes in range(14, 70, 4):
        _at(app, TEST_NOW + timedelta(minutes=minutes))
        assert _signed_in(client), minutes
    _at(app, TEST_NOW + timedelta(minutes=70))
    assert not _signed_in(client)


def test_deactivation_a_role_change_and_a_password_reset_end_the_users_sessions(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"), ("li", "operator"), ("zhao", "operator"), ("boss", "admin"))
    wang, li, zhao = app.test_client(), app.test_client(), app.test_client()
    remembered = {}
    for client, name in ((wang, "wang"), (li, "li"), (zhao, "zhao")):
        _sign_in(client, name, remember="y")
        remembered[name] = client.get_cookie("remember_token").value
        assert _signed_in(client)
    with app.app_context():
        boss = Actor(user_id=db.session.scalar(select(User.id).where(User.username == "boss")))
        by_name = {user.username: user for user in db.session.scalars(select(User))}
        deactivate_user(db.session, by_name["wang"], now=TEST_NOW, actor=boss)
        set_role(db.session, by_name["li"], "supervisor", now=TEST_NOW, actor=boss)
        set_password(db.session, by_name["zhao"], "a brand new one", now=TEST_NOW, actor=boss)
        db.session.commit()

    for client, name in ((wang, "wang"), (li, "li"), (zhao, "zhao")):
        assert not _signed_in(client)
        assert not _signed_in(_browser_restart(app, remembered[name]))
    assert _sign_in(wang, "wang").status_code == 200  # deactivated: refused like a wrong password
    assert _sign_in(li, "li").status_code == 302
    assert li.get("/cases/").status_code == 200  # signed in again, now as a supervisor
    assert _sign_in(zhao, "zhao").status_code == 200
    assert _sign_in(zhao, "zhao", "a brand new one").status_code == 302


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def test_the_csrf_token_changes_at_sign_in_and_the_old_one_is_refused(isolated_app):
    app = isolated_app(WTF_CSRF_ENABLED=True)
    _users(app, ("wang", "operator"))
    client = app.test_client()
    before = CSRF_FIELD.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    after = CSRF_FIELD.search(client.get("/account/password").text).group(1)
    assert after != before
    refused = client.post("/logout", data={"csrf_token": before})
    assert refused.status_code == 302  # sent back with a message (an expired form is not a 400 page)
    assert _signed_in(client)
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302
    assert not _signed_in(client)


def test_cookies_are_httponly_and_samesite_lax_and_secure_over_https(isolated_app):
    for scheme in ("http", "https"):
        app = isolated_app(PREFERRED_URL_SCHEME=scheme)
        _users(app, ("wang", "operator"))
        response = app.test_client().post(
            "/login",
            data={"username": "wang", "password": PASSWORD, "remember": "y"},
            base_url=f"{scheme}://localhost",
        )
        assert response.status_code == 302
        cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
        assert set(cookies) >= {"session", "remember_token"}
        for header in cookies.values():
            assert "HttpOnly" in header
            assert "SameSite=Lax" in header
            assert ("Secure" in header) == (scheme == "https"), header
