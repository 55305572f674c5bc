"""No request to any route, however malformed, gets a 5xx: every rule of the app, junk in every slot."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from callback.telephony.aliyun_dialogue import callback_token
from tests.factories import order_payload

JUNK_BODIES = [
    {"data": b"\xff\xfe{", "content_type": "application/json"},
    {"json": [1, "x", None]},
    {"json": {"to": ["x"], "note": {"a": 1}, "disposition": 5, "answers": "x", "amount_yuan": "1e999"}},
    {"data": {"order_no": "'; drop table", "ledger": "x" * 500, "note": "\x00", "assignee_id": "abc"}},
]
JUNK_QUERY = "?page=-1&per_page=abc&from=2026-13-45&to=x&state=%00&overdue=maybe&kind=x&q=%25%00&sort=x"


def _urls(app: Flask, case_id: int, task_id: int, attempt_id: int) -> list[tuple[str, str]]:
    values = {
        "order_no": "GD-X",
        "case_id": case_id,
        "task_id": task_id,
        "attempt_id": attempt_id,
        "id": 1,
        "ledger": "connect_first",
        "dataset": "orders",
        "fmt": "csv",
        "code": "en",
        "filename": "x",
        "recording_id": 1,
        "user_id": 1,
        "token_id": 1,
        "review_id": 1,
        "followup_id": 1,
        "entry_id": 1,
        "number": "+8613800138000",
        "token": callback_token(app.config),  # the Alibaba Cloud callbacks': junk gets past the token
        "filter_id": 1,
        "notification_id": 1,
        "message_id": 1,
        "attachment_id": 1,
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in (
            "static",
            "auth.logout",
        ):  # signing out would leave the rest to an anonymous visitor
            continue
        # A new route with an argument not named here fails loudly: add a value for it above.
        with app.test_request_context():
            path = app.url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
        urls.extend((method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return urls


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin", "discipline"])
def test_every_route_answers_junk_without_a_server_error(app, client: FlaskClient, login, api_headers, role):
    client.put("/api/v1/work-orders/GD-X", json=order_payload("GD-X"), headers=api_headers("admin"))
    case = client.post(
        "/api/v1/cases",
        headers=api_headers("admin"),
        json={"order_no": "GD-X", "category": "other", "description": "d"},
    ).json
    login(role)
    headers = api_headers(role)
    client.post("/operator/next")  # hold a claim, so the call screen's forms get past the holder check
    failures = []
    urls = _urls(app, case["id"], 1, 1)
    assert len(urls) >= 50
    for method, path in urls:
        for body in JUNK_BODIES:
            response = client.open(path + JUNK_QUERY, method=method, headers=headers, **body)
            response.close()  # exports stream files: let them go
            if response.status_code >= 500:
                failures.append((method, path, response.status_code, JUNK_BODIES.index(body)))
    assert failures == []
    assert client.get("/").status_code == 200, "the junk must have been sent as a signed-in user"
