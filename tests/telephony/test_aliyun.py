"""TELEPHONY=aliyun: SmartCall through Alibaba's own SDK against a fake dyvmsapi on 127.0.0.1, the dialogue
callback and the receipts posted as the platform posts them, and the same outcomes as an operator's call."""

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from callback.audit import Actor
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from callback.models import AuditEvent, CallAttempt, CallbackTask, Finding, SupervisionCase
from callback.settings import current_settings
from callback.telephony import make_provider
from callback.telephony.aliyun_dialogue import receipt_outcome
from callback.telephony.aliyun_provider import AliyunProvider, parse_dynamic_id
from callback.telephony.dialer import UNKNOWN_STATUS, Dialer
from callback.telephony.pacing import CallPacer
from callback.worklist import claim_next, record_attempt
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.telephony.aliyun_fake import FakeVoiceServer, FakeVoiceService
from tests.telephony.helpers import connected_order, store_connected_orders

KEY_ID = "LTAI5tFakeKeyForTests"
SECRET = "fake-secret-0123456789abcdef"
TOKEN = "tok_3f9a1c7e5b2d4a6f8e0c"
SHOW_NUMBER = "057188880000"
# What the customer says to each question, and what an operator would have recorded from it.
SPOKEN = {
    "is_applicant": "是的，是我",
    "applied_on": "十一月一号",
    "progress": "还在施工呢",
    "trips": "跑了四趟",
    "extra_documents": "没有",
    "fee_requested": "没有没有",
    "integrity": "没有",
    "satisfaction": "不太满意",
}
KEYS = {
    "is_applicant": "1",
    "applied_on": "1101",
    "progress": "3",
    "trips": "4#",
    "extra_documents": "2",
    "fee_requested": "2",
    "integrity": "2",
    "satisfaction": "2",
}
OPERATORS_ANSWERS = {
    "is_applicant": True,
    "applied_on": "2026-11-01",
    "progress": "construction",
    "trips": 4,
    "extra_documents": False,
    "fee_requested": False,
    "integrity": False,
    "satisfaction": 2,
}


@pytest.fixture
def fake() -> Iterator[FakeVoiceServer]:
    with FakeVoiceServer(FakeVoiceService(KEY_ID, SECRET)) as server:
        yield server


def aliyun_config(fake: FakeVoiceServer, **changes: object) -> dict[str, object]:
    return {
        "TELEPHONY": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": SECRET,
        "ALIYUN_CALLED_SHOW_NUMBER": SHOW_NUMBER,
        "ALIYUN_VMS_ENDPOINT": fake.url,
        "ALIYUN_CALLBACK_TOKEN": TOKEN,
        "TWILIO_HTTP_TIMEOUT_SECONDS": 3,
        "ALIYUN_RECORDING_HOSTS": [".aliyuncs.com", "127.0.0.1"],  # the fake bucket's links
        # The message follow-up (issue 13) goes through Alibaba Cloud SMS too.
        "SMS_TEMPLATE_CODE": "SMS_465390001",
        "SMS_SIGN_NAME": "国网某某供电公司",
        **changes,
    }


@pytest.fixture
def aliyun_app(tmp_path, monkeypatch, fake) -> Iterator[Flask]:
    app = make_app(tmp_path, monkeypatch, **aliyun_config(fake))
    with app.app_context():
        fresh_schema(app)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(aliyun_app):
    return aliyun_app.test_client()


def dialer(app: Flask) -> Dialer:
    return Dialer(
        db.session,
        make_provider(app),
        CallPacer(db.engine, 1000),
        current_settings(),
        app.config,
        lambda: TEST_NOW,
    )


def dial(app: Flask, *order_nos: str):
    store_connected_orders(current_settings(), *order_nos)
    return dialer(app).run_pass()


