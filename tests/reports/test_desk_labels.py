"""Issue 12, defects 3, 4, 5, 11 and 16: report lists and workbooks speak Chinese, not field names."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from callback.extensions import db
from callback.worklist import claim_next, record_attempt
from tests.conftest import TEST_NOW
from tests.reports.published_year import build_published_year

YEAR = {"from": "2022-01-01", "to": "2022-12-31"}


def record_calls(settings, make_user, *calls: tuple[str, str, dict]) -> None:
    """Record one call per (order_no, disposition, answers), each by its own operator."""
    for index, (_order_no, disposition, answers) in enumerate(calls):
        operator = make_user(f"caller{index}", "operator")
        task = claim_next(db.session, operator.id, now=TEST_NOW, settings=settings)
        record_attempt(
            db.session,
            task.id,
            operator.id,
            disposition=disposition,
            answers=answers,
            callback_at=None,
            note=None,
            now=TEST_NOW,
            settings=settings,
        )
        db.session.commit()


def table_header(page: str) -> list[str]:
    head = re.search(r"<thead.*?</thead>", page, re.S).group(0)
    return [re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(r"<th[^>]*>.*?</th>", head, re.S)]


def test_attempt_rows_name_every_column_and_answer_in_chinese(client, login, add_orders, settings, make_user):
    add_orders({"order_no": "Q-1"})
    record_calls(
        settings,
        make_user,
        ("Q-1", "completed", {"is_applicant": True, "progress": "connected", "satisfaction": 4}),
    )
    login("supervisor")
    page = client.get("/reports/rows/attempts", query_string={"customer_type": "small_micro"}).text
    header = table_header(page)
    assert "是否申请人本人" in header and "现场进展" in header and "满意度" in header
    assert not {"is_applicant", "progress", "satisfaction"} & set(header)
    body = page.split("</thead>", 1)[1]
    assert "已装表通电" in body and ">connected<" not in body
    assert "客户类别: 小微企业" in page  # the filter chip, not customer_type: small_micro
    chips = re.findall(r'class="[^"]*filter-chip">(.*?)</span>', page)
    assert chips == ["客户类别: 小微企业"]
    # Dates stay on one line.
    assert re.search(r'<td class="text-nowrap">2026-11-27 10:00</td>', body)

    rows = list(csv.reader(io.StringIO(client.get("/reports/exports/attempts.csv").text.lstrip("\ufeff"))))
    answers = dict(zip(rows[0], rows[1], strict=True))
    assert answers["现场进展"] == "已装表通电"
    assert answers["是否申请人本人"] == "是"


def test_case_columns_carry_the_cases_labels_not_the_tasks(client, login, add_orders, settings, make_user):
    add_orders({"order_no": "C-1", "accepted_at": "2026-11-10T09:00:00"})
    record_calls(settings, make_user, ("C-1", "completed", {"progress": "none", "satisfaction": 1}))
    login("supervisor")
    header = table_header(client.get("/reports/rows/cases").text)
    assert "案件状态" in header and "办理期限" in header
    assert "任务状态" not in header and "回访截止时间" not in header
    csv_header = client.get("/reports/exports/cases.csv").text.lstrip("\ufeff").splitlines()[0]
    assert "案件状态" in csv_header and "办理期限" in csv_header and "任务状态" not in csv_header


def test_the_monthly_workbook_labels_the_case_state_as_the_cases(client, login, app, settings):
    build_published_year(db.session, settings)
    db.session.commit()
    login("supervisor")
    with client.get("/reports/monthly.xlsx", query_string=YEAR) as response:
        book = load_workbook(io.BytesIO(response.data))
    cases_header = [cell.value for cell in next(book.worksheets[2].iter_rows(max_row=1))]
    assert "案件状态" in cases_header and "任务状态" not in cases_header


def test_xlsx_phone_cells_are_text_without_an_apostrophe_and_columns_have_widths(client, login, add_orders):
    add_orders({"order_no": "P-1", "customer_phone": "18911389325", "customer_name": "=1+1"})
    login("supervisor")
    with client.get("/reports/exports/orders.xlsx?full_numbers=1") as response:
        book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = {title: cell for title, cell in zip(header, sheet[2], strict=True)}
    phone = row["联系电话"]
    assert phone.value == "+8618911389325"
    assert phone.data_type == "s"
    hostile = row["客户名称"]
    assert hostile.value == "=1+1" and hostile.data_type == "s" and hostile.quotePrefix
    widths = {letter: sheet.column_dimensions[letter].width for letter in ("A", "B", "C", "D")}
    assert all(width and width >= 8 for width in widths.values()), widths
    assert widths["C"] >= len("+8618911389325")  # the phone column fits the number


@pytest.mark.parametrize(("outcome", "expected"), [("contacted", {"C-1", "C-2"}), ("completed", {"C-1"})])
def test_the_funnels_contacted_and_completed_stages_open_their_own_attempts(
    client, login, add_orders, settings, make_user, outcome, expected
):
    add_orders({"order_no": "C-1"}, {"order_no": "C-2"}, {"order_no": "C-3"})
    record_calls(
        settings,
        make_user,
        ("C-1", "completed", {"progress": "surveyed", "satisfaction": 4}),
        ("C-2", "refused", {}),
        ("C-3", "no_answer", {}),
    )
    login("supervisor")
    data = client.get("/reports/charts.json", query_string={"from": "2026-11-01", "to": "2026-11-30"}).json
    link = data["funnel"]["links"][outcome]
    page = client.get(link).text
    listed = set(re.findall(r">(C-\d)</a>", page))
    assert listed == expected
    everything = set(re.findall(r">(C-\d)</a>", client.get(data["funnel"]["links"]["attempts"]).text))
    assert everything == {"C-1", "C-2", "C-3"}
    assert client.get("/reports/rows/attempts", query_string={"outcome": "nonsense"}).status_code == 400


def test_the_monthly_summary_shows_shares_as_percentages_everywhere(client, login, app, settings):
    build_published_year(db.session, settings)
    db.session.commit()
    login("supervisor")
    page = client.get("/reports/monthly", query_string=YEAR).text
    assert 'data-figure="connections.with_engineering.share">45.3%<' in page
    assert ">0.453<" not in page
    assert "monthly.css" in page
    with client.get("/reports/monthly.xlsx", query_string=YEAR) as response:
        book = load_workbook(io.BytesIO(response.data))
    summary = book.worksheets[0]
    header = [cell.value for cell in summary[1]]
    assert header == ["指标", "数值"]  # no English key column
    cells = {row[0].value: row[1] for row in summary.iter_rows(min_row=2)}
    shares = [c for name, c in cells.items() if "外部工程" in str(name) and c.number_format == "0.0%"]
    share = shares[0]
    assert share.value == pytest.approx(0.453)
    assert not any(re.fullmatch(r"[a-z_.]+", str(cell.value)) for cell in cells.values())


def test_the_monthly_print_view_sets_a4_and_margins(client, login, app):
    login("supervisor")
    with client.get("/static/monthly.css") as response:
        css = response.text
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css)
    assert re.search(r"@page\s*{[^}]*margin:", css)
