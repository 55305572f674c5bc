"""Twilio webhooks: signatures, the IVR conversation, status callbacks, and the transcript page."""

from collections.abc import Callable
from datetime import datetime
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from callback.extensions import db
from callback.models import Answer, CallAttempt, CallbackTask, SupervisionCase, TaskChannel
from callback.telephony.signing import SIGNATURE_HEADER, public_url, signature
from tests.conftest import TEST_NOW
from tests.telephony.helpers import parse_twiml, start_automated_call

SID = "CA" + "1" * 32


@pytest.fixture
def start_call(app, settings) -> Callable[..., CallAttempt]:
    """Return a function that stores a connected order and starts its automated call."""
    counter = iter(range(1, 1000))

    def start(order_no: str | None = None, now: datetime = TEST_NOW) -> CallAttempt:
        return start_automated_call(settings, order_no or f"HOOK-{next(counter):03d}", now)

    return start


def gather_of(response) -> ElementTree.Element | None:
    return parse_twiml(response.get_data(as_text=True)).find("Gather")


def question_of(response) -> str | None:
    gather = gather_of(response)
    if gather is None:
        return None
    return gather.get("action", "").split("q=")[1].split("&")[0]


def action_path(response) -> str:
    gather = gather_of(response)
    assert gather is not None
    return gather.get("action", "").removeprefix("http://127.0.0.1:5000")


def reload(attempt_id: int) -> CallAttempt:
    db.session.expire_all()
    attempt = db.session.get(CallAttempt, attempt_id)
    assert attempt is not None
    return attempt


def answer(twilio_post, response, digits: str):
    params = {"CallSid": SID, "Digits": digits} if digits else {"CallSid": SID}
    return twilio_post(action_path(response), params)


# --- signatures ---------------------------------------------------------------------------------


def test_unsigned_and_wrongly_signed_webhooks_are_refused_and_change_nothing(
    app, client, start_call, twilio_post
):
    attempt = start_call()
    path = f"/twilio/status/{attempt.id}"
    params = {"CallSid": SID, "CallStatus": "busy"}
    assert twilio_post(path, params, signed=False).status_code == 403
    forged = signature(app.config, public_url(app.config, path), {**params, "CallStatus": "completed"})
    assert client.post(path, data=params, headers={SIGNATURE_HEADER: forged}).status_code == 403
    # Signed for another host (the request's own Host header) instead of PUBLIC_BASE_URL.
    local = signature(app.config, "http://localhost" + path, params)
    assert client.post(path, data=params, headers={SIGNATURE_HEADER: local}).status_code == 403
    assert reload(attempt.id).disposition is None


def test_a_signature_for_public_base_url_is_accepted_behind_a_tls_proxy(tmp_path, monkeypatch):
    from tests.conftest import fresh_schema, make_app

    app = make_app(tmp_path, monkeypatch, PUBLIC_BASE_URL="https://callback.example.com")
    with app.app_context():
        fresh_schema(app)
        path = "/twilio/status/999"
        params = {"CallSid": SID, "CallStatus": "ringing"}
        good = signature(app.config, "https://callback.example.com" + path, params)
        client = app.test_client()
        # The proxy forwards plain http to an internal address; the check still uses the public URL.
        response = client.post(
            path, data=params, headers={SIGNATURE_HEADER: good}, base_url="http://10.0.0.5:8000"
        )
        assert response.status_code == 404  # signed correctly, no such attempt
        db.session.remove()
        db.engine.dispose()


def test_bad_webhook_input_is_a_clear_4xx(start_call, twilio_post):
    attempt = start_call()
    assert twilio_post(f"/twilio/status/{attempt.id}", {"CallStatus": "exploded"}).status_code == 400
    assert twilio_post(f"/twilio/gather/{attempt.id}?q=nonsense&try=1", {}).status_code == 400
    assert twilio_post(f"/twilio/gather/{attempt.id}?q=progress&try=9", {}).status_code == 400
    assert twilio_post("/twilio/voice/424242", {"CallSid": SID}).status_code == 404
    response = twilio_post(
        f"/twilio/status/{attempt.id}", {"CallSid": "CA" + "2" * 32, "CallStatus": "ringing"}
    )
    assert response.status_code in (204, 409)
    assert (
        twilio_post(
            f"/twilio/status/{attempt.id}", {"CallSid": "CA" + "3" * 32, "CallStatus": "busy"}
        ).status_code
        == 409
    )
    assert reload(attempt.id).disposition is None


