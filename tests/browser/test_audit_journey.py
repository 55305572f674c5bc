"""A supervisor exports with full numbers; a discipline inspector finds it in the audit trail (browser)."""

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import PASSWORD
from tests.factories import store_order


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url("**/")


def test_a_full_number_export_is_found_in_the_audit_trail(page, make_user, settings, tmp_path: Path):
    make_user("lin", "supervisor")
    make_user("zhao", "discipline")
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    store_order("GD-AUDIT-1", now=now)

    sign_in(page, "lin")
    page.goto("/reports/rows/orders")
    assert "+86138****8000" in page.content()
    assert page.get_by_role("link", name="审计日志").count() == 0  # not a supervisor's page
    page.get_by_label("完整号码").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV").click()
    saved = tmp_path / "orders.csv"
    download.value.save_as(saved)
    assert "+8613800138000" in saved.read_text(encoding="utf-8-sig")
    page.get_by_role("button", name="退出").click()

    sign_in(page, "zhao")
    page.get_by_role("link", name="审计日志").click()
    page.get_by_label("操作", exact=True).fill("export")
    page.get_by_label("操作", exact=True).press("Enter")
    row = page.locator("#audit-table tbody tr").first
    row.wait_for()
    text = row.inner_text()
    assert "lin" in text and "web" in text and "127.0.0.1" in text
    assert '"full_numbers": true' in text and '"dataset": "orders"' in text
