"""Spot checks (录音抽检): tick's weekly sample per operator, the review page, the disposition correction
that recomputes findings and opens or withdraws cases, the scorecard editor, scores for operators and the
report."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from callback.audit import Actor
from callback.extensions import db
from callback.models import AuditEvent, CallAttempt, CaseEvent, QaReview, Scorecard, SupervisionCase
from callback.qa import draw_weekly_samples
from callback.qa.service import _stratified
from tests.conftest import TEST_NOW
from tests.messaging.helpers import START, call, store_order

# TEST_NOW is Friday of ISO week 2026-W48; the draw on the next Tuesday samples that week.
DRAW_AT = TEST_NOW + timedelta(days=4)
GOOD = {"progress": "connected", "satisfaction": 5}
MARKS = {"mark-opening": 10, "mark-identity": 10, "mark-complete": 20, "mark-accurate": 20,
         "mark-courtesy": 15, "mark-disposition": 15, "mark-closing": 10}  # fmt: skip


def make_calls(settings, operator_id, prefix, dispositions):
    """One order and one call per disposition, made by the operator in week W48."""
    for n, disposition in enumerate(dispositions):
        store_order(settings, f"{prefix}-{n}", status="connected", surveyed_at="2026-11-24T10:00:00",
                    connected_at="2026-11-25T15:00:00")  # fmt: skip
        answers = GOOD if disposition in ("completed", "partial") else None
        call(settings, operator_id, disposition, START + timedelta(minutes=n), answers=answers)


def false_completion_call(settings, operator_id, order_no="QA-FC"):
    """A call whose customer says there is no power while the system says connected: a case opens."""
    store_order(settings, order_no, status="connected", surveyed_at="2026-11-24T10:00:00",
                connected_at="2026-11-25T15:00:00")  # fmt: skip
    outcome = call(settings, operator_id, "completed", START + timedelta(hours=1),
                   answers={"progress": "construction", "satisfaction": 4})  # fmt: skip
    assert [case.category for case in outcome.cases_opened] == ["false_completion"]
    return outcome.attempt.id


def tick(runner, now=DRAW_AT):
    result = runner.invoke(args=["tick", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_tick_draws_each_operators_week_by_disposition_with_every_case_call_once(runner, settings, make_user):
    alice = make_user("alice", "operator")
    bob = make_user("bob", "operator")
    make_calls(settings, alice.id, "A", ["completed"] * 8 + ["refused"] * 3 + ["no_answer"] * 3)
    case_call = false_completion_call(settings, alice.id)
    make_calls(settings, bob.id, "B", ["completed", "busy"])
    assert "calls drawn for spot checks: 7" in tick(runner)  # alice 5 (case call + 4), bob both of his 2
    reviews = db.session.scalars(select(QaReview)).all()
    alice_reviews = [r for r in reviews if r.operator_id == alice.id]
    assert len(alice_reviews) == settings.qa_sample_per_operator
    assert {r.week for r in reviews} == {"2026-W48"}
    assert [r.reason for r in alice_reviews if r.attempt_id == case_call] == ["case"]
    # Stratified: every disposition alice used is in her sample.
    assert {r.stratum for r in alice_reviews} == {"completed", "refused", "no_answer"}
    assert "calls drawn for spot checks: 0" in tick(runner, DRAW_AT + timedelta(hours=1))
    assert "calls drawn for spot checks: 0" in tick(runner, DRAW_AT + timedelta(days=2))
    assert db.session.scalar(select(func.count()).select_from(QaReview)) == 7


def test_the_draw_takes_only_last_weeks_operator_calls_and_is_seeded_by_week_and_operator(
    app, settings, make_user
):
    alice = make_user("alice", "operator")
    make_calls(settings, alice.id, "A", ["completed"] * 12)
    assert draw_weekly_samples(db.session, now=TEST_NOW, settings=settings, actor=Actor(source="t")) == 0
    assert draw_weekly_samples(db.session, now=DRAW_AT, settings=settings, actor=Actor(source="t")) == 5
    calls = [(n, "completed") for n in range(12)] + [(n, "busy") for n in range(12, 15)]
    assert _stratified(calls, 5, "2026-W48:1") == _stratified(list(reversed(calls)), 5, "2026-W48:1")
    assert sum(1 for _, d in _stratified(calls, 5, "2026-W48:1") if d == "busy") >= 1


@pytest.fixture
def drawn_case_call(runner, settings, make_user):
    operator = make_user("alice", "operator")
    attempt_id = false_completion_call(settings, operator.id)
    tick(runner)
    return db.session.scalars(select(QaReview).where(QaReview.attempt_id == attempt_id)).one()


def test_a_supervisor_scores_a_call_and_an_instant_fail_fails_it(client, login, drawn_case_call):
    login("supervisor")
    listing = client.get("/qa/")
    assert listing.status_code == 200 and "录音抽检" in listing.text and "alice" in listing.text
    page = client.get(f"/qa/reviews/{drawn_case_call.id}")
    assert page.status_code == 200
    assert "诱导客户回答" in page.text and "结果与录音不符" in page.text
    assert "在施工" in page.text  # the answers are shown beside the scorecard
    assert "此通话没有录音" in page.text
    saved = client.post(f"/qa/reviews/{drawn_case_call.id}", data={**MARKS, "mark-leading": "on"})
    assert saved.status_code == 302
    db.session.expire_all()
    review = db.session.get(QaReview, drawn_case_call.id)
    assert (review.score, review.max_score, review.passed, review.instant_fail) == (100, 100, False, True)
    assert review.scorecard_id == db.session.scalar(select(Scorecard.id).where(Scorecard.version == 1))
    assert "一票否决" in client.get(f"/qa/reviews/{review.id}").text


def test_bad_marks_show_the_form_again_and_change_nothing(client, login, drawn_case_call):
    login("supervisor")
    answer = client.post(f"/qa/reviews/{drawn_case_call.id}", data={**MARKS, "mark-opening": "12"})
    assert answer.status_code == 422
    assert "0 到 10" in answer.text
    db.session.expire_all()
    assert db.session.get(QaReview, drawn_case_call.id).reviewed_at is None


def test_correcting_the_outcome_withdraws_the_finding_and_dismisses_its_case_then_reopens(
    client, login, drawn_case_call
):
    login("supervisor")
    case = db.session.scalars(select(SupervisionCase)).one()
    answer = client.post(f"/qa/reviews/{drawn_case_call.id}", data={**MARKS, "disposition": "refused"})
    assert answer.status_code == 302
    db.session.expire_all()
    attempt = db.session.get(CallAttempt, drawn_case_call.attempt_id)
    assert (attempt.disposition, attempt.aapor_code) == ("refused", "2.11")
    assert attempt.findings == []
    case = db.session.get(SupervisionCase, case.id)
    assert case.state == "dismissed"
    note = db.session.scalars(
        select(CaseEvent.note).where(CaseEvent.case_id == case.id, CaseEvent.to_state == "dismissed")
    ).one()
    assert "抽检" in note
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"attempt.disposition_corrected", "finding.withdrawn", "qa.reviewed"} <= actions
    # Corrected back: the findings are recomputed from the answers and a case opens again.
    client.post(f"/qa/reviews/{drawn_case_call.id}", data={**MARKS, "disposition": "completed"})
    db.session.expire_all()
    attempt = db.session.get(CallAttempt, drawn_case_call.attempt_id)
    assert attempt.disposition == "completed"
    assert [f.category for f in attempt.findings] == ["false_completion"]
    assert (
        db.session.scalar(
            select(func.count()).select_from(SupervisionCase).where(SupervisionCase.state == "open")
        )
        == 1
    )


def test_a_correction_the_answers_cannot_support_is_refused(client, login, runner, settings, make_user):
    operator = make_user("alice", "operator")
    make_calls(settings, operator.id, "R", ["refused"])
    tick(runner)
    review = db.session.scalars(select(QaReview)).one()
    login("supervisor")
    answer = client.post(f"/qa/reviews/{review.id}", data={**MARKS, "disposition": "completed"})
    assert answer.status_code == 422 and "答卷不足" in answer.text
    db.session.expire_all()
    assert db.session.get(CallAttempt, review.attempt_id).disposition == "refused"


def test_the_scorecard_editor_stores_versions_and_reviews_keep_theirs(client, login, drawn_case_call):
    login("supervisor")
    client.post(f"/qa/reviews/{drawn_case_call.id}", data=MARKS)
    page = client.get("/qa/scorecard")
    assert page.status_code == 200 and "诱导客户回答" in page.text
    form = {"pass_mark": "8", "item-0-code": "polite", "item-0-label_zh": "礼貌", "item-0-points": "10",
            "item-1-code": "leading", "item-1-label_zh": "诱导客户回答", "item-1-instant_fail": "on",
            "item-2-code": ""}  # fmt: skip
    assert client.post("/qa/scorecard", data=form).status_code == 302
    assert [s.version for s in db.session.scalars(select(Scorecard).order_by(Scorecard.version))] == [1, 2]
    db.session.expire_all()
    review = db.session.get(QaReview, drawn_case_call.id)
    kept = db.session.get(Scorecard, review.scorecard_id)
    assert kept.version == 1
    assert "开场规范" in client.get(f"/qa/reviews/{review.id}").text  # shown with the version it used
    assert client.post(f"/qa/reviews/{review.id}", data={**MARKS, "mark-closing": "0"}).status_code == 302
    db.session.expire_all()
    review = db.session.get(QaReview, drawn_case_call.id)
    assert (review.score, db.session.get(Scorecard, review.scorecard_id).version) == (90, 1)
    bad = client.post("/qa/scorecard", data={**form, "pass_mark": "11"})
    assert bad.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Scorecard)) == 2


def test_operators_see_their_own_scores_and_reviewers_the_report(client, login, make_user, drawn_case_call):
    supervisor = login("supervisor")
    client.post(f"/qa/reviews/{drawn_case_call.id}", data={**MARKS, "mark-closing": "5"})
    report = client.get("/reports/spot-checks")
    assert report.status_code == 200
    assert "alice" in report.text and "城关供电服务中心" in report.text and "95.0" in report.text
    assert "qa-trend-data" in report.text and "echarts" in report.text
    client.post("/logout")
    client.post("/login", data={"username": "alice", "password": "correct horse battery"})
    mine = client.get("/qa/mine")
    assert mine.status_code == 200 and "95 / 100" in mine.text
    assert client.get("/qa/").status_code == 403
    assert client.get("/reports/spot-checks").status_code == 403
    assert client.post(f"/qa/reviews/{drawn_case_call.id}", data=MARKS).status_code == 403
    assert supervisor.id != drawn_case_call.operator_id


def test_nobody_reviews_their_own_call(client, login, settings, runner):
    supervisor = login("supervisor")
    make_calls(settings, supervisor.id, "S", ["completed"])
    tick(runner)
    review = db.session.scalars(select(QaReview)).one()
    assert client.post(f"/qa/reviews/{review.id}", data=MARKS).status_code == 403


def test_the_demo_draws_its_own_calls_for_review(app, settings):
    from callback.demo import seed_demo

    seed_demo(db.session, now=TEST_NOW, settings=settings)
    db.session.commit()
    reviews = db.session.scalars(select(QaReview)).all()
    assert reviews and {r.week for r in reviews} == {"2026-W48"}


def test_the_reviewer_plays_the_calls_recording_on_the_review_page(app, client, login, drawn_case_call):
    from callback.models import User
    from callback.recordings import attach_upload
    from callback.recordings.audio import simulated_wav
    from callback.recordings.storage import store_for

    attempt = db.session.get(CallAttempt, drawn_case_call.attempt_id)
    operator = db.session.get(User, attempt.operator_id)
    recording = attach_upload(
        db.session,
        attempt,
        simulated_wav(3, seed="qa", channels=2),
        "qa-call.wav",
        uploader=operator,
        store=store_for(app),
        max_bytes=1024 * 1024,
        now=TEST_NOW,
    )
    db.session.commit()
    login("supervisor")
    page = client.get(f"/qa/reviews/{drawn_case_call.id}")
    assert f'src="/recordings/{recording.id}/audio"' in page.text
    audio = client.get(f"/recordings/{recording.id}/audio")
    audio.close()
    assert audio.status_code == 200
