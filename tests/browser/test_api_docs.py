"""The integrators' API page renders the description, Chinese examples included, under the CSP (browser)."""

from playwright.sync_api import Page

from tests.browser.test_content_security_policy import LISTEN


def test_the_api_page_renders_operations_and_chinese_examples_without_csp_errors(page: Page):
    errors: list[str] = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        # The browser's own favicon request is no page's doing (the app has no favicon).
        lambda message: errors.append(message.text)
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")
        else None,
    )
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    response = page.goto("/api/docs")
    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    page.get_by_text("callback REST API v1 (供电服务回访)").wait_for()
    # The tags carry the Chinese names; opening the batch upsert shows its Chinese example body.
    assert page.get_by_text("工单 (contract 4.1)").first.is_visible()
    page.get_by_text("Create or update a batch of orders (at most 1000)").click()
    page.get_by_text("张三五金店").first.wait_for()
    assert page.get_by_text("李四便利店").first.is_visible()
    # The responses list the contract's error answers.
    assert page.get_by_text("Too many items or too large a body.").first.is_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []
    assert errors == []
