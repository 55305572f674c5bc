"""Bad input found by trying (issue 9): versions from the future, huge numbers, identical PUTs racing."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from callback.audit import Actor
from callback.extensions import db
from callback.intake.importer import import_orders_file
from callback.models import WorkOrder
from tests.factories import order_payload
from tests.intake.exports import CHINESE_HEADER, chinese_row, write_csv

# TEST_NOW is 2026-11-27 10:00 in Beijing: requests arrive then.
SURVEYED = {"status": "surveyed", "surveyed_at": "2026-11-24T10:00:00"}


def put(client, headers, body):
    response = client.put(f"/api/v1/work-orders/{body['order_no']}", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["results"][0]


def test_a_version_from_the_far_future_is_rejected_and_cannot_freeze_the_order(client, api_headers):
    headers = api_headers()
    put(client, headers, order_payload())
    frozen = put(client, headers, order_payload(**SURVEYED, updated_at="2099-01-01"))
    assert frozen["result"] == "rejected"
    assert [error["field"] for error in frozen["errors"]] == ["updated_at"]
    assert "10" in frozen["errors"][0]["message"]
    # The real next version is taken: nothing was frozen.
    later = put(client, headers, order_payload(**SURVEYED, updated_at="2026-11-27T10:00:00"))
    assert later["result"] == "updated"
    assert db.session.scalar(select(WorkOrder.status)) == "surveyed"


def test_a_version_a_few_minutes_ahead_is_clock_skew_and_accepted(client, api_headers):
    ahead = put(client, api_headers(), order_payload(updated_at="2026-11-27T10:09:00+08:00"))
    beyond = put(client, api_headers(), order_payload("GD-2", updated_at="2026-11-27T10:11:00+08:00"))
    assert ahead["result"] == "created"
    assert beyond["result"] == "rejected"


def test_an_import_row_from_the_future_is_rejected_with_its_reason(app, settings, tmp_path):
    rows = [chinese_row("GD-1"), chinese_row("GD-2", 更新时间="2099-01-01 00:00")]
    path = write_csv(tmp_path / "orders.csv", rows, header=[*CHINESE_HEADER, "更新时间"], encoding="utf-8")
    report = import_orders_file(
        db.session, path, now=datetime.now(UTC), settings=settings, actor=Actor(source="test"), dry_run=False
    )
    assert report.counts["created"] == 1 and report.counts["rejected"] == 1
    assert [error.field for error in report.rejected_rows[0].errors] == ["updated_at"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/2147483648",
        "/api/v1/cases/99999999999999999999",
        "/api/v1/cases/2147483647",
        "/api/v1/cases/99999999999999999999/transitions",
        "/api/v1/tasks/99999999999999999999/release",
        "/api/v1/tasks/2147483648/attempts",
    ],
)
def test_huge_ids_in_api_paths_are_404(client, api_headers, path):
    method = client.get if path.endswith(("8", "7", "9")) else client.post
    response = method(path, headers=api_headers("admin"), json={})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/tasks"])
@pytest.mark.parametrize("page", ["99999999999999999999", "2147483648", "-1", "0", "x"])
def test_out_of_range_pages_in_the_api_are_400_naming_page(client, api_headers, path, page):
    response = client.get(path, query_string={"page": page}, headers=api_headers("admin"))
    assert response.status_code == 400
    assert response.json["error"]["details"][0]["field"] == "page"


def test_the_last_possible_page_is_empty_not_an_error(client, api_headers):
    response = client.get("/api/v1/tasks?page=2147483647&per_page=500", headers=api_headers("admin"))
    assert response.status_code == 200
    assert response.json["items"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/cases/99999999999999999999",
        "/cases/2147483648/letter",
        "/operator/tasks/99999999999999999999",
        "/operator/attempts/2147483648",
        "/twilio/attempts/99999999999999999999/transcript",
    ],
)
def test_huge_ids_in_page_paths_are_404(client, login, path):
    login("admin")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/", "/cases/", "/ledgers/connect_first", "/reports/connections"])
def test_huge_pages_on_pages_are_400(client, login, path):
    login("admin")
    assert client.get(path, query_string={"page": "99999999999999999999"}).status_code == 400
    assert client.get(path, query_string={"page": "2147483647"}).status_code == 200


def race(app, headers, body, times: int = 4) -> list[str]:
    """PUT the same body from several threads at once; return their results."""
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(times)

    def send() -> None:
        try:
            own = app.test_client()
            start.wait()
            response = own.put(f"/api/v1/work-orders/{body['order_no']}", json=body, headers=headers)
            with lock:
                results.append(response.json["results"][0]["result"])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return sorted(results)


@pytest.mark.parametrize("round_", range(3))
def test_identical_puts_racing_an_update_are_one_updated_the_rest_unchanged(app, client, api_headers, round_):
    headers = api_headers()
    put(client, headers, order_payload(updated_at="2026-11-23T10:00:00"))
    # No updated_at: each request's version is its own arrival time, so the later arrival may commit first.
    results = race(app, headers, order_payload(**SURVEYED))
    assert results == ["unchanged", "unchanged", "unchanged", "updated"]
    assert db.session.scalar(select(WorkOrder.status)) == "surveyed"


@pytest.mark.parametrize("round_", range(3))
def test_identical_puts_racing_a_creation_are_one_created_the_rest_unchanged(app, api_headers, round_):
    results = race(app, api_headers(), order_payload(f"NEW-{round_}"))
    assert results == ["created", "unchanged", "unchanged", "unchanged"]


@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "²", "x"])
def test_a_case_assigned_to_an_impossible_user_is_refused_with_a_message(client, login, api_headers, value):
    put(client, api_headers(), order_payload())
    response = client.post(
        "/api/v1/cases",
        json={"order_no": "GD-2026-0001", "category": "other", "description": "现场检查"},
        headers=api_headers("supervisor"),
    )
    assert response.status_code == 201
    case_id = response.json["id"]
    login("supervisor")
    refused = client.post(f"/cases/{case_id}/assign", data={"assignee_id": value})
    assert refused.status_code == 422
    assert (
        client.get(f"/api/v1/cases/{case_id}", headers=api_headers("supervisor")).json["assignee_id"] is None
    )


def test_a_page_number_in_other_digits_is_the_first_page(client, login):
    login("supervisor")
    assert client.get("/cases/", query_string={"page": "²"}).status_code == 200


def test_a_gather_with_a_strange_try_number_is_400(client, twilio_post):
    assert twilio_post("/twilio/gather/1?q=progress&try=%C2%B2", {}).status_code == 400
