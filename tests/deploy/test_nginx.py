"""deploy/nginx/callback.conf in front of gunicorn (deploy/gunicorn.conf.py): Debian's nginx, real TLS.

A browser on the intranet signs in; a Twilio webhook from the internet gets through and is acted on; the
internet sees nothing else; static files come from nginx with long cache lifetimes.
"""

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import upgrade

from callback import PROJECT_ROOT, create_app
from callback.extensions import db
from callback.settings import current_settings
from callback.telephony.signing import SIGNATURE_HEADER, signature
from callback.users import create_user
from tests.conftest import PASSWORD, POSTGRES_URL
from tests.deploy.stack import (
    DEPLOY,
    NGINX,
    Browser,
    csrf_token,
    free_port,
    log_lines,
    render_nginx_site,
    self_signed_certificate,
    start_gunicorn,
    start_nginx,
    stop,
    wait_for_port,
)
from tests.telephony.helpers import start_automated_call

# 127.0.0.2 is this machine too, but not in the sample's intranet ranges: it plays a host on the internet.
INTERNET = "127.0.0.2"
HASHED_CSS = "app.0123456789ab.css"

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is not None, reason="runs in the SQLite pass (the stack under test has its own SQLite file)"
)


@dataclass
class Stack:
    https_port: int
    http_port: int
    cafile: Path
    config: dict
    attempt_id: int
    database: Path
    gunicorn_log: Path

    def browser(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.https_port, self.cafile, source)