def attempt_of(order_no: str) -> CallAttempt:
    db.session.expire_all()
    return db.session.scalars(
        select(CallAttempt).join(CallbackTask).where(CallbackTask.order.has(order_no=order_no))
    ).one()


def turn(client, call_id: str, dynamic: str, *, words: str = "", keys: str = "", token: str = TOKEN):
    """POST one dialogue callback as the platform does (query-style parameters, content as JSON)."""
    content: dict[str, str] = {"dynamic_id": dynamic}
    if keys:
        content_type, content["dtmf"] = "dtmf", keys
    elif words:
        content_type, content["words"] = "normal", words
        content |= {"begin_offset": "1000", "end_offset": "3000", "begin_time": "2026-11-27 10:00:05"}
    else:
        content_type = "mute"
    return client.post(
        f"/aliyun/{token}/dialogue",
        query_string={
            "call_id": call_id,
            "timestamp": "1795749605000",
            "content_type": content_type,
            "content": json.dumps(content, ensure_ascii=False),
        },
    )


def receipt(client, kind: str, *items: dict, token: str = TOKEN):
    return client.post(f"/aliyun/{token}/{kind}", json=list(items))


def voice_report(
    attempt_id: int, call_id: str, smart: str = "ANSWERED", code: str = "200000", duration: int = 60
):
    return {
        "call_id": call_id,
        "out_id": str(attempt_id),
        "status_code": code,
        "smart_status_code": smart,
        "duration": str(duration),
        "start_time": "2026-11-27 10:00:03",
        "end_time": "2026-11-27 10:01:03",
        "hangup_direction": "用户",
        "voice_type": "asr",
    }


def run_survey(
    client, call_id: str, attempt_id: int, answers: dict[str, str], *, by: str
) -> tuple[list, dict]:
    """Answer every question put, by voice or keys; return the questions asked and the last reply."""
    data = {"action": "play", "dynamic_id": f"a{attempt_id}"}
    asked = []
    first = "is_applicant"
    while data["action"] == "play":
        parsed = parse_dynamic_id(data["dynamic_id"])
        assert parsed is not None and parsed[0] == attempt_id
        code = parsed[1] or first
        asked.append(code)
        kwargs = {"words": answers[code]} if by == "voice" else {"keys": answers[code]}
        response = turn(client, call_id, data["dynamic_id"], **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["result"], body["code"]) == ("success", 200)
        data = body["data"]
        assert data["call_id"] == call_id
    return asked, data


def operators_categories(settings) -> set[str]:
    """Record the same answers by an operator on another, identical order; return the case categories."""
    from callback.users import create_user

    order = validate_order(connected_order("OPER-1"), settings.tz, TEST_NOW)
    upsert_orders(db.session, [order], now=TEST_NOW, settings=settings, actor=Actor(source="test"))
    user = create_user(db.session, "op", "operator", "correct horse battery", now=TEST_NOW)
    db.session.flush()
    task = db.session.scalars(
        select(CallbackTask).where(
            CallbackTask.order.has(order_no="OPER-1"), CallbackTask.kind == "completion"
        )
    ).one()
    task.channel = "operator"
    db.session.flush()
    claimed = claim_next(db.session, user.id, now=TEST_NOW, settings=settings, kind="completion")
    assert claimed is not None and claimed.id == task.id
    outcome = record_attempt(
        db.session,
        task.id,
        user.id,
        disposition="completed",
        answers=OPERATORS_ANSWERS,
        callback_at=None,
        note=None,
        now=TEST_NOW,
        settings=settings,
    )
    db.session.commit()
    return {finding.category for finding in outcome.findings}


# --- placing the call -------------------------------------------------------------------------------


