"""The three ledgers as supervisors keep them: the pages, putting orders on and off, the history."""

import re

from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select

from callback.extensions import db
from callback.models import AuditEvent, WorkOrder
from tests.factories import store_order
from tests.web.test_cases_pages import english, hand_case


def ledger_of(order_no: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(WorkOrder.ledger).where(WorkOrder.order_no == order_no))


def test_the_ledgers_page_counts_each_ledger(client: FlaskClient, login) -> None:
    store_order("GD-1", ledger="connect_first")
    store_order("GD-2", ledger="connect_first", status="connected", connected_at="2026-11-25T10:00:00")
    store_order("GD-3", ledger="pre_advanced")
    login("supervisor")
    page = client.get("/ledgers/").text
    totals = dict(
        re.findall(r'data-ledger="([a-z_]+)">.*?class="display-6 mb-0 ledger-total">(\d+)<', page, re.S)
    )
    assert totals == {"connect_first": "2", "in_transit": "0", "pre_advanced": "1"}
    assert 'href="/ledgers/in_transit"' in page


def test_a_ledger_lists_its_orders_with_stage_days_and_open_cases(client: FlaskClient, login) -> None:
    store_order("GD-ON", ledger="in_transit")
    hand_case("GD-ON", "other", new_order=False)
    store_order("GD-OFF")
    login("supervisor")
    page = client.get("/ledgers/in_transit").text
    row = re.search(r'<tr[^>]*data-order="GD-ON">.*?</tr>', page, re.S).group(0)
    assert "GD-OFF" not in page
    assert "2026-12-03 17:00" in row  # the system's due date
    cells = re.findall(r'<td class="text-end">\s*(?:<a[^>]*>)?([\d.]+)', row)
    # Accepted Monday 23 November 09:30, now Friday 27 November 10:00: 4 calendar days,
    # and 4.0 working days (14.5 h + 3 days + 10 h).
    assert cells == ["4", "4.0", "1"]
    assert client.get("/ledgers/nowhere").status_code == 404


def test_put_on_and_take_off_with_a_note_appears_in_the_history(client: FlaskClient, login) -> None:
    store_order("GD-MOVE")
    user = login("supervisor")
    response = client.post(
        "/ledgers/set",
        data={
            "order_no": "GD-MOVE",
            "ledger": "connect_first",
            "note": "客户急需用电，先行接入",
            "next": "/ledgers/connect_first",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/ledgers/connect_first"
    assert ledger_of("GD-MOVE") == "connect_first"
    page = client.get("/ledgers/connect_first").text
    assert "GD-MOVE" in page and "客户急需用电，先行接入" in page and user.username in page

    response = client.post(
        "/ledgers/set",
        data={"order_no": "GD-MOVE", "ledger": "none", "note": "改造完成", "next": "/orders/GD-MOVE"},
    )
    assert response.headers["Location"] == "/orders/GD-MOVE"
    assert ledger_of("GD-MOVE") is None
    order_page = client.get("/orders/GD-MOVE").text
    assert order_page.index("改造完成") < order_page.index("客户急需用电，先行接入")  # newest first
    assert 'id="ledger-history-heading"' in order_page


def test_bad_ledger_input_says_what_is_wrong_and_changes_nothing(client: FlaskClient, login) -> None:
    store_order("GD-STAY")
    login("supervisor")
    english(client)
    for data, message in (
        ({"order_no": "GD-STAY", "ledger": "connect_first", "note": ""}, "This field is required."),
        (
            {"order_no": "GD-NONE", "ledger": "connect_first", "note": "说明"},
            "No work order has this number.",
        ),
        ({"order_no": "GD-STAY", "ledger": "elsewhere", "note": "说明"}, "Choose a ledger."),
        ({"order_no": "GD-STAY", "ledger": "none", "note": "说明"}, "The order is already there."),
        ({"order_no": "GD-STAY", "ledger": "", "note": "说明"}, "to take the order off its ledger"),
    ):
        response = client.post(
            "/ledgers/set", data={**data, "next": "https://evil.example/"}, follow_redirects=True
        )
        assert response.request.path == "/ledgers/"  # only local pages to go back to
        assert message in response.text, data
    assert ledger_of("GD-STAY") is None
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "order.ledger")
        )
        == 0
    )


def test_export_links_appear_once_the_reports_export_exists(client: FlaskClient, login, app) -> None:
    login("supervisor")
    page = client.get("/ledgers/pre_advanced").text
    if "reports.export" not in app.view_functions:
        assert "ledger.xlsx" not in page
        return
    with app.test_request_context():
        csv_url, xlsx_url = (url_for("reports.export", dataset="ledger", fmt=fmt) for fmt in ("csv", "xlsx"))
    # One form: the ledger as a hidden field, CSV as its action, XLSX as the other button's formaction.
    assert f'action="{csv_url}"' in page
    assert f'formaction="{xlsx_url}"' in page
    assert '<input type="hidden" name="ledger" value="pre_advanced">' in page
    assert 'name="full_numbers"' in page  # a supervisor may ask for full numbers
