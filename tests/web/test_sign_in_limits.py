"""Brute force: failed sign-ins lock a name and an address, bad API tokens an address (issue 9)."""

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from callback import config_defaults, signin
from callback.audit import Actor
from callback.extensions import db
from callback.models import AuditEvent, SignInFailure, User
from callback.users import create_api_token, create_user, deactivate_user, reactivate_user
from tests.conftest import PASSWORD, TEST_NOW

WRONG = "not the password"


def _users(app: Flask, *users: tuple[str, str]) -> None:
    with app.app_context():
        for username, role in users:
            create_user(db.session, username, role, PASSWORD, now=TEST_NOW)
        db.session.commit()


def _sign_in(client: FlaskClient, username: str, password: str, address: str = "10.0.0.7", **headers: str):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _at(app: Flask, moment) -> None:
    app.config["CLOCK"] = lambda: moment


def test_five_failures_lock_the_account_even_with_the_right_password_until_the_window_passes(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    client = app.test_client()
    for attempt in range(5):
        _at(app, TEST_NOW + timedelta(minutes=attempt))
        response = _sign_in(client, "wang", WRONG)
        assert response.status_code == 200
        assert "用户名或密码错误" in response.text
    _at(app, TEST_NOW + timedelta(minutes=5))
    locked = _sign_in(client, "wang", PASSWORD)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.text
    assert "10 分钟" in locked.text  # the first failure leaves the 15-minute window at minute 15
    assert locked.headers["Retry-After"] == str(10 * 60)
    english = app.test_client()
    english.post("/language/en")
    refused = _sign_in(english, "wang", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text
    # Another account is not affected.
    _users(app, ("li", "operator"))
    assert _sign_in(app.test_client(), "li", PASSWORD).status_code == 302
    # Once the oldest failure has left the window, the right password works again.
    _at(app, TEST_NOW + timedelta(minutes=15, seconds=1))
    assert _sign_in(client, "wang", PASSWORD).status_code == 302


def test_a_success_clears_the_count_and_unknown_names_lock_the_same_way(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    client = app.test_client()
    for _ in range(4):
        _sign_in(client, "wang", WRONG)
    assert _sign_in(client, "wang", PASSWORD).status_code == 302
    client = app.test_client()
    for _ in range(4):
        _sign_in(client, "wang", WRONG)
    assert _sign_in(client, "wang", PASSWORD).status_code == 302  # four new failures: not yet locked
    # A name nobody has behaves like a real one: locked after five, with the same answer.
    stranger = app.test_client()
    answers = [_sign_in(stranger, "nobody", WRONG).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]


def test_the_per_address_limit_covers_every_name_from_that_address(isolated_app):
    app = isolated_app(LOGIN_MAX_FAILURES_PER_ADDRESS=8)
    _users(app, ("wang", "operator"))
    client = app.test_client()
    for number in range(8):  # eight names, each well under its own limit
        assert _sign_in(client, f"guess{number}", WRONG, address="10.9.9.9").status_code == 200
    assert _sign_in(client, "wang", PASSWORD, address="10.9.9.9").status_code == 429
    assert _sign_in(client, "wang", PASSWORD, address="10.1.1.1").status_code == 302


def test_the_counters_live_in_the_database_so_every_worker_sees_them(isolated_app):
    first = isolated_app()
    # A second app (another gunicorn worker or host) on the same database.
    second = isolated_app(SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"])
    _users(first, ("wang", "operator"))
    for worker in (first, second, first, second, first):
        _sign_in(worker.test_client(), "wang", WRONG)
    assert _sign_in(second.test_client(), "wang", PASSWORD).status_code == 429
    with first.app_context():
        assert db.session.query(SignInFailure).count() == 5


def test_sign_ins_failures_and_lockouts_are_audited_without_the_password(isolated_app):
    app = isolated_app()
    _users(app, ("wang", "operator"))
    client = app.test_client()
    _sign_in(client, "wang", PASSWORD)
    client.post("/logout")
    for _ in range(5):
        _sign_in(client, "wang", "secret-guess-1")
    _sign_in(client, "ghost", "secret-guess-2")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        wang = db.session.scalar(select(User.id).where(User.username == "wang"))
    actions = [event.action for event in events]
    assert actions.count("auth.signed_in") == 1
    assert actions.count("auth.signed_out") == 1
    assert actions.count("auth.sign_in_failed") == 6
    assert actions.count("auth.locked_out") == 1
    failed = [event for event in events if event.action == "auth.sign_in_failed"]
    assert failed[0].entity_id == wang and failed[0].details["reason"] == "wrong_password"
    assert failed[-1].entity_id is None and failed[-1].details == {
        "username": "ghost",
        "reason": "unknown_user",
    }
    for event in events:
        assert "secret-guess" not in repr(event.details)
        assert PASSWORD not in repr(event.details)


def test_an_unknown_name_costs_a_password_check_like_a_known_one(isolated_app):
    # The real method (the configured default, not the test suite's cheap one).
    app = isolated_app(PASSWORD_HASH_METHOD=config_defaults.PASSWORD_HASH_METHOD)
    _users(app, ("wang", "operator"))
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "wang"))
    # The dummy hash is made the way real ones are (same method and cost), and checked for unknown names.
    method = generate_password_hash("x").split("$", 1)[0]
    assert method.startswith("scrypt:")
    assert stored.split("$", 1)[0] == method
    signin._dummy_hash.cache_clear()
    _sign_in(app.test_client(), "nobody", WRONG)
    assert signin._dummy_hash.cache_info().misses == 1
    assert signin._dummy_hash(config_defaults.PASSWORD_HASH_METHOD).split("$", 1)[0] == method


def test_the_configured_hash_method_makes_the_hashes_and_the_dummy_hash(isolated_app):
    app = isolated_app(PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    _users(app, ("wang", "operator"))
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "wang"))
    assert stored.startswith("pbkdf2:sha256:1000$")
    signin._dummy_hash.cache_clear()
    assert _sign_in(app.test_client(), "nobody", WRONG).status_code == 200
    assert signin._dummy_hash.cache_info().misses == 1
    assert signin._dummy_hash("pbkdf2:sha256:1000").startswith("pbkdf2:sha256:1000$")
    assert _sign_in(app.test_client(), "wang", PASSWORD).status_code == 302


def test_bad_api_tokens_lock_the_address_with_the_apis_error_shape(isolated_app):
    app = isolated_app(LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    _users(app, ("crm", "integration"))
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "crm"))
        token = create_api_token(db.session, user, now=TEST_NOW)
        db.session.commit()
    client = app.test_client()
    good = {"Authorization": f"Bearer {token}"}
    bad = {"Authorization": "Bearer cb_guess"}
    attacker = {"REMOTE_ADDR": "10.6.6.6"}
    for _ in range(3):
        response = client.get("/api/v1/tasks", headers=bad, environ_base=attacker)
        assert response.status_code == 401
    locked = client.get("/api/v1/work-orders/X", headers=good, environ_base=attacker)
    assert locked.status_code == 429
    # A bad one too, refused before it is looked at (the good one above was refused by its own lookup).
    assert client.get("/api/v1/tasks", headers=bad, environ_base=attacker).status_code == 429
    assert locked.json["error"]["code"] == "too_many_requests"
    assert "15" in locked.json["error"]["message"] or "分钟" in locked.json["error"]["message"]
    english = client.get(
        "/api/v1/work-orders/X", headers={**good, "Accept-Language": "en"}, environ_base=attacker
    )
    assert "Too many bad tokens" in english.json["error"]["message"]
    # The integration's own address is not affected; after the window the attacker's is free again.
    assert client.get("/api/v1/work-orders/X", headers=good).status_code == 404
    _at(app, TEST_NOW + timedelta(minutes=16))
    assert client.get("/api/v1/work-orders/X", headers=good, environ_base=attacker).status_code == 404
    with app.app_context():
        lockouts = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.token_locked_out")
        ).all()
    assert len(lockouts) == 1