def test_the_dialer_places_a_smartcall_with_the_documented_signed_request(aliyun_app, fake):
    report = dial(aliyun_app, "ALI-1")
    assert report.placed == 1 and fake.service.refusals == []
    (request,) = fake.service.requests
    params = request["params"]
    attempt = attempt_of("ALI-1")
    assert request["action"] == "SmartCall"
    assert params["CalledShowNumber"] == SHOW_NUMBER
    assert params["CalledNumber"] == "13800138000"  # a mainland number, without +86
    assert params["OutId"] == str(attempt.id)  # comes back in every receipt
    assert params["DynamicId"] == f"a{attempt.id}"  # comes back in the first dialogue callback
    assert params["RecordFlag"].lower() == "true"
    assert params["VoiceCode"] == "$greeting$,$prompt$"
    voice = json.loads(params["VoiceCodeParam"])
    assert "供电公司" in voice["greeting"] and "用电申请人" in voice["prompt"]
    assert params["AsrBaseId"] == "customer_service_8k"
    assert int(params["SessionTimeout"]) == 15 * 60
    # The CallId the API answered names the call from now on; the task waits for the dialogue.
    assert attempt.provider_call_sid == fake.service.calls[0].call_id
    assert db.session.get(CallbackTask, attempt.task_id).state == "dialing"


def test_an_asr_model_from_the_console_is_sent_instead_of_the_base_model(tmp_path, monkeypatch, fake):
    app = make_app(
        tmp_path, monkeypatch, **aliyun_config(fake, ALIYUN_ASR_MODEL_ID="2070aca1eff146f9a7bc826f1c3d0000")
    )
    with app.app_context():
        fresh_schema(app)
        dial(app, "ASR-1")
        params = fake.service.requests[0]["params"]
        assert params["AsrModelId"] == "2070aca1eff146f9a7bc826f1c3d0000" and "AsrBaseId" not in params
        db.session.remove()
        db.engine.dispose()


def test_a_wrong_secret_is_refused_by_the_signature_check_and_stops_the_dialer(tmp_path, monkeypatch, fake):
    from callback.telephony.dialer import DialerStopped

    app = make_app(tmp_path, monkeypatch, **aliyun_config(fake, ALIYUN_ACCESS_KEY_SECRET="not-the-secret"))
    with app.app_context():
        fresh_schema(app)
        store_connected_orders(current_settings(), "SIG-1")
        with pytest.raises(DialerStopped, match="SignatureDoesNotMatch"):
            dialer(app).run_pass()
        assert fake.service.calls == [] and fake.service.refusals == ["SignatureDoesNotMatch"]
        # Nobody was called: the attempt is voided and the task workable again.
        assert db.session.scalar(select(func.count()).select_from(CallAttempt)) == 0
        assert db.session.scalar(select(CallbackTask.state)) == "open"
        db.session.remove()
        db.engine.dispose()


def test_a_number_the_platform_refuses_ends_as_invalid_number(aliyun_app, fake):
    fake.service.next_smart_call.append("isv.MOBILE_NUMBER_ILLEGAL")
    report = dial(aliyun_app, "BAD-1")
    assert report.rejected == 1
    attempt = attempt_of("BAD-1")
    assert attempt.disposition == "invalid_number"
    assert db.session.get(CallbackTask, attempt.task_id).state == "unreachable"


def test_a_lost_response_is_never_redialled_and_the_call_is_adopted_from_its_first_callback(
    aliyun_app, fake, client
):
    fake.service.next_smart_call.append("lose")
    report = dial(aliyun_app, "LOST-1")
    assert (report.placed, report.lost) == (0, 1)
    attempt = attempt_of("LOST-1")
    assert (attempt.provider_call_sid, attempt.call_status) == (None, UNKNOWN_STATUS)
    # The next passes place nothing: the call exists at the provider, its attempt waits for word of it.
    assert dialer(aliyun_app).run_pass().placed == 0
    assert len(fake.service.calls) == 1
    call_id = fake.service.calls[0].call_id
    response = turn(client, call_id, f"a{attempt.id}", words="是的")
    assert response.status_code == 200 and response.get_json()["data"]["action"] == "play"
    assert attempt_of("LOST-1").provider_call_sid == call_id