# --- the IVR --------------------------------------------------------------------------------------


def test_the_ivr_greets_in_mandarin_and_asks_the_first_question_on_the_keypad(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = parse_twiml(response.get_data(as_text=True))
    notice, greeting = root.findall("Say")
    assert notice.text == "本次通话将被录音。"  # the call is recorded: said first, before any question
    assert "回访" in greeting.text
    assert root.find("Gather/Say").get("language") == "cmn-CN"
    assert "用电申请人" in root.find("Gather/Say").text
    assert question_of(response) == "is_applicant"
    assert reload(attempt.id).provider_call_sid == SID


def test_a_whole_survey_completes_the_attempt_and_opens_cases_like_an_operators_form(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    keys = {
        "is_applicant": "1",
        "applied_on": "1101",  # 1 November: long before the system accepted it (23 November)
        "progress": "3",  # construction, while the system says connected
        "trips": "4",
        "extra_documents": "2",
        "fee_requested": "2",
        "integrity": "2",
        "satisfaction": "2",
    }
    asked = []
    while (code := question_of(response)) is not None:
        asked.append(code)
        response = answer(twilio_post, response, keys[code])
    root = parse_twiml(response.get_data(as_text=True))
    assert root.find("Hangup") is not None and "感谢" in root.find("Say").text
    # progress is not "connected", so connected_on and meter_notified are not asked.
    assert asked == list(keys)
    done = reload(attempt.id)
    assert done.disposition == "completed"
    assert done.answer_map()["applied_on"] == "2026-11-01"
    assert done.answer_map()["progress"] == "construction"
    categories = set(db.session.scalars(select(SupervisionCase.category)))
    assert {"offline_circulation", "false_completion", "repeat_trips", "dissatisfied"} <= categories
    assert db.session.get(CallbackTask, done.task_id).state == "done"
    # The final status callback comes later and changes nothing.
    assert (
        twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "completed"}).status_code
        == 204
    )
    assert reload(attempt.id).disposition == "completed"


def say(twilio_post, response, words: str):
    """Answer the question by voice, as Twilio posts what its recogniser heard."""
    return twilio_post(action_path(response), {"CallSid": SID, "SpeechResult": words, "Confidence": "0.9"})


