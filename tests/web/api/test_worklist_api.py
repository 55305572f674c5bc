"""Claim, release and record attempts over the API; findings open cases (contract 4.2, 4.3)."""

import threading

import pytest

from tests.factories import order_payload

# Accepted in the system on 11-23, but the customer applied on 11-10: off-line circulation.
OFFLINE_ANSWERS = {
    "is_applicant": True,
    "applied_on": "2026-11-10",
    "progress": "surveyed",
    "satisfaction": 2,
}


@pytest.fixture
def order(client, api_headers):
    response = client.put("/api/v1/work-orders/GD-1", json=order_payload("GD-1"), headers=api_headers())
    assert response.json["results"][0]["result"] == "created"


def claim(client, headers, **body):
    return client.post("/api/v1/tasks/claim", json=body or None, headers=headers)


def test_claim_returns_the_task_with_the_full_phone_then_204(client, api_headers, order):
    operator = api_headers("operator")
    first = claim(client, operator)
    assert first.status_code == 200
    assert first.json["state"] == "claimed"
    assert first.json["order"]["customer_phone"] == "+8613800138000"
    assert first.json["lease_expires_at"] is not None
    assert first.json["already_held"] is False
    assert claim(client, api_headers("supervisor")).status_code == 204


def test_claiming_again_returns_the_task_held(client, api_headers):
    for number in ("GD-1", "GD-2"):
        client.put(f"/api/v1/work-orders/{number}", json=order_payload(number), headers=api_headers())
    operator = api_headers("operator")
    first = claim(client, operator)
    again = claim(client, operator, kind="intake")
    assert again.status_code == 200
    assert again.json["id"] == first.json["id"]
    assert again.json["already_held"] is True
    assert again.json["order"]["customer_phone"] == "+8613800138000"
    claimed = client.get("/api/v1/tasks?state=claimed", headers=operator).json
    assert claimed["total"] == 1
    # Recorded, the claim is over: the next claim takes the other order's callback.
    client.post(f"/api/v1/tasks/{first.json['id']}/attempts", headers=operator, json={"disposition": "busy"})
    after = claim(client, operator)
    assert after.json["already_held"] is False
    assert after.json["id"] != first.json["id"]


def test_claim_by_kind(client, api_headers, order):
    assert claim(client, api_headers("operator"), kind="due_date").status_code == 204
    assert claim(client, api_headers("operator"), kind="intake").status_code == 200
    bad = claim(client, api_headers("operator"), kind="robocall")
    assert bad.status_code == 422
    assert bad.json["error"]["details"][0]["field"] == "kind"


def test_completed_call_with_offline_answers_opens_cases(client, api_headers, order):
    operator = api_headers("operator")
    task = claim(client, operator).json
    response = client.post(
        f"/api/v1/tasks/{task['id']}/attempts",
        json={"disposition": "completed", "answers": OFFLINE_ANSWERS, "note": "客户称月初就交了资料"},
        headers=operator,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["task"]["state"] == "done"
    assert body["attempt"]["answers"]["applied_on"] == "2026-11-10"
    assert body["attempt"]["disposition"] == "completed"
    categories = {c["category"] for c in body["cases_opened"]}
    assert categories == {"offline_circulation", "dissatisfied"}
    assert {f["category"] for f in body["findings"]} == categories

    cases = client.get("/api/v1/cases", headers=api_headers("supervisor")).json
    assert cases["total"] == 2
    offline = next(c for c in cases["items"] if c["category"] == "offline_circulation")
    detail = client.get(f"/api/v1/cases/{offline['id']}", headers=api_headers("supervisor")).json
    evidence = detail["evidence"][0]
    assert evidence["answers"]["applied_on"] == "2026-11-10"
    assert evidence["order_snapshot"]["accepted_at"].startswith("2026-11-23")
    assert [event["action"] for event in detail["history"]] == ["opened"]

    order = client.get("/api/v1/work-orders/GD-1", headers=api_headers("supervisor")).json
    assert order["tasks"][0]["attempts"][0]["disposition"] == "completed"
    assert {c["category"] for c in order["cases"]} == categories


def test_a_later_finding_of_the_same_kind_adds_evidence_to_the_open_case(client, api_headers, runner):
    due_today = order_payload("GD-2", due_at="2026-11-27T17:00:00")
    client.put("/api/v1/work-orders/GD-2", json=due_today, headers=api_headers())
    assert "due_date tasks created: 1" in runner.invoke(args=["tick"]).output
    operator = api_headers("operator")
    for _ in range(2):  # the intake call, then the due-date call: both dissatisfied
        task = claim(client, operator).json
        result = client.post(
            f"/api/v1/tasks/{task['id']}/attempts",
            headers=operator,
            json={"disposition": "completed", "answers": {"progress": "connected", "satisfaction": 1}},
        )
        assert result.status_code == 201
    cases = client.get("/api/v1/cases?category=dissatisfied", headers=api_headers("supervisor")).json
    assert cases["total"] == 1
    detail = client.get(f"/api/v1/cases/{cases['items'][0]['id']}", headers=api_headers("supervisor")).json
    assert len(detail["evidence"]) == 2


def test_integrity_case_is_referred_at_once_and_visible_to_discipline(client, api_headers, order):
    operator = api_headers("operator")
    task = claim(client, operator).json
    client.post(
        f"/api/v1/tasks/{task['id']}/attempts",
        headers=operator,
        json={"disposition": "partial", "answers": {"integrity": True}},
    )
    discipline = client.get("/api/v1/cases", headers=api_headers("discipline")).json
    assert [(c["category"], c["referred_to_discipline"]) for c in discipline["items"]] == [
        ("integrity", True)
    ]


def test_attempt_without_a_live_claim_is_409(client, api_headers, order):
    task = claim(client, api_headers("operator")).json
    response = client.post(
        f"/api/v1/tasks/{task['id']}/attempts",
        headers=api_headers("supervisor"),
        json={"disposition": "no_answer"},
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "not_claimed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"disposition": "hung_up"}, "disposition"),
        ({"disposition": "completed", "answers": {"progress": "connected"}}, "answers.satisfaction"),
        ({"disposition": "completed", "answers": {"progress": "x", "satisfaction": 5}}, "answers.progress"),
        (
            {"disposition": "completed", "answers": {"progress": "none", "satisfaction": 9}},
            "answers.satisfaction",
        ),
        ({"disposition": "callback_requested"}, "callback_at"),
        ({"disposition": "callback_requested", "callback_at": "2020-01-01T10:00:00"}, "callback_at"),
        ({"disposition": "no_answer", "answers": {"satisfaction": 5}}, "answers"),
    ],
)
def test_invalid_attempts_are_422_and_leave_the_claim_in_place(client, api_headers, order, body, field):
    operator = api_headers("operator")
    task = claim(client, operator).json
    response = client.post(f"/api/v1/tasks/{task['id']}/attempts", headers=operator, json=body)
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json["error"]["details"]]
    listed = client.get("/api/v1/tasks?state=claimed", headers=operator).json
    assert listed["total"] == 1