# --- the dialogue ------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["voice", "keys"])
def test_a_whole_questionnaire_by_voice_or_keys_ends_like_an_operators_call(aliyun_app, fake, client, by):
    dial(aliyun_app, "ALI-2")
    attempt = attempt_of("ALI-2")
    call_id = attempt.provider_call_sid
    asked, last = run_survey(client, call_id, attempt.id, SPOKEN if by == "voice" else KEYS, by=by)
    # progress is not "connected": connected_on and meter_notified are not asked.
    assert asked == list(SPOKEN)
    assert last["action"] == "hangup" and "感谢" in last["action_code_param"]["prompt"]
    done = attempt_of("ALI-2")
    assert done.disposition == "completed" and done.answer_map() == OPERATORS_ANSWERS
    automated = {
        finding.category
        for finding in db.session.scalars(select(Finding).where(Finding.attempt_id == done.id))
    }
    assert automated == operators_categories(current_settings())
    assert {"offline_circulation", "false_completion", "repeat_trips", "dissatisfied"} <= automated
    assert db.session.get(CallbackTask, done.task_id).state == "done"
    if by == "voice":
        heard = [event for event in done.transcript if event["event"] == "heard"]
        assert [event["text"] for event in heard] == list(SPOKEN.values())
        assert heard[2]["understood"] == "construction"
    # The receipt comes after the survey and changes nothing.
    assert receipt(client, "voice-report", voice_report(done.id, call_id)).get_json() == {
        "code": 0,
        "msg": "成功",
    }
    assert attempt_of("ALI-2").disposition == "completed"


def test_the_reply_reasks_what_was_not_understood_and_silence(aliyun_app, fake, client):
    dial(aliyun_app, "ASK-1")
    attempt = attempt_of("ASK-1")
    call_id = attempt.provider_call_sid
    data = turn(client, call_id, f"a{attempt.id}", words="你说什么？").get_json()["data"]
    assert data["action"] == "play" and data["dynamic_id"] == f"a{attempt.id}.is_applicant.2"
    assert data["action_code_param"]["prompt"].startswith("对不起，没有听清")
    data = turn(client, call_id, data["dynamic_id"]).get_json()["data"]  # mute: the customer said nothing
    assert data["dynamic_id"] == f"a{attempt.id}.is_applicant.3"
    assert "没有收到" in data["action_code_param"]["prompt"]
    data = turn(client, call_id, data["dynamic_id"], words="对的").get_json()["data"]
    assert parse_dynamic_id(data["dynamic_id"])[1:] == ("applied_on", 1)
    # The SmartCall platform refuses these characters in what it plays back.
    assert not any(char in data["action_code_param"]["prompt"] for char in '@=:"${}^*¥')


def test_a_repeated_callback_is_answered_the_same_way_and_stores_nothing_twice(aliyun_app, fake, client):
    dial(aliyun_app, "DUP-1")
    attempt = attempt_of("DUP-1")
    call_id = attempt.provider_call_sid
    first = turn(client, call_id, f"a{attempt.id}", words="是的").get_json()
    again = turn(client, call_id, f"a{attempt.id}", words="是的").get_json()
    assert first == again
    assert attempt_of("DUP-1").answer_map() == {"is_applicant": True}


def test_words_not_understood_three_times_hand_the_callback_to_an_operator(aliyun_app, fake, client):
    dial(aliyun_app, "OP-1")
    attempt = attempt_of("OP-1")
    call_id = attempt.provider_call_sid
    data = turn(client, call_id, f"a{attempt.id}", words="是的").get_json()["data"]
    for words in ("不记得了", "大概上个月吧", "忘了"):
        data = turn(client, call_id, data["dynamic_id"], words=words).get_json()["data"]
    assert data["action"] == "hangup" and "工作人员" in data["action_code_param"]["prompt"]
    done = attempt_of("OP-1")
    assert done.answer_map() == {"is_applicant": True}  # never guessed
    task = db.session.get(CallbackTask, done.task_id)
    assert (task.state, task.channel) == ("open", "operator")
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "task.handed_over")) == 1


