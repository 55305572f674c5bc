"""The reports pages: roles, dashboard and chart data, the monthly summary, the lists behind charts."""

import html
import io
import json
import re

import pytest
from openpyxl import load_workbook

from callback.extensions import db
from tests.factories import store_order
from tests.reports.published_year import build_published_year

YEAR = {"from": "2022-01-01", "to": "2022-12-31"}
PAGES = [
    "/reports/",
    "/reports/charts.json",
    "/reports/monthly",
    "/reports/monthly.xlsx",
    "/reports/connections",
    "/reports/rows/orders",
    "/reports/exports/orders.csv",
    "/reports/exports/cases.xlsx",
]


@pytest.fixture
def published_year(app, settings):
    build_published_year(db.session, settings)
    db.session.commit()


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["operator", "discipline", "integration"])
def test_other_roles_may_not_see_reports(client, login, path, role):
    login(role)
    with client.get(path) as response:
        assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_reports(client, login, path, role):
    login(role)
    with client.get(path) as response:  # closing it closes a streamed file
        assert response.status_code == 200


def test_the_dashboard_shows_the_published_year(client, login, published_year):
    login("supervisor")
    page = client.get("/reports/", query_string=YEAR).text
    assert 'id="kpi-connections"' in page
    assert ">148</a>" in page
    assert "3.76" in page
    assert "vendor/echarts/echarts.min.js" in page
    assert "reports.js" in page


def test_the_monthly_summary_reads_like_the_utility_report(client, login, published_year):
    login("supervisor")
    client.post("/language/en", data={"next": "/reports/monthly"})
    page = client.get("/reports/monthly", query_string=YEAR).text
    assert (
        "This year 148 small and micro enterprises were connected, on average in 3.76 days; "
        "with external works 67 (45.3%), on average 4.88 days; "
        "without external works 81 (54.7%), on average 2.83 days; 0 orders overtime; "
        "21 supervision letters issued, of which Off-line circulation 2, Meter installed without notice 4"
    ) in page
    assert "9 person-times penalised, 1590 yuan." in page
    assert 'data-key="cases.letters_by_category.cabinet_door_open">1<' in page


def test_the_monthly_workbook_has_the_summary_and_the_rows_behind_it(client, login, published_year):
    login("admin")
    with client.get("/reports/monthly.xlsx", query_string=YEAR) as response:
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data), read_only=True)
    summary, orders, cases, penalties = (list(sheet.values) for sheet in book.worksheets[:4])
    values = {row[0]: row[1] for row in summary[1:]}
    assert values["接电户数"] == 148
    assert values["有外部工程平均天数"] == 4.88
    assert values["考核金额（元）"] == 1590
    assert len(orders) == 1 + 148
    assert len(cases) == 1 + 21
    assert len(penalties) == 1 + 9


def test_chart_data_links_each_element_to_its_list(client, login, published_year):
    login("supervisor")
    data = client.get("/reports/charts.json", query_string=YEAR).json
    assert data["connections"]["months"][0] == "2022-01"
    assert sum(data["connections"]["with_count"]) == 67
    assert sum(data["connections"]["without_count"]) == 81
    january_with = data["connections"]["links"]["with"][0]
    listed = client.get(january_with).text
    assert "GD-2022-0001" in listed
    assert {row["service_center"] for row in data["gap"]} == {
        "城关供电服务中心",
        "开发区供电服务中心",
        "东城供电服务中心",
    }
    assert sum(row["person_times"] for row in data["penalties"]) == 9
    penalised = client.get(data["penalties"][0]["link"])
    assert penalised.status_code == 200


def test_the_dashboard_carries_the_chart_data_of_its_filters(client, login, published_year):
    login("supervisor")
    page = client.get("/reports/", query_string=YEAR).text
    carried = re.search(r"data-charts='([^']*)'", page)
    assert carried is not None
    assert (
        json.loads(html.unescape(carried.group(1)))
        == client.get("/reports/charts.json", query_string=YEAR).json
    )


def test_the_filters_offer_each_centre_and_manager_once_in_order(client, login):
    for n, (center, manager) in enumerate(
        [
            ("城关供电服务中心", "经理乙"),
            ("东城供电服务中心", None),
            ("城关供电服务中心", "经理甲"),
            ("东城供电服务中心", "经理乙"),
        ],
        start=1,
    ):
        store_order(order_no=f"GD-2026-000{n}", service_center=center, account_manager=manager)
    login("supervisor")
    page = client.get("/reports/").text

    def options(select_id: str) -> list[str]:
        start = page.index(f'id="{select_id}"')
        return re.findall(r'<option value="([^"]+)"', page[start : page.index("</select>", start)])

    assert options("filter-center") == sorted({"城关供电服务中心", "东城供电服务中心"})
    assert options("filter-manager") == sorted({"经理甲", "经理乙"})


def test_bad_chart_filters_answer_400_naming_the_parameter(client, login):
    login("supervisor")
    response = client.get("/reports/charts.json", query_string={"from": "2022-13-01"})
    assert response.status_code == 400
    assert response.json["error"]["details"][0]["field"] == "from"
    assert (
        client.get(
            "/reports/charts.json", query_string={"from": "2022-02-01", "to": "2022-01-01"}
        ).status_code
        == 422
    )


def test_a_bad_filter_on_a_page_is_explained_not_a_failure(client, login):
    login("supervisor")
    response = client.get("/reports/", query_string={"to": "yesterday"})
    assert response.status_code == 200
    assert "to: " in response.text
