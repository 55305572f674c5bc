"""Issue 12's defects where they live, in the browser: drafts, Esc, double submits, Back, charts, print."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import combinations

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import func, select

from callback.audit import Actor
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from callback.models import CallbackTask, Penalty, TaskState, WorkOrder
from tests.conftest import PASSWORD, TEST_NOW, fresh_schema, make_app
from tests.factories import order_payload, store_order
from tests.reports.published_year import build_published_year
from tests.web.test_cases_pages import hand_case, move

MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path, monkeypatch) -> Iterator[Flask]:
    """The app with CSRF protection on, as in production: an ended session makes its forms' tokens stale."""
    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def sign_in(page: Page, username: str, start: str = "/operator/") -> None:
    page.goto(start)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url(f"**{start}")


def take_next_callback(page: Page) -> None:
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/operator/tasks/\d+$"))


# --- 1: the call screen survives an ended session ------------------------------------------------


def test_a_call_typed_while_the_session_ended_is_filled_in_again_after_signing_in(
    page, make_user, settings
):
    make_user("chen", "operator")
    store_order("GD-DRAFT-1")
    sign_in(page, "chen")
    take_next_callback(page)
    call_url = page.url
    page.keyboard.press("1")  # 是: the applicant
    page.locator("#answers-applied_on").fill("2026-11-10")
    page.get_by_label("已勘查").check()
    page.locator("#answers-comment").fill("客户说早就交了材料")
    page.locator('label[for="disposition-partial"]').click()
    page.locator("#note").fill("客户很配合")

    page.context.clear_cookies()  # the session ends while the operator is on the call
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert "登录已过期" in page.locator(".flash-messages").inner_text()
    assert "请求格式不正确" not in page.content()

    page.get_by_label("用户名").fill("chen")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url(call_url)
    assert page.locator("[data-draft-restored]").is_visible()
    assert page.locator("#answers-is_applicant-true").is_checked()
    assert page.locator("#answers-applied_on").input_value() == "2026-11-10"
    assert page.locator("#answers-progress-surveyed").is_checked()
    assert page.locator("#answers-comment").input_value() == "客户说早就交了材料"
    assert page.locator("#disposition-partial").is_checked()
    assert page.locator("#note").input_value() == "客户很配合"

    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/operator/attempts/\d+$"))
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('callback-draft:'))") == []
    task = db.session.scalar(select(CallbackTask))
    db.session.refresh(task)
    assert task.state == TaskState.DONE


# --- 2: Esc on an answer leaves the form; only Esc outside it releases -------------------------------------


def test_esc_on_an_answer_does_not_release_only_esc_outside_the_form_asks(page, make_user, settings):
    make_user("chen", "operator")
    store_order("GD-ESC-1")
    sign_in(page, "chen")
    take_next_callback(page)
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.keyboard.press("1")  # answer the first question; focus moves on to the next answer
    page.locator("#answers-is_applicant-true").focus()
    page.keyboard.press("Escape")  # on an answer: leave the form, ask nothing
    assert asked == []
    assert page.evaluate("document.activeElement === document.body")
    page.locator('label[for="disposition-busy"]').click()
    page.keyboard.press("Escape")  # on an outcome button, still inside the form
    assert asked == []
    page.keyboard.press("Escape")  # outside the form now: put back in the queue? (dismissed)
    assert asked == ["把这个回访放回队列？"]
    assert re.search(r"/operator/tasks/\d+$", page.url)  # dismissed: still on the call
    assert db.session.scalar(select(CallbackTask)).state == TaskState.CLAIMED


def test_operator_and_case_pages_share_one_shortcut_module(page, make_user, settings):
    make_user("lin", "supervisor")
    case = hand_case()
    sign_in(page, "lin", start=f"/cases/{case.id}")
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.getAttribute('src'))")
    assert "/static/shortcuts.js" in scripts
    page.keyboard.press("?")
    assert "shortcut-help-open" in page.locator("#shortcut-help").get_attribute("class")
    page.locator("#transition-form textarea, #transition-form input[name=note]").first.focus()
    page.keyboard.press("i")  # typed into the note: not a shortcut
    assert page.locator("#case-state").inner_text().strip() == "待处理"
    page.keyboard.press("Escape")  # leave the field
    page.keyboard.press("i")  # now: investigate
    page.wait_for_load_state()
    page.locator("#case-state").get_by_text("调查中").wait_for()


# --- 6: a double click records one penalty -----------------------------------------------------------------


def test_a_penalty_form_on_its_way_cannot_be_sent_again(page, make_user):
    make_user("lin", "supervisor")
    case = hand_case()
    move(case, "investigating", "letter_issued")
    sign_in(page, "lin", start=f"/cases/{case.id}")
    form = page.locator("#penalty-form")
    form.locator("input[name=person]").fill("王磊")
    form.locator("input[name=amount_yuan]").fill("200")
    form.locator("textarea[name=reason]").fill("柜门未关")
    # First the browser: once the form is on its way (here the server answers 204, so the page stays), its
    # button is disabled and a second submit of the form is stopped.
    sent = []

    def no_content(route) -> None:
        sent.append(route.request.url)
        route.fulfill(status=204)

    page.route("**/penalties", no_content)
    button = form.get_by_role("button")
    button.click()
    page.wait_for_function("() => document.querySelector('#penalty-form button').disabled")
    second = page.evaluate(
        """() => {
          const form = document.getElementById('penalty-form');
          let prevented = null;
          window.addEventListener('submit', e => { prevented = e.defaultPrevented; }, {once: true});
          form.requestSubmit();
          return prevented;
        }"""
    )
    assert second is True
    assert len(sent) == 1
    # (The server records one penalty for a form sent twice all the same: tests/web/test_desk_pages.py.)
    assert db.session.scalar(select(func.count()).select_from(Penalty)) == 0