def test_an_order_cancelled_during_the_call_ends_it_at_the_provider(aliyun_app, fake, client):
    dial(aliyun_app, "CAN-1")
    attempt = attempt_of("CAN-1")
    call_id = attempt.provider_call_sid
    data = turn(client, call_id, f"a{attempt.id}", words="是的").get_json()["data"]
    cancelled = connected_order("CAN-1") | {"status": "cancelled", "cancelled_at": "2026-11-27T09:50:00"}
    settings = current_settings()
    upsert_orders(
        db.session,
        [validate_order(cancelled, settings.tz, TEST_NOW)],
        now=TEST_NOW,
        settings=settings,
        actor=Actor(source="test"),
    )
    db.session.commit()
    # The provider is asked to hang up (CancelCall) …
    make_provider(aliyun_app).end_call(call_id)
    assert fake.service.requests[-1] == {"action": "CancelCall", "params": {"CallId": call_id}}
    assert fake.service.call(call_id).cancelled
    # … and the call's next turn hangs up in any case.
    data = turn(client, call_id, data["dynamic_id"], words="十一月一号").get_json()["data"]
    assert data["action"] == "hangup" and "撤销" in data["action_code_param"]["prompt"]
    assert "applied_on" not in attempt_of("CAN-1").answer_map()
    receipt(client, "voice-report", voice_report(attempt.id, call_id, duration=15))
    done = attempt_of("CAN-1")
    assert done.disposition == "partial"
    assert db.session.get(CallbackTask, done.task_id).state in ("done", "cancelled")


def test_end_call_never_raises_when_the_platform_cannot_be_reached(aliyun_app, fake):
    provider = make_provider(aliyun_app)
    assert isinstance(provider, AliyunProvider)
    fake.httpd.shutdown()
    fake.httpd.server_close()
    provider.end_call("116000000000^102800000000")  # logs, does not raise


# --- the receipts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("smart", "code", "disposition", "state"),
    [
        ("USER_BUSY", "200002", "busy", "open"),
        ("NO_ANSWER", "200003", "no_answer", "open"),
        ("POWERED_OFF", "200010", "no_answer", "open"),
        ("INVALID_NUMBER", "200004", "invalid_number", "unreachable"),
        ("INTELLIGENT_ANSWER", "200000", "voicemail", "open"),
        ("", "200002", "busy", "open"),
        ("", "200011", "invalid_number", "unreachable"),
    ],
)
def test_receipts_become_the_same_dispositions_as_twilios_status_callbacks(
    aliyun_app, fake, client, smart, code, disposition, state
):
    dial(aliyun_app, "REC-1")
    attempt = attempt_of("REC-1")
    item = voice_report(attempt.id, attempt.provider_call_sid, smart=smart, code=code, duration=0)
    assert receipt(client, "voice-report", item).status_code == 200
    done = attempt_of("REC-1")
    assert done.disposition == disposition
    assert db.session.get(CallbackTask, done.task_id).state == state


def test_duplicate_and_late_receipts_never_move_an_attempt_out_of_its_final_state(aliyun_app, fake, client):
    dial(aliyun_app, "LATE-1")
    attempt = attempt_of("LATE-1")
    call_id = attempt.provider_call_sid
    busy = voice_report(attempt.id, call_id, smart="USER_BUSY", code="200002", duration=0)
    for _ in range(2):  # pushed twice
        assert receipt(client, "voice-report", busy).status_code == 200
    late = voice_report(attempt.id, call_id)  # an ANSWERED receipt arriving after
    assert receipt(client, "voice-report", late).status_code == 200
    done = attempt_of("LATE-1")
    task = db.session.get(CallbackTask, done.task_id)
    assert done.disposition == "busy" and task.failed_attempts == 1 and task.attempt_count == 1
    # A late dialogue callback of the ended call only says goodbye.
    data = turn(client, call_id, f"a{attempt.id}", words="是的").get_json()["data"]
    assert data["action"] == "hangup" and attempt_of("LATE-1").answer_map() == {}


