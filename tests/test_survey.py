"""The questionnaire as data, answer validation and keypad answers (contract 4.2)."""

from datetime import date, timedelta
from typing import Any

import pytest

from callback.survey import (
    QUESTIONNAIRE,
    QUESTIONS_BY_CODE,
    REQUIRED_FOR_COMPLETED,
    answer_from_keypad,
    applicable_questions,
    date_from_keypad,
    validate_answers,
)

TODAY = date(2026, 3, 10)
COMPLETE = {"progress": "construction", "satisfaction": 4}


def errors_of(raw: Any, disposition: str = "partial", today: date = TODAY) -> dict[str, str]:
    """Validate answers that must fail; return {field: message}."""
    result = validate_answers(raw, disposition, today)
    assert isinstance(result, list), f"expected errors, got {result!r}"
    return {error.field: str(error.message) for error in result}


def clean_of(raw: Any, disposition: str = "partial", today: date = TODAY) -> dict[str, Any]:
    """Validate answers that must pass; return the clean answers."""
    result = validate_answers(raw, disposition, today)
    assert isinstance(result, dict), [error.as_dict() for error in result]
    return result


def test_questionnaire_has_the_contract_questions_in_order_with_their_wording():
    assert [(q.code, q.type, q.zh) for q in QUESTIONNAIRE] == [
        ("is_applicant", "boolean", "您是这张工单的用电申请人吗？"),
        ("applied_on", "date", "您是哪天提出用电申请、交齐资料的？"),
        ("progress", "choice", "现在现场进展到哪一步了？"),
        ("connected_on", "date", "哪天通的电？"),
        ("meter_notified", "boolean", "装表接电前有人通知您吗？"),
        ("trips", "integer", "为办电您跑了几趟？"),
        ("extra_documents", "boolean", "除身份证或营业执照外，是否要求您提供其他材料？"),
        ("fee_requested", "boolean", "是否向您收费、要求您购买材料或指定施工单位？"),
        ("integrity", "boolean", "工作人员是否向您索要礼品、吃请或其他好处？"),
        ("satisfaction", "integer", "您对这次办电总体满意吗？(5 非常满意 … 1 非常不满意)"),
        ("comment", "text", "其他意见"),
    ]
    assert set(QUESTIONS_BY_CODE) == {q.code for q in QUESTIONNAIRE}
    assert REQUIRED_FOR_COMPLETED == ("progress", "satisfaction")
    assert all(q.en for q in QUESTIONNAIRE)


def test_progress_and_satisfaction_choices_carry_the_contract_labels():
    progress = QUESTIONS_BY_CODE["progress"]
    assert [(c.value, c.zh) for c in progress.choices] == [
        ("none", "还没人联系/没动静"),
        ("surveyed", "已勘查"),
        ("construction", "在施工"),
        ("connected", "已装表通电"),
    ]
    satisfaction = QUESTIONS_BY_CODE["satisfaction"]
    assert [(c.value, c.zh) for c in satisfaction.choices] == [
        (5, "非常满意"),
        (4, "满意"),
        (3, "一般"),
        (2, "不满意"),
        (1, "非常不满意"),
    ]


@pytest.mark.parametrize("question", QUESTIONNAIRE, ids=lambda q: q.code)
def test_every_keyed_answer_is_a_valid_stored_answer(question):
    keypad = question.keypad
    if question.type == "text":
        assert keypad is None
        assert question.ivr_prompt_zh is None
        return
    assert keypad is not None
    assert question.ivr_prompt_zh is not None
    assert question.ivr_prompt_zh.startswith(question.ivr_zh or question.zh)
    keys = [key for key, _value in keypad.keys]
    assert len(keys) == len(set(keys)), "keys must differ within a question"
    for key, value in keypad.keys:
        assert f"请按{key}" in question.ivr_prompt_zh
        answers = {
            **({"progress": "connected"} if question.code in ("connected_on", "meter_notified") else {})
        }
        answers[question.code] = value
        assert clean_of(answers)[question.code] == value