def test_a_deactivated_users_tokens_stop_working_and_last_use_is_noted_once_a_minute(isolated_app):
    app = isolated_app()
    _users(app, ("crm", "integration"), ("boss", "admin"))
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "crm"))
        token = create_api_token(db.session, user, now=TEST_NOW)
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def last_used():
        with app.app_context():
            return db.session.scalar(select(User).where(User.username == "crm")).tokens[0].last_used_at

    assert last_used() is None
    assert client.get("/api/v1/work-orders/X", headers=headers).status_code == 404
    assert last_used() == TEST_NOW
    _at(app, TEST_NOW + timedelta(seconds=30))
    client.get("/api/v1/work-orders/X", headers=headers)
    assert last_used() == TEST_NOW  # not rewritten within the minute
    _at(app, TEST_NOW + timedelta(minutes=2))
    client.get("/api/v1/work-orders/X", headers=headers)
    assert last_used() == TEST_NOW + timedelta(minutes=2)

    with app.app_context():
        crm = db.session.scalar(select(User).where(User.username == "crm"))
        boss = Actor(user_id=db.session.scalar(select(User.id).where(User.username == "boss")))
        deactivate_user(db.session, crm, now=TEST_NOW, actor=boss)
        db.session.commit()
    refused = client.get("/api/v1/work-orders/X", headers=headers)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"
    with app.app_context():
        crm = db.session.scalar(select(User).where(User.username == "crm"))
        reactivate_user(db.session, crm, now=TEST_NOW, actor=boss)
        db.session.commit()
    assert client.get("/api/v1/work-orders/X", headers=headers).status_code == 404
