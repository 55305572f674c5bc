"""A customer calls in: the operator searches the number, reads the history, takes the callback (browser)."""

import os
import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from callback.extensions import db
from callback.models import AuditEvent, CallbackTask, TaskState
from callback.worklist import claim_next, record_attempt
from tests.conftest import PASSWORD, TEST_NOW
from tests.factories import store_order

SCREENSHOTS = os.environ.get("CALLBACK_SCREENSHOT_DIR")


def snap(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str) -> None:
    page.goto("/operator/mine")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url("**/operator/mine")


def test_search_by_phone_then_history_then_claim(page: Page, make_user, settings):
    colleague = make_user("zhao", "operator")
    make_user("chen", "operator")
    earlier = TEST_NOW - timedelta(days=1)
    # Yesterday a colleague reached the customer, who asked to be called back in an hour and never was.
    store_order("GD-SEARCH-1", now=earlier, customer_name="明珠餐馆", customer_phone="15123940550")
    store_order("GD-OTHER-9", customer_phone="13800138000")  # more urgent for "next": not this one
    task = claim_next(db.session, colleague.id, now=earlier, settings=settings)
    record_attempt(
        db.session,
        task.id,
        colleague.id,
        disposition="callback_requested",
        answers=None,
        callback_at=(earlier + timedelta(hours=1)).isoformat(),
        note="客户在外地，明天回来",
        now=earlier,
        settings=settings,
    )
    db.session.commit()

    sign_in(page, "chen")
    expect(page.locator('[data-figures="today"] [data-figure="calls"]')).to_have_text("0")
    snap(page, "search-0-my-work")

    box = page.get_by_placeholder("电话、工单号、名称、地址")
    box.fill("151 2394 0550")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    orders = page.locator('[data-group="orders"]')
    expect(orders).to_contain_text("GD-SEARCH-1")
    expect(orders).to_contain_text("+86151****0550")
    expect(page.locator('[data-group="cases"]')).to_have_count(0)  # operators see no cases
    expect(page.locator('[data-group="orders"]')).not_to_contain_text("GD-OTHER-9")
    snap(page, "search-1-results")

    orders.get_by_role("link", name="GD-SEARCH-1").click()
    page.wait_for_url("**/orders/GD-SEARCH-1")
    history = page.locator("#customer-history")
    expect(history).to_contain_text("预约回访")
    expect(history).to_contain_text("zhao")
    expect(history).to_contain_text("客户在外地，明天回来")
    snap(page, "search-2-order-history")

    page.get_by_role("button", name=re.compile("领取此回访")).click()
    page.wait_for_url(re.compile(r"/operator/tasks/\d+$"))
    expect(page.locator("[data-script-greeting]")).to_contain_text("明珠餐馆")
    expect(page.locator("[data-script-greeting]")).to_contain_text("GD-SEARCH-1")
    expect(page.locator("#customer-history")).to_contain_text("客户在外地，明天回来")
    expect(page.locator("[data-call-elapsed]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    snap(page, "search-3-call-screen")

    db.session.expire_all()
    claimed = db.session.scalar(select(CallbackTask).where(CallbackTask.id == task.id))
    assert claimed.state == TaskState.CLAIMED
    assert claimed.lease_owner_id != colleague.id
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "search"))
    assert audit is not None and audit.details["query"] == "+86151****0550"


def test_my_work_counts_refresh_by_themselves(page: Page, make_user, settings, app):
    make_user("chen", "operator")
    store_order("GD-COUNT-1")
    sign_in(page, "chen")
    count = page.locator('[data-kind="intake"] [data-count]')
    expect(count).to_have_text("1")
    store_order("GD-COUNT-2")
    # htmx polls every 30 s; ask it to poll now instead of waiting in the test.
    page.evaluate("htmx.ajax('GET', '/operator/counts', {target: '#queue-counts', swap: 'outerHTML'})")
    expect(count).to_have_text("2")
    assert page.locator("#queue-counts").get_attribute("hx-trigger") == "every 30s"