def test_keypad_instructions_are_spoken():
    assert QUESTIONS_BY_CODE["is_applicant"].ivr_prompt_zh == "您是这张工单的用电申请人吗？是请按1，否请按2。"
    assert "还没人联系或没动静请按1" in QUESTIONS_BY_CODE["progress"].ivr_prompt_zh
    assert "井号键" in QUESTIONS_BY_CODE["trips"].ivr_prompt_zh
    assert QUESTIONS_BY_CODE["trips"].keypad.finish_on_key == "#"
    assert QUESTIONS_BY_CODE["trips"].keypad.num_digits == 2
    assert "0301" in QUESTIONS_BY_CODE["applied_on"].ivr_prompt_zh
    assert QUESTIONS_BY_CODE["applied_on"].keypad.num_digits == 4
    assert "(5 非常满意" not in QUESTIONS_BY_CODE["satisfaction"].ivr_prompt_zh


def test_a_full_interview_comes_back_in_stored_form():
    raw = {
        "is_applicant": True,
        "applied_on": "2026-03-01",
        "progress": "connected",
        "connected_on": date(2026, 3, 9),
        "meter_notified": False,
        "trips": 0,
        "extra_documents": False,
        "fee_requested": False,
        "integrity": False,
        "satisfaction": 5,
        "comment": "  装得很快  ",
    }
    assert clean_of(raw, "completed") == {**raw, "connected_on": "2026-03-09", "comment": "装得很快"}


def test_null_and_empty_answers_count_as_not_answered():
    raw = {"is_applicant": None, "applied_on": "", "trips": None, "comment": "   ", "progress": ""}
    assert clean_of(raw) == {}


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("is_applicant", "true", "must be true or false"),
        ("is_applicant", 1, "must be true or false"),
        ("trips", True, "must be a whole number"),
        ("trips", 2.0, "must be a whole number"),
        ("trips", "3", "must be a whole number"),
        ("trips", -1, "must be a whole number from 0 to 99"),
        ("trips", 100, "must be a whole number from 0 to 99"),
        ("satisfaction", 0, "must be a whole number from 1 to 5"),
        ("satisfaction", 6, "must be a whole number from 1 to 5"),
        ("satisfaction", "5", "must be a whole number"),
        ("applied_on", "2026/03/01", "must be a date such as 2026-03-01"),
        ("applied_on", "20260301", "must be a date such as 2026-03-01"),
        ("applied_on", "2026-02-30", "must be a date such as 2026-03-01"),
        ("applied_on", "2026-03-01T09:00:00", "must be a date such as 2026-03-01"),
        ("applied_on", 20260301, "must be a date such as 2026-03-01"),
        ("applied_on", "2026-03-11", "must not be in the future"),
        ("progress", "done", "must be one of none, surveyed, construction, connected"),
        ("progress", 4, "must be text"),
        ("comment", 123, "must be text"),
        ("comment", "意" * 1001, "must be at most 1000 characters"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else repr(v)[:20],
)
def test_each_type_rejects_what_is_not_its_kind(code, value, message):
    assert errors_of({code: value}) == {f"answers.{code}": message}


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("applied_on", "2026-03-10"),
        ("comment", "意" * 1000),
        ("trips", 0),
        ("trips", 99),
        ("satisfaction", 1),
    ],
    ids=["date_today", "text_at_limit", "trips_zero", "trips_max", "satisfaction_min"],
)
def test_boundary_answers_are_accepted(code, value):
    assert clean_of({code: value}) == {code: value}


def test_a_date_is_in_the_future_relative_to_the_local_today_given():
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert errors_of({"applied_on": tomorrow}) == {"answers.applied_on": "must not be in the future"}
    assert clean_of({"applied_on": tomorrow}, today=TODAY + timedelta(days=1)) == {"applied_on": tomorrow}


def test_unknown_codes_are_named():
    assert errors_of({"progress": "none", "colour": "blue"}) == {
        "answers.colour": "is not a question of the questionnaire"
    }


@pytest.mark.parametrize("raw", [["progress"], "progress=none", 3], ids=["list", "text", "number"])
def test_answers_must_be_an_object(raw):
    assert errors_of(raw) == {"answers": "must be an object of answers by question code"}


