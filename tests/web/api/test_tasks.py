"""GET /api/v1/tasks: filters, pagination, roles (contract 4.2)."""

import pytest

from tests.factories import order_payload


@pytest.fixture
def three_orders(client, api_headers):
    batch = [
        order_payload("T-1"),
        order_payload("T-2", status="connected", connected_at="2026-11-24T10:00:00"),
        order_payload("T-3", accepted_at="2026-11-24T09:00:00"),
    ]
    response = client.post("/api/v1/work-orders", json=batch, headers=api_headers())
    assert [r["result"] for r in response.json["results"]] == ["created"] * 3


def test_tasks_are_listed_with_their_order_and_a_masked_phone(client, api_headers, three_orders):
    body = client.get("/api/v1/tasks", headers=api_headers("operator")).json
    assert body["total"] == 4
    assert (body["page"], body["per_page"]) == (1, 50)
    task = body["items"][0]
    assert set(task) >= {
        "id",
        "kind",
        "state",
        "channel",
        "not_before",
        "due_by",
        "attempt_count",
        "lease_expires_at",
        "order",
    }
    assert task["order"]["customer_phone"] == "+86138****8000"
    assert task["state"] == "open"


def test_tasks_filter_by_kind_state_and_order_no(client, api_headers, three_orders):
    headers = api_headers("supervisor")
    completion = client.get("/api/v1/tasks?kind=completion", headers=headers).json
    assert [t["order"]["order_no"] for t in completion["items"]] == ["T-2"]
    assert completion["items"][0]["channel"] == "auto"
    by_order = client.get("/api/v1/tasks?order_no=T-3", headers=headers).json
    assert [t["kind"] for t in by_order["items"]] == ["intake"]
    assert client.get("/api/v1/tasks?state=done", headers=headers).json["total"] == 0


def test_tasks_paginate(client, api_headers, three_orders):
    page2 = client.get("/api/v1/tasks?per_page=3&page=2", headers=api_headers("admin")).json
    assert (page2["total"], len(page2["items"]), page2["page"]) == (4, 1, 2)


@pytest.mark.parametrize("query", ["state=lost", "kind=robocall", "page=0", "per_page=501", "page=abc"])
def test_bad_filters_are_400_naming_the_parameter(client, api_headers, query):
    response = client.get(f"/api/v1/tasks?{query}", headers=api_headers("operator"))
    assert response.status_code == 400
    assert response.json["error"]["details"][0]["field"] == query.split("=")[0]


@pytest.mark.parametrize("role", ["integration", "discipline"])
def test_tasks_are_not_for_integration_or_discipline(client, api_headers, role):
    assert client.get("/api/v1/tasks", headers=api_headers(role)).status_code == 403
