"""Recordings tests run an app configured for Twilio against a fake Twilio REST API on 127.0.0.1."""

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from callback.audit import Actor
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from callback.models import CallAttempt, User
from callback.settings import current_settings
from callback.worklist import claim_next, record_attempt
from tests.conftest import PASSWORD, TEST_NOW, fresh_schema, make_app
from tests.factories import order_payload
from tests.recordings.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PUBLIC_BASE = "https://callback.example.com"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path, monkeypatch, fake_twilio: FakeTwilio) -> Iterator[Flask]:
    """The app with TELEPHONY=twilio, its API base on the fake server, recordings in the test's folder."""
    app = make_app(
        tmp_path,
        monkeypatch,
        TELEPHONY="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM="+861012345678",
        TWILIO_API_BASE=fake_twilio.url,
        PUBLIC_BASE_URL=PUBLIC_BASE,
        RECORDINGS_PATH=str(tmp_path / "recordings"),
        DELETE_PROVIDER_RECORDINGS=True,
        RECORDING_MAX_MB=1,
    )
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


class Visitor:
    """A browser of one user: each request in an app context of its own, as in production.

    (The test's own app context would otherwise carry one user's Flask-Login `g` into another's request.)
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()

    def open(self, method: str, url: str, **kwargs):
        with self.app.app_context():
            response = self.client.open(url, method=method, **kwargs)
            response.get_data()  # read a streamed file inside the request's context
            response.close()
            return response

    def get(self, url: str, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.open("POST", url, **kwargs)


@pytest.fixture
def signed_in(app: Flask, make_user: Callable[..., User]) -> Callable[..., tuple[Visitor, User]]:
    """Return a function giving a browser of its own, signed in as a new user of a role."""

    def sign_in(role: str, username: str | None = None) -> tuple[Visitor, User]:
        user = make_user(username or f"rec-{role}", role)
        visitor = Visitor(app)
        response = visitor.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302
        return visitor, user

    return sign_in


def operator_call(user: User, order_no: str = "OP-1", now: datetime = TEST_NOW) -> CallAttempt:
    """Store an accepted order and record its intake callback as `user` made it (a completed interview)."""
    settings = current_settings()
    item = validate_order(order_payload(order_no), settings.tz, now)
    upsert_orders(db.session, [item], now=now, settings=settings, actor=Actor(source="test"))
    task = claim_next(db.session, user.id, now=now, settings=settings)
    assert task is not None
    outcome = record_attempt(
        db.session,
        task.id,
        user.id,
        disposition="completed",
        answers={"progress": "none", "satisfaction": 1},
        callback_at=None,
        note=None,
        now=now,
        settings=settings,
    )
    db.session.commit()
    return outcome.attempt
