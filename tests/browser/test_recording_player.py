"""The case page plays the call's recording in the browser, through the range-serving route (browser)."""

from playwright.sync_api import Page, expect
from sqlalchemy import select

from callback.extensions import db
from callback.models import AuditEvent, CallAttempt
from callback.recordings import attach_upload
from callback.recordings.audio import simulated_wav
from callback.recordings.storage import store_for
from tests.conftest import PASSWORD, TEST_NOW
from tests.web.test_cases_pages import automatic_case


def test_a_supervisor_plays_the_recording_behind_the_evidence(page: Page, make_user, app) -> None:
    case = automatic_case(make_user)
    attempt = db.session.get(CallAttempt, case.evidence[0].attempt_id)
    uploader = make_user("rec-lead", "supervisor")
    recording = attach_upload(
        db.session,
        attempt,
        simulated_wav(3, seed="browser"),
        "call.wav",
        uploader=uploader,
        store=store_for(app),
        max_bytes=10 * 1024 * 1024,
        now=TEST_NOW,
    )
    db.session.commit()

    page.goto("/login")
    page.get_by_label("用户名").fill("rec-lead")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.goto(f"/cases/{case.id}")
    player = page.locator(f'[data-recording-id="{recording.id}"] audio')
    expect(player).to_be_visible()
    expect(page.locator(f'[data-recording-id="{recording.id}"] .recording-hash')).to_contain_text(
        recording.sha256
    )
    # preload="none": nothing is fetched (nor audited) until the supervisor asks for it.
    assert player.evaluate("audio => audio.readyState") == 0
    player.evaluate("audio => { audio.preload = 'metadata'; audio.load(); }")
    page.wait_for_function(
        "audio => audio.readyState >= 1 && Math.abs(audio.duration - 3) < 0.1", arg=player.element_handle()
    )
    assert player.evaluate("audio => audio.error") is None
    db.session.expire_all()
    listens = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_played")).all()
    assert [event.entity_id for event in listens] == [recording.id]
