"""Fixtures: an app on a fresh database per test (SQLite, or PostgreSQL when told), client, runner, users."""

import contextlib
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import make_url, text
from werkzeug.test import TestResponse

from callback import create_app
from callback.extensions import db
from callback.models import User
from callback.observability.health import script_heads
from callback.settings import Settings, current_settings
from callback.users import create_api_token, create_user

# Set CALLBACK_TEST_DATABASE_URL=postgresql+psycopg://… to run the whole suite on PostgreSQL.
# Under pytest-xdist each worker (gw0, gw1, …) gets its own database, <name>_gw0 and so on, made on first
# use through the server's `postgres` maintenance database (see _create_worker_database).
_BASE_POSTGRES_URL = os.environ.get("CALLBACK_TEST_DATABASE_URL")
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _worker_url(url: str | None, worker: str | None) -> str | None:
    if url is None or worker is None:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


POSTGRES_URL = _worker_url(_BASE_POSTGRES_URL, XDIST_WORKER)
PASSWORD = "correct horse battery"
# Requests and commands read this fixed clock: Friday 2026-11-27 10:00 in Beijing.
TEST_NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
_postgres_schema_ready = False
CHEAP_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"


def pytest_configure(config: pytest.Config) -> None:
    if POSTGRES_URL is not None and POSTGRES_URL != _BASE_POSTGRES_URL:
        _create_worker_database(POSTGRES_URL)


def _create_worker_database(url: str) -> None:
    """Create this worker's database if it is missing (several runs may race: a duplicate is fine)."""
    import psycopg
    from psycopg import errors, sql

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if exists is None:
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parsed.database)))


def make_app(tmp_path, monkeypatch, **config) -> Flask:
    """Create an app whose instance folder and database belong to this test alone."""
    monkeypatch.setenv("CALLBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    test_config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": POSTGRES_URL or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "WTF_CSRF_ENABLED": False,
        "CALLING_HOURS": "00:00-24:00",
        "CLOCK": lambda: TEST_NOW,
        # Thousands of test users sign in: one round of PBKDF2 instead of scrypt (tests that are about the
        # real hashing pass PASSWORD_HASH_METHOD=REAL_PASSWORD_HASH_METHOD).
        "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH_METHOD,
    }
    test_config.update(config)
    return create_app(test_config)


def fresh_schema(app: Flask) -> None:
    global _postgres_schema_ready
    if POSTGRES_URL is None:
        db.create_all()
        stamp_head()
        return
    if not _postgres_schema_ready:
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        _postgres_schema_ready = True
    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    stamp_head()  # a test may have moved it (tests/observability/test_health.py)


def stamp_head() -> None:
    """Record create_all's schema as the migrations' head (tests/test_migrations.py proves they match)."""
    heads = script_heads(current_app.extensions["migrate"].directory)
    with db.engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)")
        )
        connection.execute(text("DELETE FROM alembic_version"))
        for head in heads:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})


@pytest.fixture
def app(tmp_path, monkeypatch) -> Iterator[Flask]:
    app = make_app(tmp_path, monkeypatch)
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def csrf_app(tmp_path, monkeypatch) -> Iterator[Flask]:
    """An app with CSRF protection on, as in production, on a fresh database."""
    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def settings(app: Flask) -> Settings:
    return current_settings()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    def make(username: str = "alice", role: str = "operator", password: str = PASSWORD) -> User:
        user = create_user(db.session, username, role, password, now=datetime.now(UTC))
        db.session.commit()
        return user

    return make


@pytest.fixture
def api_headers(app: Flask, make_user: Callable[..., User]) -> Callable[[str], dict[str, str]]:
    """Return a function giving the Authorization header of a new user of a role."""
    made: dict[str, dict[str, str]] = {}

    def headers(role: str = "integration") -> dict[str, str]:
        if role not in made:
            user = make_user(f"api-{role}", role)
            token = create_api_token(db.session, user, now=datetime.now(UTC))
            db.session.commit()
            made[role] = {"Authorization": f"Bearer {token}"}
        return made[role]

    return headers


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., User]) -> Callable[..., User]:
    """Sign a new user of a role in through the login form."""

    def sign_in(role: str = "operator", username: str | None = None) -> User:
        user = make_user(username or f"web-{role}", role)
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return user

    return sign_in


@pytest.fixture
def twilio_post(client: FlaskClient) -> Callable[..., TestResponse]:
    """Return a function that POSTs a webhook signed as Twilio signs it (PUBLIC_BASE_URL + path + query)."""
    from callback.telephony.signing import SIGNATURE_HEADER, public_url, signature

    def post(path: str, params: dict[str, str] | None = None, *, signed: bool = True) -> TestResponse:
        params = params or {}
        headers = {}
        if signed:
            config = client.application.config
            headers[SIGNATURE_HEADER] = signature(config, public_url(config, path), params)
        return client.post(path, data=params, headers=headers)

    return post


@pytest.fixture
def isolated_app(tmp_path, monkeypatch) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps on a fresh database that hold no app context around the test.

    Each request then gets its own app context and `g`, as in production (with the `app` fixture every
    request shares the test's `g`, so Flask-Login's cached user and Flask-WTF's token leak between clients).
    Open `with app.app_context():` to reach the database.
    """
    made: list[Flask] = []

    def build(**config: Any) -> Flask:
        built = make_app(tmp_path / f"app{len(made)}", monkeypatch, **config)
        with built.app_context():
            fresh_schema(built)
        made.append(built)
        return built

    yield build
    for built in made:
        with built.app_context():
            db.session.remove()
            db.engine.dispose()
