"""The audit trail over HTTP: reads of full numbers and exports recorded; the API and the page read them."""

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from callback.extensions import db
from callback.models import AuditEvent
from tests.factories import order_payload

ORDERS_CSV = "/reports/exports/orders.csv"


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@pytest.fixture
def one_order(client, api_headers):
    response = client.put("/api/v1/work-orders/GD-1", json=order_payload("GD-1"), headers=api_headers())
    assert response.json["results"][0]["result"] == "created"


# Reads of full numbers ---------------------------------------------------------------------------------


def test_an_api_claim_hands_out_the_full_number_and_says_so_in_the_audit(client, api_headers, one_order):
    response = client.post(
        "/api/v1/tasks/claim", headers=api_headers("operator"), environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert response.status_code == 200
    assert response.json["order"]["customer_phone"] == "+8613800138000"
    [event] = events("task.phone_read")
    assert (event.entity_type, event.entity_id, event.channel, event.address) == (
        "callback_task",
        response.json["id"],
        "api",
        "192.0.2.7",
    )
    # Nothing to claim: no number handed out, nothing recorded.
    client.post("/api/v1/tasks/claim", headers=api_headers("supervisor"))
    assert client.post("/api/v1/tasks/claim", headers=api_headers("admin")).status_code == 204
    assert len(events("task.phone_read")) == 1


def test_reading_an_order_with_its_full_number_is_audited(client, api_headers, one_order):
    # A supervisor's read shows the number masked (docs/privacy.md, "Who sees what"): nothing to audit.
    masked = client.get("/api/v1/work-orders/GD-1", headers=api_headers("supervisor"))
    assert masked.json["customer_phone"] == "+86138****8000"
    assert events("order.phone_read") == []
    response = client.get("/api/v1/work-orders/GD-1", headers=api_headers("admin"))
    assert response.json["customer_phone"] == "+8613800138000"
    [event] = events("order.phone_read")
    assert event.details == {"order_no": "GD-1"} and event.channel == "api"
    assert client.get("/api/v1/work-orders/NOPE", headers=api_headers("admin")).status_code == 404
    assert len(events("order.phone_read")) == 1


def test_the_operator_reveal_records_web_and_the_address(client, login, one_order):
    login("operator")
    task_location = client.post("/operator/next").headers["Location"]
    task_id = int(task_location.rstrip("/").split("/")[-1])
    shown = client.post(f"/operator/tasks/{task_id}/reveal", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert "+8613800138000" in shown.text
    [event] = events("task.phone_revealed")
    assert (event.channel, event.address) == ("web", "198.51.100.9")


# Exports ------------------------------------------------------------------------------------------------


def test_exports_mask_numbers_and_are_audited_with_dataset_filters_and_rows(client, login, one_order):
    user = login("supervisor")
    masked = client.get(ORDERS_CSV + "?service_center=城关供电服务中心")
    rows = read_csv(masked)
    assert rows[1][2] == "'+86138****8000"  # the + is neutralised, the middle hidden
    assert "13800138000" not in masked.get_data(as_text=True)
    [event] = events("export")
    assert event.actor_id == user.id and event.channel == "web"
    assert event.details == {
        "dataset": "orders",
        "format": "csv",
        "filters": {"service_center": "城关供电服务中心"},
        "rows": 1,
        "full_numbers": False,
    }


def test_full_numbers_only_when_ticked_and_the_tick_is_audited(client, login, one_order):
    login("admin")
    with client.get("/reports/exports/orders.xlsx?full_numbers=1") as response:
        book = load_workbook(io.BytesIO(response.data))
    values = [cell.value for row in book.worksheets[0].iter_rows() for cell in row]
    assert "+8613800138000" in values  # a text cell: no apostrophe (issue 12, defect 5)
    [event] = events("export")
    assert event.details["full_numbers"] is True and event.details["format"] == "xlsx"
    assert "full_numbers" not in event.details["filters"]


def test_the_rows_page_masks_numbers_and_offers_the_full_numbers_box(client, login, one_order):
    login("supervisor")
    page = client.get("/reports/rows/orders").text
    assert "+86138****8000" in page and "+8613800138000" not in page
    assert 'name="full_numbers"' in page
    assert events("export") == []  # looking at the first rows is not an export


@pytest.mark.parametrize(
    ("url", "dataset", "fmt"),
    [
        ("/reports/exports/ledger.csv?ledger=connect_first", "ledger", "csv"),
        ("/reports/exports/attempts.xlsx", "attempts", "xlsx"),
        ("/reports/exports/tasks.csv", "tasks", "csv"),
        ("/reports/exports/cases.csv?state=open", "cases", "csv"),
        ("/reports/monthly.xlsx?from=2026-11-01&to=2026-11-30", "monthly", "xlsx"),
    ],
)
def test_every_web_export_is_audited(client, login, one_order, url, dataset, fmt):
    login("supervisor")
    with client.get(url) as response:
        assert response.status_code == 200
    [event] = events("export")
    assert (event.details["dataset"], event.details["format"]) == (dataset, fmt)
    assert isinstance(event.details["rows"], int)


def test_the_api_summary_workbook_is_audited(client, api_headers, one_order):
    with client.get(
        "/api/v1/reports/summary.xlsx?from=2026-11-01&to=2026-11-30", headers=api_headers()
    ) as response:
        assert response.status_code == 200
    [event] = events("export")
    assert event.channel == "api"
    assert event.details["dataset"] == "summary"
    assert event.details["filters"] == {"from": "2026-11-01", "to": "2026-11-30"}


def test_a_refused_export_records_nothing(client, login):
    login("supervisor")
    assert client.get(ORDERS_CSV + "?from=not-a-date").status_code == 400
    assert events("export") == []


# The API ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("discipline", 200), ("supervisor", 403), ("operator", 403), ("integration", 403)],
)
def test_only_admins_and_discipline_read_the_audit_api(client, api_headers, role, status):
    assert client.get("/api/v1/audit-events", headers=api_headers(role)).status_code == status


def test_the_audit_api_needs_a_token(client):
    assert client.get("/api/v1/audit-events").status_code == 401


def test_the_audit_api_lists_newest_first_paginated_and_filtered(client, api_headers, one_order):
    headers = api_headers("discipline")
    client.get("/api/v1/work-orders/GD-1", headers=api_headers("admin"))
    body = client.get("/api/v1/audit-events?per_page=2", headers=headers).json
    assert set(body) == {"items", "page", "per_page", "total"}
    assert (body["page"], body["per_page"]) == (1, 2) and len(body["items"]) == 2
    assert body["total"] >= 5  # users, tokens, the order, its task, the read
    ids = [item["id"] for item in body["items"]]
    assert ids == sorted(ids, reverse=True)
    read = client.get("/api/v1/audit-events?action=order.phone_read", headers=headers).json
    assert read["total"] == 1
    item = read["items"][0]
    assert item["actor"] == "api-admin" and item["channel"] == "api" and item["address"] == "127.0.0.1"
    assert item["at"].endswith("+08:00")
    mine = client.get("/api/v1/audit-events?actor=api-admin&entity=work_order", headers=headers).json
    assert [i["action"] for i in mine["items"]] == ["order.phone_read"]
    created = client.get("/api/v1/audit-events?action=order.*&channel=api", headers=headers).json
    assert {i["action"] for i in created["items"]} == {"order.created", "order.phone_read"}


def test_bad_filters_get_a_message_for_each_field(client, api_headers):
    headers = api_headers("admin")
    response = client.get(
        "/api/v1/audit-events?entity=order:x&from=2026-13-01&page=0&action=a%20b", headers=headers
    )
    assert response.status_code == 400
    fields = {detail["field"] for detail in response.json["error"]["details"]}
    assert fields == {"entity", "from", "action"}
    backwards = client.get("/api/v1/audit-events?from=2026-11-30&to=2026-11-01", headers=headers)
    assert backwards.status_code == 422
    assert backwards.json["error"]["details"][0]["field"] == "from"
    huge = client.get("/api/v1/audit-events?page=99999999999999999999", headers=headers)
    assert huge.status_code == 400 and huge.json["error"]["details"][0]["field"] == "page"


def test_phone_numbers_in_an_order_update_are_masked_in_the_trail(client, api_headers, one_order):
    changed = order_payload("GD-1", customer_phone="13900139000", updated_at="2026-11-27T10:05:00")
    assert (
        client.put("/api/v1/work-orders/GD-1", json=changed, headers=api_headers()).json["results"][0][
            "result"
        ]
        == "updated"
    )
    item = client.get("/api/v1/audit-events?action=order.updated", headers=api_headers("admin")).json[
        "items"
    ][0]
    assert item["details"]["changes"]["customer_phone"] == ["+86138****8000", "+86139****9000"]


# The page -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("admin", 200), ("discipline", 200), ("supervisor", 403), ("operator", 403)]
)
def test_only_admins_and_discipline_see_the_audit_page(client, login, role, status):
    login(role)
    assert client.get("/audit/").status_code == status
    assert client.get("/audit/export.csv").status_code == status


