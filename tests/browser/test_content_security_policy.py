"""Every main page works under the Content-Security-Policy: the browser reports no violation (browser)."""

import re

from playwright.sync_api import Page
from sqlalchemy import select

from callback.demo import DEMO_PASSWORD, seed_demo
from callback.extensions import db
from callback.models import SupervisionCase, User, WorkOrder
from tests.conftest import TEST_NOW

# Collect violations the page itself sees (CSP reports them as events as well as console errors).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " "
    + (event.sourceFile || "") + ":" + event.lineNumber);
});
"""


def _watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.add_init_script(LISTEN)

    def on_console(message) -> None:
        # The browser's own favicon request is no page's doing (the app has no favicon).
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


def _visit(page: Page, path: str, errors: list[str]) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__violations")
    assert violations == [], (path, violations)
    assert errors == [], (path, errors)


def test_the_main_pages_raise_no_csp_violation_or_script_error(page, settings):
    seed_demo(db.session, now=TEST_NOW, settings=settings)
    db.session.commit()
    order = db.session.scalars(select(WorkOrder.order_no).order_by(WorkOrder.id)).first()
    case_id = db.session.scalars(select(SupervisionCase.id).order_by(SupervisionCase.id)).first()
    operator_id = db.session.scalar(select(User.id).where(User.username == "operator"))
    errors = _watch(page)

    _visit(page, "/login", errors)
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url("**/")

    for path in (
        "/",
        f"/orders/{order}",
        "/operator/",
        "/cases/",
        f"/cases/{case_id}",
        f"/cases/{case_id}/letter",
        "/ledgers/",
        "/ledgers/connect_first",
        "/reports/monthly?from=2026-11-01&to=2026-11-30",
        "/admin/",
        f"/admin/users/{operator_id}",
        "/account/password",
        "/notifications/",
        "/notifications/outbox",
    ):
        _visit(page, path, errors)

    # The dashboard draws its charts and shows a tooltip on hover without breaking the policy.
    _visit(page, "/reports/?from=2026-11-01&to=2026-11-30", errors)
    page.locator("#charts[data-loaded=true]").wait_for()
    chart = page.locator(".report-chart svg").first  # SVG renderer (issue 12, defect 14)
    box = chart.bounding_box()
    assert box is not None and box["height"] > 200  # the chart's height comes from the stylesheet now
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__violations") == []
    assert errors == []

    # The operator's call screen, with htmx revealing the number.
    page.goto("/operator/")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"/operator/tasks/\d+$"))
    page.keyboard.press("r")
    page.locator("[data-phone-revealed]").wait_for()
    assert page.evaluate("window.__violations") == []
    assert errors == []