def test_release_by_holder_only(client, api_headers, order):
    operator = api_headers("operator")
    task = claim(client, operator).json
    assert client.post(f"/api/v1/tasks/{task['id']}/release", headers=api_headers("admin")).status_code == 409
    released = client.post(f"/api/v1/tasks/{task['id']}/release", headers=operator)
    assert released.status_code == 200
    assert released.json["state"] == "open"
    assert client.post("/api/v1/tasks/99999/release", headers=operator).status_code == 404


def test_cases_filters_are_checked(client, api_headers):
    supervisor = api_headers("supervisor")
    assert client.get("/api/v1/cases?state=lost", headers=supervisor).status_code == 400
    assert client.get("/api/v1/cases?from=yesterday", headers=supervisor).status_code == 400
    assert client.get("/api/v1/cases/12345", headers=supervisor).status_code == 404
    assert client.get("/api/v1/cases", headers=api_headers("operator")).status_code == 403


def test_concurrent_api_claims_hand_each_task_out_once(app, client, api_headers):
    orders = [order_payload(f"C-{i}") for i in range(30)]
    client.post("/api/v1/work-orders", json=orders, headers=api_headers())
    headers = [api_headers("operator"), api_headers("supervisor"), api_headers("admin")]
    got: list[int] = []
    lock = threading.Lock()

    def work(h: dict[str, str]) -> None:
        own = app.test_client()
        while (response := own.post("/api/v1/tasks/claim", headers=h)).status_code == 200:
            assert response.json["already_held"] is False
            with lock:
                got.append(response.json["id"])
            done = own.post(
                f"/api/v1/tasks/{response.json['id']}/attempts", headers=h, json={"disposition": "refused"}
            )
            assert done.status_code == 201

    threads = [threading.Thread(target=work, args=(h,)) for h in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(got) == sorted(set(got))
    assert len(got) == 30


def test_a_failed_call_is_retried_in_an_untried_slot_and_the_task_shows_the_slots_tried(
    client, api_headers, order
):
    operator = api_headers("operator")
    task_id = claim(client, operator).json["id"]  # Friday 10:00 in Beijing: the weekday morning
    assert client.get("/api/v1/tasks", headers=operator).json["items"][0]["slots_tried"] == []

    recorded = client.post(
        f"/api/v1/tasks/{task_id}/attempts", headers=operator, json={"disposition": "no_answer"}
    )

    assert recorded.status_code == 201
    task = recorded.json["task"]
    # Two hours later is still the morning, already tried: the afternoon, from its start.
    assert task["not_before"] == "2026-11-27T12:00:00+08:00"
    expected = [{"slot": "weekday_morning", "label": "工作日上午", "attempts": 1}]
    assert task["slots_tried"] == expected
    listed = client.get("/api/v1/tasks?order_no=GD-1&kind=intake", headers=api_headers("supervisor")).json
    assert listed["items"][0]["slots_tried"] == expected
