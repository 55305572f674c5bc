"""PUT/POST/GET /api/v1/work-orders as the marketing system uses them (contract 4.1)."""

import json

import pytest
from sqlalchemy import event, func, select

from callback.audit import Actor
from callback.extensions import db
from callback.intake.ledgers import set_ledger
from callback.models import AuditEvent, CallbackTask, WorkOrder
from tests.conftest import TEST_NOW
from tests.factories import order_payload


def put(client, headers, payload, order_no=None):
    return client.put(f"/api/v1/work-orders/{order_no or payload['order_no']}", json=payload, headers=headers)


def only_result(response):
    assert response.status_code == 200, response.text
    (result,) = response.json["results"]
    return result


def test_put_creates_order_with_intake_task_and_shows_it_in_local_time(client, api_headers):
    result = only_result(put(client, api_headers(), order_payload()))
    assert result["result"] == "created"
    assert [task["kind"] for task in result["tasks_created"]] == ["intake"]

    order = client.get("/api/v1/work-orders/GD-2026-0001", headers=api_headers()).json
    assert order["customer_phone"] == "+8613800138000"
    assert order["accepted_at"] == "2026-11-23T09:30:00+08:00"
    assert order["customer_name"] == "宏达五金店"
    assert order["timeline"] == [{"stage": "accepted", "at": "2026-11-23T09:30:00+08:00"}]
    assert [task["kind"] for task in order["tasks"]] == ["intake"]


def test_sending_the_same_body_twice_changes_nothing(client, api_headers):
    put(client, api_headers(), order_payload())
    again = only_result(put(client, api_headers(), order_payload()))
    assert again == {"order_no": "GD-2026-0001", "result": "unchanged", "errors": [], "tasks_created": []}
    assert db.session.scalar(select(func.count()).select_from(CallbackTask)) == 1


def test_update_to_connected_creates_completion_task_and_audits_the_change(client, api_headers):
    put(client, api_headers(), order_payload(updated_at="2026-11-23T10:00:00"))
    connected = order_payload(
        status="connected",
        surveyed_at="2026-11-24T10:00:00",
        connected_at="2026-11-25T15:00:00",
        updated_at="2026-11-25T15:05:00",
    )
    result = only_result(put(client, api_headers(), connected))
    assert result["result"] == "updated"
    assert [task["kind"] for task in result["tasks_created"]] == ["completion"]
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.updated")).one()
    assert audit.details["changes"]["status"] == ["accepted", "connected"]


def test_older_update_is_stale_and_changes_nothing(client, api_headers):
    put(
        client,
        api_headers(),
        order_payload(status="surveyed", surveyed_at="2026-11-24T10:00:00", updated_at="2026-11-24T10:00:00"),
    )
    older = only_result(put(client, api_headers(), order_payload(updated_at="2026-11-23T10:00:00")))
    assert older["result"] == "stale"
    assert db.session.scalar(select(WorkOrder.status)) == "surveyed"


def test_cancelling_an_order_cancels_its_open_tasks(client, api_headers):
    put(client, api_headers(), order_payload(updated_at="2026-11-23T10:00:00"))
    cancelled = order_payload(
        status="cancelled", cancelled_at="2026-11-24T08:00:00", updated_at="2026-11-24T08:00:00"
    )
    assert only_result(put(client, api_headers(), cancelled))["result"] == "updated"
    assert db.session.scalars(select(CallbackTask.state)).all() == ["cancelled"]


def test_first_seen_cancelled_order_gets_no_task(client, api_headers):
    cancelled = order_payload(status="cancelled", cancelled_at="2026-11-24T08:00:00")
    result = only_result(put(client, api_headers(), cancelled))
    assert result["result"] == "created"
    assert result["tasks_created"] == []


