"""The case desk and the bell in the browser (issue 12): a notification from `tick` in the bell and at a
local fake WeCom robot once; bulk assign; attachment upload and view."""

import io
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from callback.cases import assign
from callback.extensions import db
from callback.models import AuditEvent, CaseAttachment, Notification, SupervisionCase
from tests.conftest import PASSWORD, fresh_schema, make_app
from tests.notifications.fakes import FakeWeCom, fake_wecom
from tests.web.test_cases_pages import NOW, SYSTEM, hand_case


@pytest.fixture
def wecom() -> Iterator[FakeWeCom]:
    with fake_wecom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, monkeypatch, wecom: FakeWeCom) -> Iterator[Flask]:
    app = make_app(tmp_path, monkeypatch, WECOM_WEBHOOK_URL=wecom.url)
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.locator("nav.app-navbar")).to_contain_text(username)


def test_a_notification_raised_by_tick_rings_the_bell_and_reaches_wecom_once(
    page: Page, make_user, runner, wecom: FakeWeCom
) -> None:
    lin = make_user("lin", "supervisor")
    late = hand_case("GD-BELL-LATE", opened=NOW - timedelta(days=40))
    assign(db.session, late.id, assignee_id=lin.id, now=NOW - timedelta(days=39), actor=SYSTEM)
    db.session.commit()
    db.session.execute(delete(Notification))
    db.session.commit()  # start from an empty bell: only tick's notification counts here

    for _ in range(2):  # tick twice: the second run raises and sends nothing new
        result = runner.invoke(args=["tick", "--now", NOW.isoformat()])
        assert result.exit_code == 0, result.output

    sign_in(page, "lin")
    expect(page.locator("#bell-count")).to_contain_text("1")
    page.locator("#bell").click()
    item = page.locator(".notification-list li.unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("GD-BELL-LATE")
    item.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/cases/{late.id}$"))
    expect(page.locator("#bell-count")).to_have_count(0)

    about_case = [m for m in wecom.received if "GD-BELL-LATE" in m["markdown"]["content"]]
    contents = [m["markdown"]["content"] for m in about_case]
    assert len(contents) == len(set(contents)) == 2  # the centre-head and office rungs, once each
    assert all("宏达五金店" not in content for content in contents)


def test_a_supervisor_assigns_several_cases_at_once(page: Page, make_user) -> None:
    make_user("lin", "supervisor")
    zhao = make_user("zhao", "supervisor")
    picked = [hand_case(f"GD-PICK-{n}") for n in range(2)]
    left = hand_case("GD-LEFT")

    sign_in(page, "lin")
    page.goto("/cases/")
    for case in picked:
        page.locator(f'tr[data-case-id="{case.id}"] input.case-select').check()
    expect(page.locator("#bulk-count")).to_have_text("2")
    page.locator("#bulk-action").select_option("assign")
    expect(page.locator("#bulk-assignee")).to_be_visible()
    expect(page.locator("#bulk-to")).to_be_hidden()
    page.locator("#bulk-assignee").select_option(str(zhao.id))
    page.locator("#bulk-submit").click()

    results = page.locator("tr.bulk-result.ok")
    expect(results).to_have_count(2)
    db.session.expire_all()
    assert [db.session.get(SupervisionCase, c.id).assignee_id for c in picked] == [zhao.id, zhao.id]
    assert db.session.get(SupervisionCase, left.id).assignee_id is None

    # Select all on the page, then nothing happens without an action: the browser asks for one.
    page.goto("/cases/")
    page.locator("#select-all").check()
    expect(page.locator("#bulk-count")).to_have_text("3")


def test_a_site_photo_and_a_scanned_report_are_attached_and_viewed(page: Page, make_user, tmp_path) -> None:
    make_user("lin", "supervisor")
    case = hand_case("GD-PHOTO")
    picture = tmp_path / "现场.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (30, 120, 200)).save(buffer, "JPEG")
    picture.write_bytes(buffer.getvalue())
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(b"%PDF-1.4\n%%EOF\n")
    fake = tmp_path / "virus.jpg"
    fake.write_bytes(b"MZ\x90\x00 not an image")

    sign_in(page, "lin")
    page.goto(f"/cases/{case.id}")
    for path in (picture, report):
        page.locator("#attachment-file").set_input_files(str(path))
        page.locator("#attachment-submit").click()
        expect(page.locator(".alert-success")).to_contain_text(path.name)
    page.locator("#attachment-file").set_input_files(str(fake))
    page.locator("#attachment-submit").click()
    expect(page.locator(".alert-danger")).to_be_visible()

    thumbnail = page.locator("img.attachment-thumb")
    expect(thumbnail).to_have_count(1)
    expect(thumbnail).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.attachment-thumb').naturalWidth > 0")
    assert page.evaluate("document.querySelector('img.attachment-thumb').naturalWidth") <= 320
    expect(page.locator(".attachment")).to_have_count(2)

    with page.context.expect_page() as opened:
        thumbnail.click()
    photo_tab = opened.value
    photo_tab.wait_for_load_state()
    assert photo_tab.evaluate("document.images[0].naturalWidth") == 1600
    photo_tab.close()

    stored = db.session.scalars(select(CaseAttachment).order_by(CaseAttachment.id)).all()
    assert [a.content_type for a in stored] == ["image/jpeg", "application/pdf"]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("attachment.%"))
    ).all()
    assert {"attachment.added", "attachment.thumbnail", "attachment.viewed"} <= set(actions)