def test_completed_needs_progress_and_satisfaction():
    assert errors_of({"trips": 1}, "completed") == {
        "answers.progress": "is required for a completed call",
        "answers.satisfaction": "is required for a completed call",
    }
    assert clean_of(COMPLETE, "completed") == COMPLETE


def test_partial_needs_nothing():
    assert clean_of({}, "partial") == {}


def test_a_required_answer_of_the_wrong_type_is_reported_once():
    assert errors_of({"progress": "nope", "satisfaction": 3}, "completed") == {
        "answers.progress": "must be one of none, surveyed, construction, connected"
    }


@pytest.mark.parametrize("progress", [None, "none", "surveyed", "construction"], ids=str)
@pytest.mark.parametrize(("code", "value"), [("connected_on", "2026-03-05"), ("meter_notified", True)])
def test_answers_to_questions_that_do_not_apply_are_rejected(progress, code, value):
    raw = {code: value, **({"progress": progress} if progress else {})}
    assert errors_of(raw) == {f"answers.{code}": "applies only when progress is connected"}


def test_power_questions_apply_once_the_customer_has_power():
    raw = {"progress": "connected", "connected_on": "2026-03-05", "meter_notified": True}
    assert clean_of(raw) == raw


def test_a_bad_progress_does_not_also_reject_the_power_questions():
    assert errors_of({"progress": "powered", "connected_on": "2026-03-05"}) == {
        "answers.progress": "must be one of none, surveyed, construction, connected"
    }


def test_applicable_questions_follow_progress():
    without_power = [q.code for q in applicable_questions({"progress": "construction"})]
    assert "connected_on" not in without_power
    assert "meter_notified" not in without_power
    assert [q.code for q in applicable_questions({"progress": "connected"})] == [
        q.code for q in QUESTIONNAIRE
    ]
    assert [q.code for q in applicable_questions({})] == [
        q.code for q in QUESTIONNAIRE if q.code not in ("connected_on", "meter_notified")
    ]


@pytest.mark.parametrize(
    ("digits", "today", "expected"),
    [
        ("1228", date(2026, 1, 5), date(2025, 12, 28)),
        ("0105", date(2026, 1, 5), date(2026, 1, 5)),
        ("0106", date(2026, 1, 5), date(2025, 1, 6)),
        ("0104", date(2026, 1, 5), date(2026, 1, 4)),
        ("0229", date(2026, 3, 1), date(2024, 2, 29)),
        ("0229", date(2028, 3, 1), date(2028, 2, 29)),
        ("1301", date(2026, 1, 5), None),
        ("0231", date(2026, 1, 5), None),
        ("0100", date(2026, 1, 5), None),
        ("123", date(2026, 1, 5), None),
        ("12345", date(2026, 1, 5), None),
        ("12a4", date(2026, 1, 5), None),
        ("", date(2026, 1, 5), None),
    ],
    ids=[
        "across_new_year",
        "today",
        "tomorrow_means_last_year",
        "yesterday",
        "leap_day_back_to_leap_year",
        "leap_day_this_year",
        "month_13",
        "february_31",
        "day_0",
        "three_digits",
        "five_digits",
        "not_digits",
        "empty",
    ],
)
def test_keypad_dates_are_the_most_recent_such_day_not_in_the_future(digits, today, expected):
    assert date_from_keypad(digits, today) == expected


@pytest.mark.parametrize(
    ("code", "digits", "expected"),
    [
        ("is_applicant", "1", True),
        ("is_applicant", "2", False),
        ("is_applicant", "3", None),
        ("progress", "1", "none"),
        ("progress", "4", "connected"),
        ("progress", "5", None),
        ("trips", "3#", 3),
        ("trips", "12", 12),
        ("trips", "0#", 0),
        ("trips", "123", None),
        ("trips", "#", None),
        ("satisfaction", "5", 5),
        ("satisfaction", "1", 1),
        ("satisfaction", "6", None),
        ("satisfaction", "0", None),
        ("applied_on", "1228", "2025-12-28"),
        ("applied_on", "1301", None),
        ("comment", "1", None),
    ],
    ids=lambda v: repr(v),
)
def test_keypad_entries_become_stored_answers(code, digits, expected):
    assert answer_from_keypad(QUESTIONS_BY_CODE[code], digits, date(2026, 1, 5)) == expected
