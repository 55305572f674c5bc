"""Every response carries the security headers; personal data is never cached; proxies are trusted as told."""

import re
from pathlib import Path

from sqlalchemy import select

from callback.extensions import db
from callback.models import SignInFailure
from tests.conftest import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_api_answers_errors_and_exports_carry_the_headers_and_are_not_cached(
    client, login, api_headers
):
    anonymous = client.get("/login")
    _assert_security_headers(anonymous)
    assert anonymous.headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/tasks", headers=api_headers("supervisor"))
    _assert_security_headers(api)
    assert api.headers["Cache-Control"] == "no-store"
    unauthorised = client.get("/api/v1/tasks")
    assert unauthorised.status_code == 401
    _assert_security_headers(unauthorised)
    login("supervisor")
    for path in ("/", "/reports/exports/orders.csv", "/reports/exports/orders.xlsx", "/nowhere"):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        _assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", path
        response.close()


def test_static_files_carry_the_headers_and_may_be_cached(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    _assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
STYLE_TAG = re.compile(r"<style\b", re.I)
JINJA = re.compile(r"{%.*?%}|{#.*?#}|{{.*?}}", re.S)


def test_no_template_holds_what_the_content_security_policy_refuses():
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = JINJA.sub("", template.read_text(encoding="utf-8"))  # the HTML, without template code
        name = template.relative_to(TEMPLATES)
        if INLINE_HANDLER.search(text):
            problems.append(f"{name}: inline event handler")
        if STYLE_ATTRIBUTE.search(text):
            problems.append(f"{name}: style attribute")
        if STYLE_TAG.search(text):
            problems.append(f"{name}: <style> element")
        for attributes in SCRIPT_TAG.findall(text):
            if "src=" not in attributes and 'type="application/json"' not in attributes:
                problems.append(f"{name}: inline <script>")
    assert problems == []


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(isolated_app):
    app = isolated_app(LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    client = app.test_client()
    for number in range(3):  # an attacker rotating X-Forwarded-For stays one address
        client.post(
            "/login",
            data={"username": f"guess{number}", "password": "x"},
            headers={"X-Forwarded-For": f"203.0.113.{number}"},
        )
    with app.app_context():
        assert set(db.session.scalars(select(SignInFailure.address))) == {"127.0.0.1"}
    locked = client.post(
        "/login",
        data={"username": "other", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert locked.status_code == 429


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_clients(isolated_app):
    app = isolated_app(TRUSTED_PROXIES=1)
    client = app.test_client()
    client.post(
        "/login",
        data={"username": "guess", "password": "x"},
        # The client forged 198.51.100.7; the proxy appended the address it really saw.
        headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.5", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy itself
    )
    with app.app_context():
        assert list(db.session.scalars(select(SignInFailure.address))) == ["203.0.113.5"]