def test_a_receipt_finds_its_attempt_by_call_id_when_out_id_is_missing(aliyun_app, fake, client):
    dial(aliyun_app, "CID-1")
    attempt = attempt_of("CID-1")
    item = voice_report(attempt.id, attempt.provider_call_sid, smart="NO_ANSWER", code="200003", duration=0)
    del item["out_id"]
    unknown = voice_report(999999, "1^2", smart="NO_ANSWER")
    del unknown["out_id"]
    # Whatever Content-Type the push declares, its JSON array is read.
    body = json.dumps([unknown, item], ensure_ascii=False)
    response = client.post(
        f"/aliyun/{TOKEN}/voice-report", data=body, content_type="text/plain;charset=utf-8"
    )
    assert response.get_json() == {"code": 0, "msg": "成功"}
    assert attempt_of("CID-1").disposition == "no_answer"


def test_the_recording_link_of_a_record_receipt_is_kept_once_with_the_attempt(aliyun_app, fake, client):
    dial(aliyun_app, "REC-2")
    attempt = attempt_of("REC-2")
    item = {
        "call_id": attempt.provider_call_sid,
        "out_id": str(attempt.id),
        "status_code": "200000",
        "smart_status_code": "ANSWERED",
        "duration": "61",
        "record_file": "http://vms-record.oss-cn-hangzhou.aliyuncs.com/record.wav?Expires=1&Signature=x",
        "record_begin_time": "2026-11-27 10:00:03",
    }
    for _ in range(2):
        assert receipt(client, "record-report", item).status_code == 200
    recordings = [event for event in attempt_of("REC-2").transcript if event["event"] == "recording"]
    assert len(recordings) == 1
    assert (
        recordings[0]["provider"] == "aliyun" and recordings[0]["recording_id"] == attempt.provider_call_sid
    )
    assert (
        recordings[0]["source_url"].startswith("http://vms-record")
        and recordings[0]["duration_seconds"] == 61
    )


# --- authenticity and bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dialogue", "voice-report", "record-report"])
def test_a_callback_without_the_token_is_403_and_changes_nothing(aliyun_app, fake, client, kind):
    dial(aliyun_app, "AUTH-1")
    attempt = attempt_of("AUTH-1")
    before = (attempt.disposition, attempt.call_status, list(attempt.transcript))
    for token in ("wrong-token-0000000000", TOKEN[:-1], TOKEN + "x"):
        if kind == "dialogue":
            response = turn(client, attempt.provider_call_sid, f"a{attempt.id}", words="是的", token=token)
        else:
            item = voice_report(attempt.id, attempt.provider_call_sid, smart="USER_BUSY", code="200002")
            response = receipt(client, kind, item, token=token)
        assert response.status_code == 403
    after = attempt_of("AUTH-1")
    assert (after.disposition, after.call_status, list(after.transcript)) == before
    assert after.answer_map() == {}


