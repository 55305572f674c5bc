"""GET|POST /api/v1/do-not-call and DELETE /api/v1/do-not-call/<e164> (contract 6, issue 13)."""

import pytest
from sqlalchemy import select

from callback.extensions import db
from callback.models import AuditEvent
from tests.factories import order_payload

URL = "/api/v1/do-not-call"


def post(client, headers, body):
    return client.post(URL, json=body, headers=headers)


@pytest.mark.parametrize("role", ["operator", "integration", "discipline"])
def test_only_admins_and_supervisors_keep_the_list(client, api_headers, role):
    headers = api_headers(role)
    assert client.get(URL, headers=headers).status_code == 403
    assert post(client, headers, {"number": "13900139000", "reason": "legal"}).status_code == 403
    assert client.delete(f"{URL}/+8613900139000", headers=headers).status_code == 403
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_add_list_search_and_remove(client, api_headers, role):
    headers = api_headers(role)
    added = post(
        client,
        headers,
        {
            "number": "139 0013 9000",
            "reason": "complaint",
            "note": "投诉后要求勿扰",
            "expires_at": "2027-06-01",
        },
    )
    assert added.status_code == 201, added.json
    assert added.json["number"] == "+8613900139000"
    assert (added.json["reason"], added.json["source"], added.json["active"]) == ("complaint", "api", True)
    assert added.json["added_by"] == f"api-{role}"
    assert added.json["expires_at"].startswith("2027-06-01T00:00:00+08:00")
    post(client, headers, {"number": "0931-8123456", "reason": "legal"})

    listing = client.get(URL, headers=headers).json
    assert listing["total"] == 2 and listing["page"] == 1 and listing["per_page"] == 50
    found = client.get(URL, query_string={"q": "139-0013"}, headers=headers).json
    assert [item["number"] for item in found["items"]] == ["+8613900139000"]
    assert client.get(URL, query_string={"q": "勿扰"}, headers=headers).json["total"] == 1
    assert client.get(URL, query_string={"reason": "legal"}, headers=headers).json["total"] == 1
    assert len(client.get(URL, query_string={"per_page": 1}, headers=headers).json["items"]) == 1

    removed = client.delete(f"{URL}/+8613900139000", headers=headers)
    assert removed.status_code == 200
    assert removed.json["active"] is False and removed.json["removed_by"] == f"api-{role}"
    assert client.get(URL, headers=headers).json["total"] == 1
    history = client.get(URL, query_string={"state": "removed"}, headers=headers).json
    assert [item["number"] for item in history["items"]] == ["+8613900139000"]
    assert client.delete(f"{URL}/13900139000", headers=headers).status_code == 404

    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "do_not_call_entry").order_by(AuditEvent.id)
    ).all()
    assert actions == ["do_not_call.added", "do_not_call.added", "do_not_call.removed"]
    channels = set(
        db.session.scalars(select(AuditEvent.channel).where(AuditEvent.action.like("do_not_call%")))
    )
    assert channels == {"api"}


def test_listing_twice_is_a_conflict(client, api_headers):
    headers = api_headers("supervisor")
    assert post(client, headers, {"number": "13900139000", "reason": "legal"}).status_code == 201
    again = post(client, headers, {"number": "+86 139 0013 9000", "reason": "complaint"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_listed"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"number": "12345", "reason": "legal"}, 422, "number"),
        ({"reason": "legal"}, 422, "number"),
        ({"number": 13900139000, "reason": "nope"}, 422, "reason"),
        ({"number": "13900139000", "reason": "legal", "expires_at": "2020-01-01"}, 422, "expires_at"),
        ({"number": "13900139000", "reason": "legal", "expires_at": {"a": 1}}, 422, "expires_at"),
        ({"number": "13900139000", "reason": "legal", "note": "x" * 501}, 422, "note"),
        ({"number": "13900139000", "reason": "legal", "note": "a\x00b"}, 422, "note"),
        ({"number": {"n": 1}, "reason": ["legal"]}, 422, "reason"),
        ([1, 2], 400, None),
        ("text", 400, None),
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(client, api_headers, body, status, field):
    headers = api_headers("supervisor")
    response = post(client, headers, body)
    assert response.status_code == status, response.json
    assert set(response.json["error"]) >= {"code", "message"}
    if field:
        assert field in {detail["field"] for detail in response.json["error"]["details"]}
    assert client.get(URL, query_string={"state": "all"}, headers=headers).json["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", URL, {"data": b"{not json", "content_type": "application/json"}, 400),
        ("post", URL, {"data": b"", "content_type": "application/json"}, 400),
        ("get", URL + "?page=0", {}, 400),
        ("get", URL + "?page=99999999999999999999", {}, 400),
        ("get", URL + "?per_page=501", {}, 400),
        ("get", URL + "?state=gone", {}, 400),
        ("get", URL + "?reason=x", {}, 400),
        ("get", URL + "?q=" + "1" * 101, {}, 400),
        ("delete", URL + "/not-a-number", {}, 422),
        ("delete", URL + "/%00", {}, 422),
    ],
)
def test_junk_requests_never_reach_a_5xx(client, api_headers, method, path, kwargs, status):
    response = getattr(client, method)(path, headers=api_headers("admin"), **kwargs)
    assert response.status_code == status
    assert "error" in response.json


def test_a_number_listed_over_the_api_is_not_claimed_over_the_api(client, api_headers):
    client.put("/api/v1/work-orders/GD-1", json=order_payload("GD-1"), headers=api_headers())
    assert (
        post(client, api_headers("supervisor"), {"number": "13800138000", "reason": "legal"}).status_code
        == 201
    )
    assert client.post("/api/v1/tasks/claim", headers=api_headers("operator")).status_code == 204
    task = client.get("/api/v1/tasks", headers=api_headers("supervisor")).json["items"][0]
    assert (task["state"], task["state_label"]) == ("do_not_call", "免打扰")
    stopped = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "do_not_call.stopped"))
    assert stopped.entity_id == task["id"] and stopped.channel == "api"


def test_an_attempt_recorded_as_do_not_call_over_the_api_lists_the_number(client, api_headers):
    client.put("/api/v1/work-orders/GD-1", json=order_payload("GD-1"), headers=api_headers())
    operator = api_headers("operator")
    task = client.post("/api/v1/tasks/claim", headers=operator).json
    response = client.post(
        f"/api/v1/tasks/{task['id']}/attempts", json={"disposition": "do_not_call"}, headers=operator
    )
    assert response.status_code == 201, response.json
    assert response.json["task"]["state"] == "do_not_call"
    listed = client.get(URL, headers=api_headers("supervisor")).json["items"]
    assert [(item["number"], item["reason"], item["source"]) for item in listed] == [
        ("+8613800138000", "customer_asked", "api")
    ]
