"""A customer asks not to be called again; a supervisor finds the number and removes it (browser)."""

import re

from sqlalchemy import select

from callback.extensions import db
from callback.models import CallbackTask
from tests.browser.test_content_security_policy import _watch
from tests.conftest import PASSWORD
from tests.factories import store_order


def sign_in(page, username):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url("**/")


def test_the_call_screen_button_and_the_supervisors_list(page, make_user, settings):
    make_user("wang", "operator")
    make_user("lin", "supervisor")
    store_order("GD-DNC-1")
    errors = _watch(page)

    sign_in(page, "wang")
    page.goto("/operator/")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/operator/tasks/\d+$"))
    page.get_by_label("客户要求今后不再回访（备注，可选）").fill("客户明确拒绝")
    page.get_by_role("button", name="客户要求不再回访").click()
    page.wait_for_url(re.compile(r"/operator/attempts/\d+$"))
    assert "号码已列入免打扰名单" in page.content()
    db.session.expire_all()
    assert db.session.scalar(select(CallbackTask.state)) == "do_not_call"

    page.context.clear_cookies()
    sign_in(page, "lin")
    page.get_by_role("link", name="免打扰名单").click()
    page.get_by_label("搜索（号码数字或备注）").fill("138 0013")
    page.locator("#dnc-search").get_by_role("button", name="搜索").click()  # not the top bar's search
    row = page.locator("#dnc-entries tbody tr").first
    assert "+8613800138000" in row.inner_text() and "回访界面" in row.inner_text()
    row.get_by_role("button", name="移除").click()
    page.get_by_text("号码已移出免打扰名单。").wait_for()
    assert page.evaluate("window.__violations") == []
    assert errors == []
