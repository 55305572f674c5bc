"""Every rate on the dashboard, the monthly summary, its workbook and the API has n and a 95 % interval."""

import io
import re

import pytest
from openpyxl import load_workbook

from callback.extensions import db
from tests.reports.published_year import build_published_year

YEAR = {"from": "2022-01-01", "to": "2022-12-31"}


@pytest.fixture
def published_year(app, settings):
    build_published_year(db.session, settings)
    db.session.commit()


def rate_row(page: str, key: str) -> str:
    match = re.search(rf'<tr data-rate="{re.escape(key)}"[^>]*>.*?</tr>', page, re.S)
    assert match, key
    return match.group(0)


@pytest.mark.parametrize("path", ["/reports/", "/reports/monthly"])
def test_pages_show_sample_size_interval_and_the_indicative_marker(client, login, published_year, path):
    login("supervisor")
    page = client.get(path, query_string=YEAR).text
    share = rate_row(page, "connections.with_engineering.share")
    # 67 of 148 with external works: 45.3 %, Wilson 95 % interval 37.5–53.3 %, enough responses.
    assert "45.3%" in share and ">148<" in share and "37.5–53.3%" in share
    assert "indicative-marker" not in share
    callback_rate = rate_row(page, "utility.callback_rate")
    assert 'data-indicative="1"' in callback_rate and "仅供参考" in callback_rate
    assert "回访率" in callback_rate
    for name in ("RR1", "RR6", "COOP4", "REF3", "CON3"):
        assert f'data-rate="aapor.rates.{name}"' in page
    if path == "/reports/":  # the RR1 figure at the top says how little it rests on
        kpi = re.search(r'id="kpi-rr1-precision">(.*?)</div>', page, re.S).group(1)
        assert "n=0" in kpi and "仅供参考" in kpi


def test_the_summary_api_keeps_its_fields_and_adds_the_intervals(client, api_headers, published_year):
    body = client.get("/api/v1/reports/summary", query_string=YEAR, headers=api_headers("supervisor")).json
    assert body["connections"]["with_engineering"]["share"] == 0.453
    assert body["intervals"]["connections.with_engineering.share"] == {
        "value": 0.453,
        "n": 148,
        "ci95": [0.375, 0.533],
        "indicative": False,
    }
    assert body["min_sample"] == 30
    assert set(body["aapor"]["rates"]) == {
        *(f"RR{n}" for n in range(1, 7)),
        *(f"COOP{n}" for n in range(1, 5)),
        *(f"REF{n}" for n in range(1, 4)),
        *(f"CON{n}" for n in range(1, 4)),
    }
    assert set(body["utility"]) == {"callback_rate", "satisfaction_rate", "timely_rate", "by_center_month"}


def test_the_monthly_workbook_has_the_rates_and_the_rates_by_centre(client, login, published_year):
    login("admin")
    with client.get("/reports/monthly.xlsx", query_string=YEAR) as response:
        book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames[4:] == ["比率", "各中心回访指标"]
    rates = list(book.worksheets[4].values)
    assert rates[0] == ("指标", "字段名", "数值", "样本量", "下限（95%）", "上限（95%）", "备注")
    by_key = {row[1]: row for row in rates[1:]}
    assert by_key["connections.with_engineering.share"][2:7] == (0.453, 148, 0.375, 0.533, None)
    assert by_key["utility.callback_rate"][6].startswith("仅供参考")
    centres = list(book.worksheets[5].values)
    assert centres[0][:3] == ("供电服务中心", "月份", "回访率")
