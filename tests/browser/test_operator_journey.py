"""An operator works a callback from the queue to the finding, mostly from the keyboard (browser)."""

import os
import re

from playwright.sync_api import Page
from sqlalchemy import select

from callback.extensions import db
from callback.models import AuditEvent, CallbackTask, SupervisionCase, TaskState
from tests.conftest import PASSWORD
from tests.factories import store_order

# Set to a folder to keep screenshots of each screen for a look by eye.
SCREENSHOTS = os.environ.get("CALLBACK_SCREENSHOT_DIR")


def snap(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str) -> None:
    page.goto("/operator/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url("**/operator/")


def focused_name(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


def test_operator_takes_the_next_callback_and_records_an_off_line_circulation(page, make_user, settings):
    make_user("chen", "operator")
    store_order("GD-JOURNEY-1")
    sign_in(page, "chen")
    assert page.locator('[data-kind="intake"] [data-count]').inner_text() == "1"
    snap(page, "1-queue")

    page.keyboard.press("n")  # next callback
    page.wait_for_url(re.compile(r"/operator/tasks/\d+$"))
    page.get_by_text("国网供电公司客户服务中心的回访员").wait_for()
    assert page.get_by_text("+86138****8000").is_visible()
    assert focused_name(page) == "answers-is_applicant"  # the first question has the focus

    page.keyboard.press("r")  # show the number
    page.locator("[data-phone-revealed]").wait_for()
    assert page.locator("[data-phone-revealed]").inner_text() == "+8613800138000"

    page.keyboard.press("1")  # 是: the applicant
    assert focused_name(page) == "answers-applied_on"
    page.locator("#answers-applied_on").fill("2026-11-10")  # long before the system's acceptance (11-23)
    page.keyboard.press("Enter")
    assert focused_name(page) == "answers-progress"
    page.keyboard.press("2")  # 已勘查: connected_on and meter_notified stay hidden
    assert page.locator('[data-question="connected_on"]').is_hidden()
    assert focused_name(page) == "answers-trips"
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    for answer in ("2", "2", "2"):  # no extra documents, no fee, no favours
        page.keyboard.press(answer)
    page.keyboard.press("4")  # 满意
    assert focused_name(page) == "answers-comment"
    page.keyboard.type("客户说早就交了材料")
    page.keyboard.press("Escape")  # leave the text field; Esc outside it would release
    page.keyboard.press("c")  # 完成
    assert page.locator("#disposition-completed").is_checked()
    snap(page, "2-call-screen")
    page.keyboard.press("Control+Enter")

    page.wait_for_url(re.compile(r"/operator/attempts/\d+$"))
    finding = page.locator('[data-category="offline_circulation"]')
    assert "线外流转" in finding.inner_text()
    assert "2026-11-10" in finding.inner_text()
    assert "新立案" in finding.inner_text()
    snap(page, "3-result")

    case = db.session.scalar(select(SupervisionCase).where(SupervisionCase.category == "offline_circulation"))
    assert case is not None and case.order.order_no == "GD-JOURNEY-1"
    assert f"#{case.id}" in finding.inner_text()
    task = db.session.scalar(select(CallbackTask))
    assert task.state == TaskState.DONE
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "task.phone_revealed")) is not None

    page.keyboard.press("n")  # next: the queue is empty now
    page.wait_for_url("**/operator/")
    page.get_by_text("暂无可拨打的回访").wait_for()


def test_connection_questions_appear_only_when_the_customer_has_power(page, make_user, settings):
    make_user("chen", "operator")
    store_order("GD-JOURNEY-2")
    sign_in(page, "chen")
    page.get_by_role("button", name=re.compile("下一个回访")).click()
    page.wait_for_url(re.compile(r"/operator/tasks/\d+$"))
    connected_on = page.locator('[data-question="connected_on"]')
    assert connected_on.is_hidden()

    page.get_by_label("已装表通电").check()
    assert connected_on.is_visible()
    assert page.locator('[data-question="meter_notified"]').is_visible()

    page.get_by_label("在施工").check()
    assert connected_on.is_hidden()

    page.keyboard.press("?")
    assert page.get_by_role("heading", name="快捷键").is_visible()
    page.keyboard.press("Alt+4")  # 预约回访 shows the appointment picker
    assert page.locator("#disposition-callback_requested").is_checked()
    assert page.locator("#callback_at").is_visible()
