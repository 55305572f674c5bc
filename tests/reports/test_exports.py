"""Exports: formula injection neutralised, CSV with BOM, XLSX that opens, filters respected."""

import csv
import io

import pytest
from openpyxl import load_workbook

from callback.reports.exports import neutralise

HOSTILE = {
    "order_no": "INJ-1",
    "customer_name": "=1+1",
    "account_manager": "-5",
    "address": "@SUM(A1:A9)",
    "customer_phone": "13800138000",  # stored as +8613800138000
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800138000", "'+8613800138000"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("宏达五金店", "宏达五金店"),
        (-5, -5),
        (None, None),
    ],
)
def test_neutralise_prefixes_only_text_a_spreadsheet_would_run(value, expected):
    assert neutralise(value) == expected


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_csv_export_neutralises_formulas_and_keeps_chinese(client, login, add_orders):
    add_orders(HOSTILE, {"order_no": "OK-1"})
    login("supervisor")
    response = client.get("/reports/exports/orders.csv?full_numbers=1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="orders.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    by_no = {row[0]: row for row in rows[1:]}
    hostile = by_no["INJ-1"]
    assert hostile[1:4] == ["'=1+1", "'+8613800138000", "'@SUM(A1:A9)"]
    assert hostile[6] == "'-5"
    assert by_no["OK-1"][1] == "宏达五金店"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_an_xlsx_export_has_no_formula_cells(client, login, add_orders):
    add_orders(HOSTILE)
    login("admin")
    with client.get("/reports/exports/orders.xlsx?full_numbers=1") as response:
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    # Text cells keep their characters (no apostrophe), typed as text and quote-prefixed for editing.
    hostile = {cell.value: cell for cell in cells if isinstance(cell.value, str)}
    for text in ("=1+1", "-5", "@SUM(A1:A9)", "+8613800138000"):
        assert hostile[text].data_type == "s"
        assert hostile[text].quotePrefix


def test_exports_respect_the_filters(client, login, add_orders):
    add_orders(
        {"order_no": "A-1", "service_center": "城关供电服务中心", "accepted_at": "2026-11-02T09:00:00"},
        {"order_no": "A-2", "service_center": "东城供电服务中心", "accepted_at": "2026-11-02T09:00:00"},
        {"order_no": "A-3", "service_center": "城关供电服务中心", "accepted_at": "2026-10-30T09:00:00"},
        {"order_no": "L-1", "service_center": "西城供电服务中心", "ledger": "in_transit"},
        {"order_no": "L-2", "service_center": "西城供电服务中心", "ledger": "connect_first"},
    )
    login("supervisor")
    rows = read_csv(
        client.get(
            "/reports/exports/orders.csv",
            query_string={"from": "2026-11-01", "to": "2026-11-30", "service_center": "城关供电服务中心"},
        )
    )
    assert [row[0] for row in rows[1:]] == ["A-1"]
    ledger = read_csv(client.get("/reports/exports/ledger.csv", query_string={"ledger": "in_transit"}))
    assert [row[0] for row in ledger[1:]] == ["L-1"]
    tasks = read_csv(
        client.get("/reports/exports/tasks.csv", query_string={"service_center": "东城供电服务中心"})
    )
    assert [row[1] for row in tasks[1:]] == ["A-2"]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/reports/exports/orders.csv", {"from": "2026-02-30"}, "from"),
        ("/reports/exports/orders.xlsx", {"to": "soon"}, "to"),
        ("/reports/exports/ledger.csv", {"ledger": "elsewhere"}, "ledger"),
        ("/reports/exports/cases.csv", {"state": "lost"}, "state"),
        ("/reports/exports/orders.csv", {"customer_type": "vip"}, "customer_type"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(client, login, path, query, field):
    login("supervisor")
    response = client.get(path, query_string=query)
    assert response.status_code == 400
    assert field in response.text


def test_an_unknown_dataset_or_format_is_404(client, login):
    login("supervisor")
    assert client.get("/reports/exports/users.csv").status_code == 404
    assert client.get("/reports/exports/orders.pdf").status_code == 404


def test_attempt_exports_carry_one_column_per_question(client, login, add_orders, settings, make_user):
    from callback.extensions import db
    from callback.worklist import claim_next, record_attempt
    from tests.conftest import TEST_NOW

    add_orders({"order_no": "Q-1"})
    operator = make_user("caller", "operator")
    task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
    record_attempt(
        db.session,
        task.id,
        operator.id,
        disposition="completed",
        answers={"progress": "none", "satisfaction": 4, "comment": '=HYPERLINK("http://x")'},
        callback_at=None,
        note=None,
        now=TEST_NOW,
        settings=settings,
    )
    db.session.commit()
    login("supervisor")
    header, row = read_csv(client.get("/reports/exports/attempts.csv"))
    answers = dict(zip(header, row, strict=True))
    assert answers["满意度"] == "4"
    assert answers["其他意见"] == '\'=HYPERLINK("http://x")'