def test_a_whole_survey_by_voice_ends_like_the_same_survey_by_keys(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    words = {
        "is_applicant": "是的",
        "applied_on": "十一月一号",
        "progress": "还在施工呢",
        "trips": "跑了四趟",
        "extra_documents": "没有",
        "fee_requested": "没有",
        "integrity": "没有",
        "satisfaction": "不太满意",
    }
    asked = []
    while (code := question_of(response)) is not None:
        asked.append(code)
        response = say(twilio_post, response, words[code])
    assert asked == list(words)
    done = reload(attempt.id)
    assert done.disposition == "completed"
    assert done.answer_map() == {
        "is_applicant": True,
        "applied_on": "2026-11-01",
        "progress": "construction",
        "trips": 4,
        "extra_documents": False,
        "fee_requested": False,
        "integrity": False,
        "satisfaction": 2,
    }
    categories = set(db.session.scalars(select(SupervisionCase.category)))
    assert {"offline_circulation", "false_completion", "repeat_trips", "dissatisfied"} <= categories
    heard = [event for event in done.transcript if event["event"] == "heard"]
    assert heard[2]["text"] == "还在施工呢" and heard[2]["understood"] == "construction"


def test_words_not_understood_are_asked_again_then_the_callback_goes_to_an_operator(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    response = say(twilio_post, response, "是的")
    response = say(twilio_post, response, "不记得了")
    assert "没有听清" in parse_twiml(response.get_data(as_text=True)).find("Say").text
    assert question_of(response) == "applied_on" and "try=2" in gather_of(response).get("action")
    response = say(twilio_post, response, "好像是上个月吧")
    response = say(twilio_post, response, "记不清")
    root = parse_twiml(response.get_data(as_text=True))
    assert root.find("Gather") is None and root.find("Hangup") is not None
    assert "工作人员" in root.find("Say").text
    done = reload(attempt.id)
    # Nothing guessed: the applicant answer is kept, the date is not, and a person will ask again.
    assert done.answer_map() == {"is_applicant": True}
    assert done.disposition == "partial"
    task = db.session.get(CallbackTask, done.task_id)
    assert (task.state, task.channel) == ("open", TaskChannel.OPERATOR.value)
    reasons = [event.get("reason") for event in done.transcript if event["event"] == "heard"]
    assert reasons == [None, "the customer does not know", "no date", "the customer does not know"]


def test_connected_customers_are_asked_when_and_whether_they_were_told(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    response = answer(twilio_post, response, "1")
    response = answer(twilio_post, response, "1123")
    response = answer(twilio_post, response, "4")  # connected
    assert question_of(response) == "connected_on"
    assert gather_of(response).get("numDigits") == "4"
    response = answer(twilio_post, response, "1126")
    assert question_of(response) == "meter_notified"


def test_an_invalid_or_missing_key_is_asked_again_twice_then_the_ivr_moves_on(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    response = answer(twilio_post, response, "7")  # not 1 or 2
    root = parse_twiml(response.get_data(as_text=True))
    assert "无效" in root.find("Say").text
    assert question_of(response) == "is_applicant" and "try=2" in gather_of(response).get("action")
    response = answer(twilio_post, response, "")  # silence
    assert "没有收到" in parse_twiml(response.get_data(as_text=True)).find("Say").text
    assert "try=3" in gather_of(response).get("action")
    response = answer(twilio_post, response, "8")
    assert question_of(response) == "applied_on"
    assert "is_applicant" not in reload(attempt.id).answer_map()


def test_a_date_in_the_future_or_impossible_is_not_accepted(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    response = answer(twilio_post, response, "1")
    response = answer(twilio_post, response, "1345")  # month 13
    assert question_of(response) == "applied_on"
    response = answer(twilio_post, response, "1125")
    assert question_of(response) == "progress"
    assert reload(attempt.id).answer_map()["applied_on"] == "2026-11-25"


def test_a_repeated_gather_webhook_is_harmless(start_call, twilio_post):
    attempt = start_call()
    first = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    again = answer(twilio_post, first, "1")
    assert answer(twilio_post, first, "2").status_code == 200  # the same question again, another key
    assert question_of(again) == "applied_on"
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 1
    assert reload(attempt.id).answer_map() == {"is_applicant": True}


# --- status callbacks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "disposition"),
    [("busy", "busy"), ("no-answer", "no_answer"), ("failed", "no_answer"), ("canceled", "no_answer")],
)
def test_unanswered_calls_become_failed_attempts_and_retry_later(
    start_call, twilio_post, status, disposition
):
    attempt = start_call()
    for step in ("initiated", "ringing", status):
        assert (
            twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": step}).status_code
            == 204
        )
    done = reload(attempt.id)
    assert done.disposition == disposition
    task = db.session.get(CallbackTask, done.task_id)
    assert task.state == "open" and task.failed_attempts == 1 and task.channel == TaskChannel.AUTO.value


def test_duplicate_late_and_out_of_order_callbacks_never_leave_a_final_state(start_call, twilio_post):
    attempt = start_call()
    post = lambda status: twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": status})  # noqa: E731
    post("ringing")
    post("initiated")  # late: ringing already seen
    assert reload(attempt.id).call_status == "ringing"
    post("busy")
    post("busy")  # duplicate
    post("completed")  # a different final status, out of order
    post("ringing")  # a straggler
    done = reload(attempt.id)
    assert done.disposition == "busy" and done.call_status == "busy"
    task = db.session.get(CallbackTask, done.task_id)
    assert task.attempt_count == 1 and task.failed_attempts == 1


def test_an_answering_machine_is_voicemail(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "machine_end_beep"})
    assert parse_twiml(response.get_data(as_text=True)).find("Hangup") is not None
    twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "completed"})
    assert reload(attempt.id).disposition == "voicemail"


def test_a_customer_who_hangs_up_mid_survey_gives_a_partial_interview(start_call, twilio_post):
    attempt = start_call()
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    response = answer(twilio_post, response, "1")
    answer(twilio_post, response, "1125")
    twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "completed"})
    done = reload(attempt.id)
    assert done.disposition == "partial"
    assert db.session.get(CallbackTask, done.task_id).state == "done"
    # A key press arriving after the hang-up is recorded nowhere.
    late = answer(twilio_post, response, "3")
    assert late.status_code == 200 and "progress" not in reload(attempt.id).answer_map()