# --- 10, 12, 13: Back after saving, the window and lateness, the number stays shown ----------------------


def test_the_call_screen_shows_its_window_keeps_the_number_and_back_shows_the_result(
    page, make_user, settings
):
    make_user("chen", "operator")
    # Seen on Monday 23 November: its intake window (one working day) ended on Tuesday the 24th.
    valid = validate_order(order_payload("GD-BACK-1"), settings.tz, TEST_NOW)
    upsert_orders(db.session, [valid], now=MONDAY, settings=settings, actor=Actor(source="test"))
    db.session.commit()
    sign_in(page, "chen")
    take_next_callback(page)
    call_url = page.url
    window = page.locator("[data-callback-window]").inner_text()
    assert "2026-11-24" in window
    assert page.locator("[data-late]").inner_text() == "已超时 3 天"

    page.keyboard.press("r")
    page.locator("[data-phone-revealed]").wait_for()
    page.reload()
    assert page.locator("[data-phone-revealed]").inner_text() == "+8613800138000"  # still shown

    page.locator('label[for="disposition-completed"]').click()
    page.keyboard.press("Control+Enter")  # completed without the required answers: refused, 422
    page.locator("[data-form-errors]").wait_for()
    assert page.locator("[data-phone-revealed]").is_visible()

    page.goto(call_url)  # as the operator would come back to it (a POST page is not one to go back to)
    page.locator('label[for="disposition-no_answer"]').click()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/operator/attempts/\d+$"))
    result_url = page.url
    page.go_back()
    page.wait_for_url(result_url)
    assert "已经保存" in page.locator(".flash-messages").inner_text()
    assert "409" not in page.title()


# --- 14: legends never cover the axis names ----------------------------------------------------------------

# The texts drawn in each chart's top band (legend, axis names, top tick labels) that can be seen: a text
# clipped away (a scrolling legend's other pages) is not where the point at its centre hits.
TOP_TEXTS = """
els => els.map(chart => {
  chart.scrollIntoView({block: 'center', behavior: 'instant'});
  const top = chart.getBoundingClientRect().top;
  return {id: chart.id, texts: Array.from(chart.querySelectorAll('svg text')).map(t => {
    const r = t.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const seen = Boolean(hit) && (hit === t || t.contains(hit));
    return {text: t.textContent, x: r.left, y: r.top - top, w: r.width, h: r.height, seen: seen};
  }).filter(r => r.w > 0 && r.h > 0 && r.y < 90 && r.seen)};
})
"""


def overlapping(a: dict, b: dict) -> bool:
    across = a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
    return across and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


@pytest.mark.parametrize("width", [1440, 390])
def test_chart_legends_leave_the_axis_names_readable(page, make_user, settings, width):
    build_published_year(db.session, settings)
    db.session.commit()
    make_user("lin", "supervisor")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "lin", start="/reports/?from=2022-01-01&to=2022-12-31")
    page.locator('#charts[data-loaded="true"]').wait_for()
    measured = page.eval_on_selector_all(".report-chart", TOP_TEXTS)
    charts = {chart["id"]: chart["texts"] for chart in measured}
    connections = [t["text"] for t in charts["chart-connections"]]
    assert "天数" in connections or "天" in connections, connections  # the axis name is drawn
    for chart_id, texts in charts.items():
        for a, b in combinations(texts, 2):
            assert not overlapping(a, b), (chart_id, width, a, b)


# --- 16 and 19: the monthly summary prints on A4 with Chinese faces ------------------------------


def test_the_monthly_summary_prints_on_a4_with_chinese_fonts(page, make_user, settings):
    build_published_year(db.session, settings)
    db.session.commit()
    make_user("lin", "supervisor")
    sign_in(page, "lin", start="/reports/monthly?from=2022-01-01&to=2022-12-31")
    pdf = page.pdf(prefer_css_page_size=True)
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    width, height = float(box.group(1)), float(box.group(2))
    assert abs(width - 595) < 2 and abs(height - 842) < 2  # A4 portrait, in points
    assert re.search(rb"Noto(Sans|Serif)CJK", pdf), "Chinese needs fonts-noto-cjk to print"


# --- 9: taking an order off its ledger is a choice that asks first -----------------------------------------


def test_taking_an_order_off_its_ledger_asks_first(page, make_user, settings):
    store_order("GD-LEDGER-1", ledger="in_transit")
    make_user("lin", "supervisor")
    sign_in(page, "lin", start="/orders/GD-LEDGER-1")
    form = page.locator("#order-ledger-form")
    assert form.locator("select").input_value() == ""  # nothing chosen for the user
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    form.locator("select").select_option("none")
    form.locator("input[name=note]").fill("误操作测试")
    with page.expect_event("dialog"):
        form.get_by_role("button").click()
    assert asked == ["确定将此工单移出台账吗？"]
    db.session.expire_all()
    ledger = db.session.scalar(select(WorkOrder.ledger).where(WorkOrder.order_no == "GD-LEDGER-1"))
    assert ledger == "in_transit"