def test_history_older_than_task_max_age_creates_no_callbacks(client, api_headers):
    old = order_payload(
        accepted_at="2025-03-01T09:00:00",
        due_at="2025-03-10T17:00:00",
        status="connected",
        connected_at="2025-03-05T10:00:00",
    )
    result = only_result(put(client, api_headers(), old))
    assert result["result"] == "created"
    assert result["tasks_created"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"order_no": "GD 2026/1"}, "order_no"),
        ({"customer_phone": "12345"}, "customer_phone"),
        ({"customer_phone": "+1 415 555 0100"}, "customer_phone"),
        ({"customer_name": ""}, "customer_name"),
        ({"customer_name": "字" * 101}, "customer_name"),
        ({"customer_name": "宏达\x00五金店"}, "customer_name"),
        ({"customer_type": "enterprise"}, "customer_type"),
        ({"has_engineering": "yes"}, "has_engineering"),
        ({"ledger": "somewhere"}, "ledger"),
        ({"status": "done"}, "status"),
        ({"accepted_at": "yesterday"}, "accepted_at"),
        ({"due_at": "2026-11-20T09:00:00"}, "due_at"),
        ({"status": "connected"}, "connected_at"),
        ({"surveyed_at": "2026-11-24T09:00:00"}, "surveyed_at"),
        ({"status": "surveyed", "surveyed_at": "2026-11-22T09:00:00"}, "surveyed_at"),
        (
            {
                "status": "connected",
                "surveyed_at": "2026-11-25T09:00:00",
                "connected_at": "2026-11-24T09:00:00",
            },
            "connected_at",
        ),
        ({"cancelled_at": "2026-11-24T09:00:00"}, "cancelled_at"),
    ],
)
def test_invalid_item_is_rejected_naming_its_field_and_changes_nothing(client, api_headers, changes, field):
    payload = order_payload(**changes)
    response = client.post("/api/v1/work-orders", json=[payload], headers=api_headers())
    (result,) = response.json["results"]
    assert result["result"] == "rejected"
    assert field in [error["field"] for error in result["errors"]]
    assert all(error["message"] for error in result["errors"])
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_batch_items_are_independent(client, api_headers):
    batch = [
        order_payload("A-1"),
        order_payload("A-2", customer_phone="bad"),
        "not an object",
        order_payload("A-3"),
    ]
    response = client.post("/api/v1/work-orders", json=batch, headers=api_headers())
    assert [r["result"] for r in response.json["results"]] == ["created", "rejected", "rejected", "created"]
    assert response.json["results"][1]["order_no"] == "A-2"
    assert set(db.session.scalars(select(WorkOrder.order_no))) == {"A-1", "A-3"}


def test_repeated_order_number_in_one_batch_applies_in_turn(client, api_headers):
    first = order_payload("R-1", updated_at="2026-11-23T10:00:00")
    second = order_payload(
        "R-1", status="surveyed", surveyed_at="2026-11-24T09:00:00", updated_at="2026-11-24T09:00:00"
    )
    response = client.post("/api/v1/work-orders", json=[first, second], headers=api_headers())
    assert [r["result"] for r in response.json["results"]] == ["created", "updated"]
    assert db.session.scalar(select(WorkOrder.status)) == "surveyed"


def test_put_with_a_different_order_no_in_the_body_is_422(client, api_headers):
    response = put(client, api_headers(), order_payload("B-2"), order_no="B-1")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "order_no_mismatch"
    assert response.json["error"]["details"][0]["field"] == "order_no"