def test_the_status_callback_may_bring_the_sid_of_a_call_whose_create_response_was_lost(
    start_call, twilio_post
):
    attempt = start_call()
    assert attempt.provider_call_sid is None
    twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "initiated"})
    assert reload(attempt.id).provider_call_sid == SID


def test_after_auto_max_attempts_failures_the_task_goes_to_the_operators(
    app, start_call, twilio_post, settings
):
    from callback.worklist import start_automated_attempt

    attempt = start_call()
    twilio_post(f"/twilio/status/{attempt.id}", {"CallSid": SID, "CallStatus": "no-answer"})
    task = db.session.get(CallbackTask, attempt.task_id)
    task.not_before = task.not_before.replace(year=2000)  # make it workable again now
    db.session.commit()
    second = start_automated_attempt(db.session, now=app.config["CLOCK"](), settings=settings)
    db.session.commit()
    assert second is not None and second.task_id == attempt.task_id
    twilio_post(f"/twilio/status/{second.id}", {"CallSid": "CA" + "9" * 32, "CallStatus": "busy"})
    db.session.expire_all()
    task = db.session.get(CallbackTask, attempt.task_id)
    assert settings.auto_max_attempts == 2
    assert task.state == "open" and task.channel == "operator"


# --- the transcript page --------------------------------------------------------------------------


def test_the_transcript_shows_what_was_said_and_pressed_to_staff_only(client, login, start_call, twilio_post):
    attempt = start_call("TRANSCRIPT-1")
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    answer(twilio_post, response, "7")
    path = f"/twilio/attempts/{attempt.id}/transcript"
    assert client.get(path).status_code == 302  # not signed in
    login("discipline")
    assert client.get(path).status_code == 403
    client.post("/logout")
    login("operator")
    page = client.get(path).get_data(as_text=True)
    assert "您是这张工单的用电申请人吗" in page
    assert "<kbd>7</kbd>" in page
    detail = client.get("/orders/TRANSCRIPT-1").get_data(as_text=True)
    assert path in detail


def test_the_transcript_shows_what_the_customer_said_and_how_it_was_understood(
    client, login, start_call, twilio_post
):
    attempt = start_call("TRANSCRIPT-2")
    response = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    response = say(twilio_post, response, "嗯，是我")
    response = say(twilio_post, response, "不记得了")
    say(twilio_post, response, "十一月五号")
    login("operator")
    page = client.get(f"/twilio/attempts/{attempt.id}/transcript").get_data(as_text=True)
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    root = ElementTree.fromstring(f"<t>{rows}</t>")  # noqa: S314  (the app's own page, in a test)
    heard = [
        (row.find(".//q").text, row.findtext(".//span[@class='understood']"))
        for row in root.iter("tr")
        if row.get("class") == "transcript-heard"
    ]
    assert heard == [("嗯，是我", "是"), ("不记得了", None), ("十一月五号", "2026-11-05")]
    assert page.count("未识别") == 1  # the one answer not understood is marked