def test_the_audit_page_lists_and_filters_and_links_the_menu(client, login, one_order):
    login("discipline")
    page = client.get("/audit/").text
    assert 'href="/audit/"' in page  # the menu
    assert "order.created" in page and "task.created" in page
    filtered = client.get("/audit/?action=order.*").text
    assert "order.created" in filtered and "task.created" not in filtered
    assert 'href="/audit/export.csv?action=order.*"' in filtered


def test_bad_filters_on_the_page_are_named_beside_their_field(client, login):
    login("admin")
    response = client.get("/audit/?entity=%3Cscript%3E&from=soon")
    assert response.status_code == 400
    assert response.text.count("is-invalid") == 2
    assert "<script>" not in response.text
    assert client.get("/audit/export.csv?to=soon").status_code == 400
    assert events("export") == []


def test_the_csv_export_of_the_trail_is_itself_audited(client, login, one_order):
    user = login("admin")
    response = client.get("/audit/export.csv?entity=work_order")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_csv(response)
    assert rows[0][:3] == ["id", "at", "actor"] and rows[0][-1] == "details"
    actions = [row[7] for row in rows[1:]]
    assert "order.created" in actions and "task.created" not in actions
    assert json.loads(rows[-1][-1]) == {"order_no": "GD-1"}
    [event] = events("export")
    assert event.actor_id == user.id
    assert event.details["dataset"] == "audit_events" and event.details["filters"] == {"entity": "work_order"}
    assert event.details["rows"] == len(rows) - 1


def test_a_case_s_evidence_shows_the_order_snapshot_with_the_number_masked(client, api_headers, one_order):
    task = client.post("/api/v1/tasks/claim", headers=api_headers("operator")).json
    call = {"disposition": "completed", "answers": {"progress": "surveyed", "satisfaction": 1}}
    saved = client.post(f"/api/v1/tasks/{task['id']}/attempts", json=call, headers=api_headers("operator"))
    case_id = saved.json["cases_opened"][0]["id"]
    case = client.get(f"/api/v1/cases/{case_id}", headers=api_headers("supervisor")).json
    snapshot = case["evidence"][0]["order_snapshot"]
    assert snapshot["customer_phone"] == "+86138****8000"
    assert snapshot["order_no"] == "GD-1" and snapshot["status"] == "accepted"
