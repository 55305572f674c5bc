"""Who sees what (issue 9, docs/privacy.md): each role gets the representation it needs and no more."""

import json

import pytest

from tests.factories import order_payload

NOTE = "客户说所长要过两条烟"
PENALISED = "张建国"


@pytest.fixture
def world(client, api_headers):
    """REF-1: an operator's call with a note and answers, an integrity case (referred) with a penalty,
    and a dissatisfied case (not referred). PLAIN-1: an order without any case."""
    for number in ("REF-1", "PLAIN-1"):
        response = client.put(
            f"/api/v1/work-orders/{number}", json=order_payload(number), headers=api_headers()
        )
        assert response.status_code == 200
    operator = api_headers("operator")
    task = client.post("/api/v1/tasks/claim", json={}, headers=operator).json
    assert task["order"]["order_no"] == "REF-1"
    call = client.post(
        f"/api/v1/tasks/{task['id']}/attempts",
        headers=operator,
        json={"disposition": "partial", "answers": {"integrity": True, "satisfaction": 1}, "note": NOTE},
    ).json
    cases = {case["category"]: case["id"] for case in call["cases_opened"]}
    supervisor = api_headers("supervisor")
    integrity = cases["integrity"]
    for move in (
        {"to": "investigating"},
        {"to": "letter_issued", "requirements": "退还财物，书面检查", "deadline": "2026-12-04"},
    ):
        assert (
            client.post(f"/api/v1/cases/{integrity}/transitions", json=move, headers=supervisor).status_code
            == 200
        )
    penalty = {"person": PENALISED, "amount_yuan": 500, "reason": "索要好处"}
    assert (
        client.post(f"/api/v1/cases/{integrity}/penalties", json=penalty, headers=supervisor).status_code
        == 201
    )
    return cases


def order_as(client, headers, number="REF-1"):
    return client.get(f"/api/v1/work-orders/{number}", headers=headers)


def test_integration_reads_the_order_and_its_tasks_but_no_case_answer_note_or_penalty(
    client, api_headers, world
):
    response = order_as(client, api_headers("integration"))
    assert response.status_code == 200
    body = response.json
    assert body["customer_phone"] == "+8613800138000"  # its own record, sent by it
    assert "cases" not in body
    attempts = [attempt for task in body["tasks"] for attempt in task["attempts"]]
    assert [attempt["disposition"] for attempt in attempts] == ["partial"]
    assert not {"answers", "findings", "note"} & set(attempts[0])
    text = json.dumps(body, ensure_ascii=False)
    for secret in (NOTE, PENALISED, "integrity", "dissatisfied", "索要好处"):
        assert secret not in text


def test_integration_may_not_read_cases_or_the_task_queue(client, api_headers, world):
    integration = api_headers("integration")
    assert client.get("/api/v1/cases", headers=integration).status_code == 403
    assert client.get(f"/api/v1/cases/{world['integrity']}", headers=integration).status_code == 403
    assert client.get("/api/v1/tasks", headers=integration).status_code == 403


def test_supervisors_see_everything_but_the_full_number(client, api_headers, world):
    body = order_as(client, api_headers("supervisor")).json
    assert body["customer_phone"] == "+86138****8000"
    assert {case["category"] for case in body["cases"]} == {"integrity", "dissatisfied"}
    penalties = [p["person"] for case in body["cases"] for p in case["penalties"]]
    assert penalties == [PENALISED]
    attempt = body["tasks"][0]["attempts"][0]
    assert attempt["note"] == NOTE and attempt["answers"]["integrity"] is True


def test_admins_see_the_full_number(client, api_headers, world):
    assert order_as(client, api_headers("admin")).json["customer_phone"] == "+8613800138000"


def test_discipline_reads_orders_with_a_referred_case_and_only_those_cases(client, api_headers, world):
    discipline = api_headers("discipline")
    body = order_as(client, discipline).json
    assert [case["category"] for case in body["cases"]] == ["integrity"]
    assert body["cases"][0]["penalties"][0]["person"] == PENALISED
    assert body["customer_phone"] == "+86138****8000"
    assert order_as(client, discipline, "PLAIN-1").status_code == 404
    assert client.get(f"/api/v1/cases/{world['dissatisfied']}", headers=discipline).status_code == 404
    case = client.get(f"/api/v1/cases/{world['integrity']}", headers=discipline).json
    assert case["evidence"][0]["answers"]["integrity"] is True
    assert case["evidence"][0]["order_snapshot"]["customer_phone"] == "+86138****8000"


def test_discipline_pages_list_and_open_only_orders_with_a_referred_case(client, login, world):
    login("discipline")
    listing = client.get("/").get_data(as_text=True)
    assert "REF-1" in listing and "PLAIN-1" not in listing
    assert client.get("/orders/REF-1").status_code == 200
    assert client.get("/orders/PLAIN-1").status_code == 404
    assert client.get("/?q=PLAIN").get_data(as_text=True).count("PLAIN-1") == 0


def test_other_staff_still_list_every_order(client, login, world):
    login("operator")
    listing = client.get("/").get_data(as_text=True)
    assert "REF-1" in listing and "PLAIN-1" in listing