def test_bad_callbacks_get_a_clear_4xx_and_change_nothing(aliyun_app, fake, client):
    dial(aliyun_app, "JUNK-1")
    attempt = attempt_of("JUNK-1")
    path = f"/aliyun/{TOKEN}/dialogue"
    assert client.post(path, data={"content_type": "normal"}).status_code == 400  # no call_id
    assert client.post(path, data={"call_id": "1^2", "content_type": "shout"}).status_code == 400
    assert (
        client.post(path, data={"call_id": "1^2", "content_type": "normal", "content": "[1"}).status_code
        == 400
    )
    assert (
        client.post(path, data={"call_id": "1^2", "content_type": "normal", "content": "{}"}).status_code
        == 404
    )
    assert turn(client, "1^2", "a424242", words="是").status_code == 404
    assert turn(client, attempt.provider_call_sid, f"a{attempt.id}.nonsense.1", words="是").status_code == 400
    assert turn(client, "9^9", f"a{attempt.id}", words="是").status_code == 409  # another call's attempt
    for body in ("not json", [], [1], [{"out_id": "1"}], {"call_id": ""}):
        kwargs = {"data": body} if isinstance(body, str) else {"json": body}
        assert client.post(f"/aliyun/{TOKEN}/voice-report", **kwargs).status_code == 400
    after = attempt_of("JUNK-1")
    assert after.answer_map() == {} and after.disposition is None


# --- configuration and pure parts ----------------------------------------------------------------------


def test_the_app_refuses_to_start_without_the_aliyun_keys(tmp_path, monkeypatch):
    with pytest.raises(SystemExit) as refused:
        make_app(tmp_path, monkeypatch, TELEPHONY="aliyun", ALIYUN_VOICE_CODE="")
    message = str(refused.value)
    for key in (
        "ALIYUN_ACCESS_KEY_ID",
        "ALIYUN_ACCESS_KEY_SECRET",
        "ALIYUN_CALLED_SHOW_NUMBER",
        "ALIYUN_VOICE_CODE",
        "ALIYUN_CALLBACK_TOKEN",
    ):
        assert key in message


@pytest.mark.parametrize("token", ["short", "has space in it 1234", "中文令牌中文令牌中文令牌中文令牌"])
def test_a_callback_token_that_cannot_be_a_safe_url_part_is_refused(tmp_path, monkeypatch, token, fake):
    with pytest.raises(SystemExit, match="ALIYUN_CALLBACK_TOKEN"):
        make_app(tmp_path, monkeypatch, **aliyun_config(fake, ALIYUN_CALLBACK_TOKEN=token))


def test_simulation_protocol_must_be_a_known_one(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match="SIMULATION_PROTOCOL"):
        make_app(tmp_path, monkeypatch, SIMULATION_PROTOCOL="skype")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"smart_status_code": "ANSWERED", "status_code": "200005"}, ("completed", "human")),
        ({"smart_status_code": "answered"}, ("completed", "human")),
        ({"smart_status_code": "CALL_REJECTED"}, ("busy", None)),
        ({"smart_status_code": "SUSPEND"}, ("invalid", None)),
        ({"status_code": "200001"}, ("completed", "human")),
        ({"status_code": "999999", "duration": "12"}, ("completed", "human")),
        ({"status_code": "999999", "duration": "0"}, ("failed", None)),
        ({"status_code": "500", "duration": "junk"}, ("failed", None)),
    ],
)
def test_receipt_outcomes(item, expected):
    assert receipt_outcome(item) == expected


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("a12", (12, None, 1)),
        ("a12.progress.2", (12, "progress", 2)),
        ("", None),
        ("12.progress.1", None),
        ("a.progress.1", None),
        ("a12.progress.x", None),
        ("a1234567890123456.progress.1", None),
    ],
)
def test_dynamic_ids(value, parsed):
    assert parse_dynamic_id(value) == parsed


# --- the simulated customer speaking SmartCall -------------------------------------------------------


