"""The reports API (contract 4.4): roles, parameters, the published year, the workbook."""

import io
import re

import pytest
from openpyxl import load_workbook

from callback.extensions import db
from tests.reports.published_year import EXPECTED, LETTERS, build_published_year

YEAR = {"from": "2022-01-01", "to": "2022-12-31"}
ROUTES = ["/api/v1/reports/summary", "/api/v1/reports/summary.xlsx"]


@pytest.fixture
def published_year(app, settings):
    build_published_year(db.session, settings)
    db.session.commit()


@pytest.mark.parametrize("path", ROUTES)
def test_a_token_is_required(client, path):
    response = client.get(path, query_string=YEAR)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("role", ["operator", "discipline"])
def test_callers_and_inspectors_may_not_read_reports(client, api_headers, path, role):
    assert client.get(path, query_string=YEAR, headers=api_headers(role)).status_code == 403


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("role", ["supervisor", "admin", "integration"])
def test_report_readers_get_the_summary(client, api_headers, path, role):
    with client.get(path, query_string=YEAR, headers=api_headers(role)) as response:
        assert response.status_code == 200


def test_the_published_year_through_the_api(client, api_headers, published_year):
    body = client.get("/api/v1/reports/summary", query_string=YEAR, headers=api_headers()).json
    assert body["period"] == {"from": "2022-01-01", "to": "2022-12-31"}
    connections = body["connections"]
    assert {key: connections[key] for key in ("count", "avg_days", "overtime")} == {
        "count": 148,
        "avg_days": 3.76,
        "overtime": 0,
    }
    assert connections["with_engineering"] == EXPECTED["with_engineering"]
    assert connections["without_engineering"] == EXPECTED["without_engineering"]
    assert set(connections) >= {"avg_workdays", "customer_reported_avg_days"}
    assert set(body["callbacks"]) >= {
        "tasks",
        "done",
        "unreachable",
        "attempts",
        "contact_rate",
        "response_rate_rr1",
        "satisfaction_avg",
        "satisfied_share",
    }
    assert body["cases"]["letters_issued"] == 21
    assert {k: v for k, v in body["cases"]["letters_by_category"].items() if v} == LETTERS
    assert set(body["cases"]) >= {"opened", "referred_to_discipline", "open", "closed"}
    assert body["penalties"] == {"person_times": 9, "amount_yuan": 1590}


def test_customer_type_all_and_service_centre(client, api_headers, published_year):
    everyone = client.get(
        "/api/v1/reports/summary", query_string={**YEAR, "customer_type": "all"}, headers=api_headers()
    ).json
    assert everyone["connections"]["count"] == 149
    nowhere = client.get(
        "/api/v1/reports/summary", query_string={**YEAR, "service_center": "无此中心"}, headers=api_headers()
    ).json
    assert nowhere["connections"]["count"] == 0
    assert nowhere["connections"]["avg_days"] == 0.0


def test_the_workbook_has_the_summary_orders_and_cases(client, api_headers, published_year):
    supervisor = api_headers("supervisor")
    with client.get("/api/v1/reports/summary.xlsx", query_string=YEAR, headers=supervisor) as response:
        assert response.status_code == 200
        assert response.mimetype.endswith("spreadsheetml.sheet")
        book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert len(book.sheetnames) == 6  # summary, orders, cases, penalties; rates; rates by centre (issue 13)
    summary, orders, cases, _penalties = (list(sheet.values) for sheet in book.worksheets[:4])
    figures = {row[1]: row[2] for row in summary[1:]}
    assert figures["connections.count"] == 148
    assert figures["connections.avg_days"] == 3.76
    assert figures["cases.letters_issued"] == 21
    assert len(orders) - 1 == 148
    assert len(cases) - 1 == 21


def test_the_integration_workbook_carries_the_figures_and_no_names(client, api_headers, published_year):
    with client.get("/api/v1/reports/summary.xlsx", query_string=YEAR, headers=api_headers()) as response:
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["汇总"]
    rows = list(book.worksheets[0].values)
    figures = {row[1]: row[2] for row in rows[1:]}
    assert figures["connections.count"] == 148
    assert figures["penalties.person_times"] == 9
    cells = " ".join(str(value) for row in rows for value in row if value is not None)
    assert not re.search(r"小微企业\d{4}|员工\d", cells)  # no customer, no penalised person


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"from": "2022-02-30", "to": "2022-03-01"}, 400, "from"),
        ({"from": "2022-01-01", "to": "31/12/2022"}, 400, "to"),
        ({"from": "20220101"}, 400, "from"),
        ({"from": "2022-12-31", "to": "2022-01-01"}, 422, "from"),
        ({**YEAR, "customer_type": "vip"}, 400, "customer_type"),
        ({**YEAR, "service_center": "长" * 51}, 400, "service_center"),
    ],
)
@pytest.mark.parametrize("path", ROUTES)
def test_bad_parameters_are_named(client, api_headers, path, query, status, field):
    response = client.get(path, query_string=query, headers=api_headers("supervisor"))
    assert response.status_code == status
    assert response.json["error"]["details"][0]["field"] == field


def test_without_dates_the_month_so_far_is_reported(client, api_headers):
    body = client.get("/api/v1/reports/summary", headers=api_headers()).json
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-27"}