def test_batch_over_the_limit_is_413(client, api_headers):
    response = client.post(
        "/api/v1/work-orders", json=[order_payload(f"L-{i}") for i in range(1001)], headers=api_headers()
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"\xff\xfe", b"[1, 2", b'{"a": 1}', b"null", b"42"],
)
def test_malformed_bodies_get_400_in_the_error_shape(client, api_headers, body):
    response = client.post(
        "/api/v1/work-orders", data=body, headers={**api_headers(), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "item",
    [
        {"order_no": ["x"]},
        {"order_no": "X-1", "customer_name": {"a": 1}, "customer_phone": 13800138000.5},
        {"order_no": "X-1", "accepted_at": 12, "due_at": None, "has_engineering": 1},
        {"order_no": "X-1", "status": ["accepted"], "customer_type": 3, "ledger": True},
        {"order_no": "X-1", "accepted_at": "2026-13-45T99:00", "updated_at": {"x": 1}},
        {"order_no": "X-1", "customer_phone": "1" * 500, "address": "\x00" * 10},
    ],
)
def test_strange_values_are_rejected_never_a_500(client, api_headers, item):
    response = client.post("/api/v1/work-orders", json=[item], headers=api_headers())
    assert response.status_code == 200
    assert response.json["results"][0]["result"] == "rejected"


def test_unknown_order_is_404_json(client, api_headers):
    response = client.get("/api/v1/work-orders/NOPE", headers=api_headers())
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_unknown_route_and_wrong_method_answer_in_the_error_shape(client, api_headers):
    assert client.get("/api/v1/nothing-here", headers=api_headers()).json["error"]["code"] == "not_found"
    response = client.delete("/api/v1/work-orders", headers=api_headers())
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Basic abc"}, 401)],
)
def test_requests_without_a_valid_token_are_401(client, headers, status):
    response = client.put("/api/v1/work-orders/X-1", json=order_payload("X-1"), headers=headers)
    assert response.status_code == status
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("role", ["operator", "supervisor", "discipline"])
def test_only_integration_and_admin_may_write_orders(client, api_headers, role):
    response = put(client, api_headers(role), order_payload())
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_supervisor_may_read_an_order_operator_may_not(client, api_headers):
    put(client, api_headers("admin"), order_payload())
    assert (
        client.get("/api/v1/work-orders/GD-2026-0001", headers=api_headers("supervisor")).status_code == 200
    )
    assert client.get("/api/v1/work-orders/GD-2026-0001", headers=api_headers("operator")).status_code == 403


def test_chinese_text_comes_back_as_is(client, api_headers):
    put(client, api_headers(), order_payload())
    raw = client.get("/api/v1/work-orders/GD-2026-0001", headers=api_headers()).get_data()
    assert "宏达五金店" in raw.decode("utf-8")
    assert json.loads(raw)["service_center"] == "城关供电服务中心"


def test_an_update_without_a_ledger_field_keeps_the_ledger_a_supervisor_set(client, api_headers):
    body = order_payload(updated_at="2026-11-23T10:00:00")
    del body["ledger"]
    put(client, api_headers(), body)
    set_ledger(
        db.session,
        "GD-2026-0001",
        "connect_first",
        note="先接入后改造",
        now=TEST_NOW,
        actor=Actor(source="t"),
    )
    db.session.commit()
    surveyed = {
        **body,
        "status": "surveyed",
        "surveyed_at": "2026-11-24T09:00:00",
        "updated_at": "2026-11-24T09:00:00",
    }
    assert only_result(put(client, api_headers(), surveyed))["result"] == "updated"
    assert db.session.scalar(select(WorkOrder.ledger)) == "connect_first"
    cleared = {**surveyed, "ledger": None, "updated_at": "2026-11-24T10:00:00"}
    assert only_result(put(client, api_headers(), cleared))["result"] == "updated"
    assert db.session.scalar(select(WorkOrder.ledger)) is None


def test_a_put_of_a_new_order_sends_five_statements(client, api_headers):
    """One statement authenticates (the token, its user, the address's lock-out), one locks and loads the
    stored order, then one each writes the order, its intake task and their audit rows (issue 14)."""
    headers = api_headers()
    put(client, headers, order_payload("GD-2026-0001"))  # the token's first use is noted (once a minute)
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = only_result(put(client, headers, order_payload("GD-2026-0002")))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert result["result"] == "created"
    assert [task["kind"] for task in result["tasks_created"]] == ["intake"]
    sqlite_write_lock = 1 if db.engine.dialect.name == "sqlite" else 0  # SQLite locks the file, not rows
    assert len(statements) <= 5 + sqlite_write_lock, statements