def test_the_simulated_customer_can_play_the_smartcall_protocol(tmp_path, monkeypatch):
    app = make_app(
        tmp_path,
        monkeypatch,
        SIMULATION_PROTOCOL="aliyun",
        SIMULATION_MIX="agree=1",
        SIMULATION_SEED=7,
    )
    with app.app_context():
        fresh_schema(app)
        store_connected_orders(current_settings(), "SIM-1", "SIM-2", "SIM-3")
        provider = make_provider(app)
        report = Dialer(
            db.session, provider, CallPacer(db.engine, 1000), current_settings(), app.config, lambda: TEST_NOW
        ).run_pass()
        assert report.placed == 3
        attempts = db.session.scalars(select(CallAttempt)).all()
        assert {attempt.disposition for attempt in attempts} == {"completed"}
        assert all("^" in attempt.provider_call_sid for attempt in attempts)
        heard = [event for attempt in attempts for event in attempt.transcript if event["event"] == "heard"]
        assert heard and all(event["valid"] or event["text"] == "啊？你说什么" for event in heard)
        assert db.session.scalar(select(func.count()).select_from(SupervisionCase)) == 0  # they agree
        db.session.remove()
        db.engine.dispose()


def test_the_simulation_can_alternate_both_protocols(tmp_path, monkeypatch):
    app = make_app(
        tmp_path, monkeypatch, SIMULATION_PROTOCOL="both", SIMULATION_MIX="agree=1", SIMULATION_SEED=3
    )
    with app.app_context():
        fresh_schema(app)
        store_connected_orders(current_settings(), "BOTH-1", "BOTH-2", "BOTH-3", "BOTH-4")
        provider = make_provider(app)
        Dialer(
            db.session, provider, CallPacer(db.engine, 1000), current_settings(), app.config, lambda: TEST_NOW
        ).run_pass()
        attempts = db.session.scalars(select(CallAttempt).order_by(CallAttempt.id)).all()
        assert {attempt.disposition for attempt in attempts} == {"completed"}
        kinds = {("smartcall" if "^" in a.provider_call_sid else "twilio") for a in attempts}
        assert kinds == {"smartcall", "twilio"}
        db.session.remove()
        db.engine.dispose()


def test_recovery_after_the_dialing_timeout_applies_to_smartcalls_too(aliyun_app, fake, client):
    from callback.tick import run_tick

    dial(aliyun_app, "STUCK-1")
    attempt = attempt_of("STUCK-1")
    turn(client, attempt.provider_call_sid, f"a{attempt.id}", words="是的")
    run_tick(
        db.session,
        now=TEST_NOW + timedelta(minutes=30),
        settings=current_settings(),
        actor=Actor(source="test"),
    )
    db.session.commit()
    assert attempt_of("STUCK-1").disposition == "partial"


def test_a_lost_receipt_is_recovered_with_query_call_detail_by_call_id(aliyun_app, fake):
    dial(aliyun_app, "QRY-1", "QRY-2")
    first, second = attempt_of("QRY-1"), attempt_of("QRY-2")
    fake.service.call(first.provider_call_sid).detail = {
        "caller": SHOW_NUMBER,
        "callee": "13800138000",
        "state": "200002",
        "stateDesc": "用户占线",
        "duration": 0,
        "gmtCreate": "2026-11-27 10:00:01",
    }
    # Within SILENT_AFTER of the last word from the calls nothing is asked.
    later = lambda minutes: Dialer(  # noqa: E731
        db.session,
        make_provider(aliyun_app),
        CallPacer(db.engine, 1000),
        current_settings(),
        aliyun_app.config,
        lambda: TEST_NOW + timedelta(minutes=minutes),
    )
    later(2).run_pass()
    assert not [r for r in fake.service.requests if r["action"] == "QueryCallDetailByCallId"]
    report = later(6).run_pass()
    queries = [r["params"] for r in fake.service.requests if r["action"] == "QueryCallDetailByCallId"]
    assert {q["CallId"] for q in queries} == {first.provider_call_sid, second.provider_call_sid}
    assert all(q["ProdId"] == "11030000180001" for q in queries)  # 智能外呼
    assert report.recovered_by_lookup == 1
    assert attempt_of("QRY-1").disposition == "busy"
    # The platform knows nothing yet of the other: it waits for its receipt, or for tick.
    assert attempt_of("QRY-2").disposition is None
