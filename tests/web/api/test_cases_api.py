"""The case API for each role (contract 4.3)."""

import pytest

from tests.factories import order_payload

ROUTES = [
    ("get", "/api/v1/cases", None),
    ("get", "/api/v1/cases/1", None),
    ("post", "/api/v1/cases", {"order_no": "K-1", "category": "other", "description": "d"}),
    ("post", "/api/v1/cases/1/transitions", {"to": "investigating"}),
    ("post", "/api/v1/cases/1/penalties", {"person": "王磊", "amount_yuan": 100, "reason": "r"}),
    ("post", "/api/v1/cases/1/referral", {"note": "n"}),
]
WRITES = {"post"}


@pytest.fixture
def case_id(client, api_headers):
    client.put("/api/v1/work-orders/K-1", json=order_payload("K-1"), headers=api_headers())
    response = client.post(
        "/api/v1/cases",
        headers=api_headers("supervisor"),
        json={"order_no": "K-1", "category": "cabinet_door_open", "description": "柜门未关"},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("role", ["operator", "integration"])
def test_operators_and_integration_may_not_touch_cases(client, api_headers, method, path, body, role):
    response = getattr(client, method)(path, json=body, headers=api_headers(role))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), [r for r in ROUTES if r[0] in WRITES])
def test_discipline_reads_but_never_writes(client, api_headers, case_id, method, path, body):
    assert getattr(client, method)(path, json=body, headers=api_headers("discipline")).status_code == 403


def test_a_supervisor_takes_a_case_from_open_to_closed(client, api_headers, case_id):
    supervisor = api_headers("supervisor")
    base = f"/api/v1/cases/{case_id}"
    assert (
        client.post(
            f"{base}/penalties",
            headers=supervisor,
            json={"person": "王磊", "amount_yuan": 200, "reason": "r"},
        ).status_code
        == 409
    )
    assert (
        client.post(f"{base}/transitions", headers=supervisor, json={"to": "investigating"}).status_code
        == 200
    )
    issued = client.post(
        f"{base}/transitions",
        headers=supervisor,
        json={"to": "letter_issued", "requirements": "立即整改，关闭柜门并加锁", "deadline": "2026-12-04"},
    )
    assert issued.status_code == 200
    assert issued.json["letter_no"] == "JD-2026-0001"
    assert issued.json["letter_deadline"] == "2026-12-04"
    penalty = client.post(
        f"{base}/penalties",
        headers=supervisor,
        json={"person": "王磊", "amount_yuan": 200, "reason": "柜门未关"},
    )
    assert penalty.status_code == 201
    assert (
        client.post(f"{base}/transitions", headers=supervisor, json={"to": "closed", "note": "x"}).status_code
        == 409
    )
    assert client.post(f"{base}/transitions", headers=supervisor, json={"to": "rectified"}).status_code == 200
    assert client.post(f"{base}/transitions", headers=supervisor, json={"to": "closed"}).status_code == 422
    closed = client.post(
        f"{base}/transitions", headers=supervisor, json={"to": "closed", "note": "已整改到位"}
    )
    assert closed.json["state"] == "closed"
    assert [p["amount_yuan"] for p in closed.json["penalties"]] == [200.0]
    moves = [(h["from"], h["to"]) for h in closed.json["history"] if h["action"] == "moved"]
    assert moves == [
        ("open", "investigating"),
        ("investigating", "letter_issued"),
        ("letter_issued", "rectified"),
        ("rectified", "closed"),
    ]


def test_referral_makes_the_case_visible_to_discipline_once(client, api_headers, case_id):
    discipline = api_headers("discipline")
    assert client.get(f"/api/v1/cases/{case_id}", headers=discipline).status_code == 404
    referred = client.post(
        f"/api/v1/cases/{case_id}/referral", json={"note": "涉嫌违纪"}, headers=api_headers("supervisor")
    )
    assert referred.json["referred_to_discipline"] is True
    assert client.get(f"/api/v1/cases/{case_id}", headers=discipline).status_code == 200
    again = client.post(f"/api/v1/cases/{case_id}/referral", headers=api_headers("supervisor"))
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"order_no": "NOPE", "category": "other", "description": "d"}, 422, "order_no"),
        ({"order_no": "K-1", "category": "bad", "description": "d"}, 422, "category"),
        ({"order_no": "K-1", "category": "other"}, 422, "description"),
        ({"order_no": "K-1", "category": "cabinet_door_open", "description": "d"}, 409, None),
    ],
)
def test_opening_by_hand_checks_its_input(client, api_headers, case_id, body, status, field):
    response = client.post("/api/v1/cases", json=body, headers=api_headers("admin"))
    assert response.status_code == status
    if field:
        assert field in [d["field"] for d in response.json["error"]["details"]]


def test_bad_transition_bodies(client, api_headers, case_id):
    supervisor = api_headers("supervisor")
    assert (
        client.post(f"/api/v1/cases/{case_id}/transitions", headers=supervisor, json={"to": "x"}).status_code
        == 422
    )
    assert (
        client.post(f"/api/v1/cases/{case_id}/transitions", headers=supervisor, data="[").status_code == 400
    )
    assert (
        client.post("/api/v1/cases/999/transitions", headers=supervisor, json={"to": "closed"}).status_code
        == 404
    )


def test_overdue_filter_and_flag(client, api_headers, case_id):
    listed = client.get("/api/v1/cases?overdue=true", headers=api_headers("supervisor")).json
    assert listed["total"] == 0
    case = client.get(f"/api/v1/cases/{case_id}", headers=api_headers("supervisor")).json
    assert case["overdue"] is False
    assert case["due_at"].startswith("2026-12-11")
