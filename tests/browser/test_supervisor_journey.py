"""A supervisor works a case from the callback that found it to its close (browser)."""

import re

from playwright.sync_api import Page, expect

from callback.extensions import db
from callback.models import Penalty, SupervisionCase
from tests.conftest import PASSWORD
from tests.web.test_cases_pages import automatic_case

# The state labels in Chinese, or in English while the catalog lacks them.
INVESTIGATING = re.compile("调查中|Investigating")
LETTER_ISSUED = re.compile("已下发意见书|Letter issued")
RECTIFIED = re.compile("已整改|Rectified")
CLOSED = re.compile("已办结|Closed")


def test_a_supervisor_takes_a_case_from_the_callback_to_its_close(page: Page, make_user) -> None:
    case = automatic_case(make_user)  # an operator's completed callback with an off-line application date
    make_user("lin", "supervisor")

    page.goto("/login")
    page.get_by_label("用户名").fill("lin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.goto("/cases/")
    row = page.locator(f'tr[data-case-id="{case.id}"]')
    expect(row).to_contain_text("GD-2026-0001")
    row.get_by_role("link", name=f"#{case.id}").click()

    # The evidence: the customer's application date beside the system's acceptance, both marked.
    expect(page.locator('dd.mismatch[data-field="applied_on"]')).to_contain_text("2026-11-10")
    expect(page.locator('dd.mismatch[data-field="accepted_at"]')).to_contain_text("2026-11-23 09:30")

    page.wait_for_load_state()  # the shortcuts load with the page

    page.keyboard.press("i")  # investigate, from the keyboard
    expect(page.locator("#case-state")).to_have_text(INVESTIGATING)

    page.wait_for_load_state()  # the shortcuts load with the page

    page.keyboard.press("l")  # the letter: the requirements first
    expect(page.locator("#requirements")).to_be_focused()
    page.keyboard.type("一、核实线外流转原因；二、规范受理流程。")
    page.locator("#deadline").fill("2026-12-11")
    page.locator('button[name="to"][value="letter_issued"]').click()
    expect(page.locator("#case-state")).to_have_text(LETTER_ISSUED)

    page.wait_for_load_state()  # the shortcuts load with the page

    page.keyboard.press("p")  # the letter to print
    expect(page.locator(".letter-no")).to_contain_text("JD-2026-0001")
    expect(page.locator(".letter-addressee")).to_contain_text("城关供电服务中心")
    expect(page.locator(".letter-requirements")).to_contain_text("规范受理流程")
    expect(page.locator(".letter-toolbar")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".letter-toolbar")).to_be_hidden()
    page.emulate_media(media="screen")
    page.locator(".letter-toolbar a").click()

    page.locator("#person").fill("张三")
    page.locator("#amount_yuan").fill("200")
    page.locator("#penalty-form #reason").fill("受理不规范")
    page.locator("#penalty-form button[type=submit]").click()
    expect(page.locator("table.penalties")).to_contain_text("张三")
    expect(page.locator("table.penalties")).to_contain_text("200.00")

    page.locator('button[name="to"][value="rectified"]').click()
    expect(page.locator("#case-state")).to_have_text(RECTIFIED)

    page.wait_for_load_state()  # the shortcuts load with the page

    page.keyboard.press("c")  # closing needs a note: the key goes to the note first
    expect(page.locator("#note")).to_be_focused()
    page.keyboard.type("已整改到位，办结")
    page.locator('button[name="to"][value="closed"]').click()
    expect(page.locator("#case-state")).to_have_text(CLOSED)
    expect(page.locator("table.case-history")).to_contain_text("已整改到位，办结")

    db.session.expire_all()
    stored = db.session.get(SupervisionCase, case.id)
    assert (stored.state, stored.letter_no) == ("closed", "JD-2026-0001")
    assert db.session.query(Penalty).count() == 1
