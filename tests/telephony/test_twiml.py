"""The IVR's TwiML, checked with XPath as Twilio reads it."""

import pytest

from callback.survey import QUESTIONNAIRE
from callback.telephony import twiml
from tests.telephony.helpers import parse_twiml

ACTION = "https://callback.example.com/twilio/gather/7?q=progress&try=1"


@pytest.mark.parametrize("question", [q for q in QUESTIONNAIRE if q.keypad is not None], ids=lambda q: q.code)
def test_each_question_is_spoken_in_mandarin_inside_a_gather_with_its_keypad_and_voice(question):
    root = parse_twiml(
        twiml.ask(question.ivr_prompt_zh, question.keypad, ACTION, hints=question.speech_hints)
    )
    gather = root.find("./Gather")
    assert gather.get("action") == ACTION and gather.get("method") == "POST"
    # Keys or words: Mandarin speech recognition, with the question's spoken forms as hints.
    assert gather.get("input") == "dtmf speech"
    assert gather.get("language") == "cmn-Hans-CN"
    assert gather.get("speechTimeout") == "auto"
    if question.speech_hints:
        assert gather.get("hints").split(", ") == list(question.speech_hints)
    assert gather.get("numDigits") == str(question.keypad.num_digits)
    assert gather.get("finishOnKey") == question.keypad.finish_on_key
    assert int(gather.get("timeout")) > 0
    assert gather.get("actionOnEmptyResult") == "true"
    say = root.find("./Gather/Say")
    assert say.get("language") == "cmn-CN" and say.get("voice").startswith("Polly.")
    assert say.text == question.ivr_prompt_zh


def test_dates_take_four_digits_and_a_yes_no_question_one():
    by_code = {q.code: q for q in QUESTIONNAIRE}
    date = parse_twiml(twiml.ask("x", by_code["applied_on"].keypad, ACTION)).find("./Gather")
    yes_no = parse_twiml(twiml.ask("x", by_code["integrity"].keypad, ACTION)).find("./Gather")
    assert (date.get("numDigits"), yes_no.get("numDigits")) == ("4", "1")


def test_a_preamble_is_said_before_the_gather_and_goodbye_hangs_up():
    root = parse_twiml(twiml.ask("问题", QUESTIONNAIRE[0].keypad, ACTION, preamble=twiml.INVALID_ENTRY))
    assert [child.tag for child in root] == ["Say", "Gather"]
    assert root.find("./Say").text == twiml.INVALID_ENTRY
    closing = parse_twiml(twiml.goodbye())
    assert [child.tag for child in closing] == ["Say", "Hangup"]
    assert [child.tag for child in parse_twiml(twiml.hang_up())] == ["Hangup"]


def test_the_recording_notice_is_said_first_outside_the_gather():
    root = parse_twiml(
        twiml.ask(
            "问题", QUESTIONNAIRE[0].keypad, ACTION, preamble=twiml.GREETING, notice=twiml.RECORDING_NOTICE
        )
    )
    assert [child.tag for child in root] == ["Say", "Say", "Gather"]
    assert root.find("./Say[1]").text == "本次通话将被录音。"
    assert root.find("./Say[1]").get("language") == "cmn-CN"
    assert root.find("./Say[2]").text == twiml.GREETING
    assert "录音" not in root.find("./Gather/Say").text  # a key press cannot skip the notice


def test_a_gather_without_hints_has_no_hints_attribute():
    gather = parse_twiml(twiml.ask("问题", QUESTIONNAIRE[0].keypad, ACTION)).find("./Gather")
    assert gather.get("hints") is None and gather.get("input") == "dtmf speech"


@pytest.mark.parametrize("question", [q for q in QUESTIONNAIRE if q.keypad is not None], ids=lambda q: q.code)
def test_the_kept_rendering_of_a_question_is_the_builders_for_every_call(question):
    arguments = {"preamble": twiml.INVALID_ENTRY, "hints": question.speech_hints}
    for attempt_id in (7, 123456):
        action = f"https://callback.example.com/twilio/gather/{attempt_id}?q={question.code}&try=2"
        kept = twiml.ask(question.ivr_prompt_zh, question.keypad, action, **arguments)
        assert kept == twiml.render_ask(question.ivr_prompt_zh, question.keypad, action, **arguments)
        assert parse_twiml(kept).find("./Gather").get("action") == action