def _needs(program: str, install: str) -> None:
    if shutil.which(program) is None and not os.access(program, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is missing; CI needs it ({install})")
        pytest.skip(f"{program} is missing ({install})")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    _needs(NGINX, "apt-get install nginx")
    _needs("openssl", "apt-get install openssl")
    folder = tmp_path_factory.mktemp("stack")
    https_port, http_port, gunicorn_port = free_port(), free_port(), free_port()
    environment = {
        "CALLBACK_INSTANCE_PATH": str(folder / "instance"),
        "CALLBACK_SECRET_KEY": "nginx-stack-secret",
        "CALLBACK_PUBLIC_BASE_URL": f"https://127.0.0.1:{https_port}",
        "CALLBACK_TRUSTED_PROXIES": "1",
        "CALLBACK_CALLING_HOURS": "00:00-24:00",
    }
    # A migrated database with a user and an automated call in progress, as `flask db upgrade` leaves it.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.delenv("CALLBACK_SQLALCHEMY_DATABASE_URI", raising=False)
        app = create_app()
        with app.app_context():
            upgrade()
            create_user(db.session, "op-nginx", "operator", PASSWORD, now=datetime.now(UTC))
            db.session.commit()
            attempt_id = start_automated_call(current_settings(), "NGINX-0001").id
            database = Path(str(db.engine.url.database))
            db.session.remove()
            db.engine.dispose()
    cert, key = self_signed_certificate(folder)
    # The build of static/ as collect-static lays it out: each file under its name and a content-hashed one.
    static = folder / "static-build"
    shutil.copytree(PROJECT_ROOT / "static", static)
    shutil.copy(static / "app.css", static / HASHED_CSS)
    gunicorn, gunicorn_log = start_gunicorn(folder, gunicorn_port, environment)
    nginx = None
    try:
        site = render_nginx_site(
            (DEPLOY / "nginx" / "callback.conf").read_text(),
            https_port=https_port,
            http_port=http_port,
            upstream_port=gunicorn_port,
            cert=cert,
            key=key,
            static=static,
        )
        nginx, nginx_log = start_nginx(folder, site)
        wait_for_port(https_port, nginx, nginx_log)
        yield Stack(https_port, http_port, cert, app.config, attempt_id, database, gunicorn_log)
    finally:
        if nginx is not None:
            stop(nginx)
        stop(gunicorn)


def test_an_operator_signs_in_through_nginx_with_csrf(stack):
    browser = stack.browser()
    login = browser.request("GET", "/login")
    assert login.status == 200
    form = {"username": "op-nginx", "password": PASSWORD, "csrf_token": csrf_token(login.body)}
    # The app sees https and the browser's host through the proxy headers, so CSRF's same-origin check
    # compares the Referer with the real site.
    signed_in = browser.request("POST", "/login", form, {"Referer": f"{browser.origin}/login"})
    assert signed_in.status == 302, signed_in.body
    home = browser.request("GET", "/")
    assert home.status == 200
    assert "op-nginx" in home.body

    stranger = stack.browser()
    forged = stranger.request("POST", "/login", {"username": "op-nginx", "password": PASSWORD})
    assert forged.status == 302  # no CSRF token: sent back to sign in, not signed in
    assert "op-nginx" not in stranger.request("GET", "/").body


def test_a_signed_twilio_status_callback_from_the_internet_reaches_the_app(stack):
    path = f"/twilio/status/{stack.attempt_id}"
    params = {"CallSid": "CA" + "7" * 32, "CallStatus": "busy", "SequenceNumber": "1"}
    # Signed for the public URL as Twilio sees it: through nginx, https, the public host and port.
    signed = signature(stack.config, f"https://127.0.0.1:{stack.https_port}{path}", params)
    internet = stack.browser(INTERNET)

    forged = internet.request("POST", path, params, {SIGNATURE_HEADER: "forged"})
    assert forged.status == 403
    assert "X-Twilio-Signature" in forged.body  # the app's refusal, not nginx's

    accepted = internet.request("POST", path, params, {SIGNATURE_HEADER: signed})
    assert accepted.status == 204, accepted.body
    with sqlite3.connect(stack.database) as connection:
        (disposition,) = connection.execute(
            "SELECT disposition FROM call_attempts WHERE id = ?", (stack.attempt_id,)
        ).fetchone()
    assert disposition == "busy"
    # gunicorn's access line names the real client (X-Forwarded-For through ProxyFix), not nginx.
    lines = log_lines(stack.gunicorn_log, '" 204 ')
    assert any(f" {INTERNET} " in line and '" 204 ' in line for line in lines), lines


def test_the_internet_reaches_only_the_provider_callbacks(stack):
    internet = stack.browser(INTERNET)
    for path in (
        "/login",
        "/",
        "/api/v1/tasks",
        "/static/app.css",
        f"/twilio/attempts/{stack.attempt_id}/transcript",
    ):
        refused = internet.request("GET", path)
        assert refused.status == 403, path
        assert "nginx" in refused.body  # refused at the door; the app never saw it
    assert internet.request("POST", "/aliyun/").status != 403  # the SmartCall callback gets through


def test_static_files_come_from_nginx_with_long_cache_lifetimes(stack):
    browser = stack.browser()
    hashed = browser.request("GET", f"/static/{HASHED_CSS}")
    assert hashed.status == 200
    assert hashed.body == (PROJECT_ROOT / "static" / "app.css").read_text()
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = browser.request("GET", "/static/app.css")
    assert plain.headers["cache-control"] == "public, max-age=3600"
    assert browser.request("GET", "/static/missing.css").status == 404
    assert "/static/" not in stack.gunicorn_log.read_text()  # gunicorn never saw them


def test_plain_http_is_sent_to_https(stack):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=10)
    connection.request("GET", "/login")
    answer = connection.getresponse()
    assert answer.status == 301
    assert answer.getheader("Location", "").startswith("https://127.0.0.1")
    connection.close()


def test_gunicorn_logs_each_request_with_time_client_request_status_and_duration(stack):
    before = len(log_lines(stack.gunicorn_log, "GET /login ", seconds=0))
    stack.browser().request("GET", "/login?next=/cases/")
    line = log_lines(stack.gunicorn_log, "GET /login ", more_than=before)[-1]
    iso_time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"
    assert re.match(rf'^{iso_time} 127\.0\.0\.1 "GET /login HTTP/1\.1" 200 \d+ \d+ms ', line), line
    assert "next=" not in line  # query strings (searches by customer name) are not logged

    stack.browser().request("DELETE", "/api/v1/do-not-call/+8613800138000")
    (line,) = log_lines(stack.gunicorn_log, "DELETE /api/v1/do-not-call/")
    assert "/api/v1/do-not-call/*** " in line  # a phone number in a path is never logged
    assert "13800138000" not in stack.gunicorn_log.read_text()
