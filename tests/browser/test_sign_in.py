"""A person signs in and sees the work orders (browser)."""

from datetime import UTC, datetime

from tests.conftest import PASSWORD
from tests.factories import store_order


def test_supervisor_signs_in_and_sees_the_order_list_in_chinese(page, make_user, settings):
    make_user("lin", "supervisor")
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    store_order("GD-BROWSER-1", now=now)

    page.goto("/")
    page.get_by_label("用户名").fill("lin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.get_by_role("link", name="GD-BROWSER-1").click()
    page.get_by_text("宏达五金店").first.wait_for()
    assert "受理" in page.content()
