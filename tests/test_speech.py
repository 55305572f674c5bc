"""Answers by voice: many phrasings of each question, understood or refused, never guessed."""

from datetime import date

import pytest

from callback.speech import NotUnderstood, chinese_number, normalise, understand
from callback.survey import QUESTIONS_BY_CODE

TODAY = date(2026, 11, 27)  # a Friday

YES_NO = [
    ("is_applicant", "是", True),
    ("is_applicant", "是的", True),
    ("is_applicant", "是的是的。", True),
    ("is_applicant", "对", True),
    ("is_applicant", "对的", True),
    ("is_applicant", "嗯", True),
    ("is_applicant", "嗯嗯，是我", True),
    ("is_applicant", "没错", True),
    ("is_applicant", "我就是", True),
    ("is_applicant", "本人", True),
    ("is_applicant", "1", True),
    ("is_applicant", "不是", False),
    ("is_applicant", "不是我，是我老板", False),
    ("is_applicant", "我不是", False),
    ("is_applicant", "2", False),
    ("meter_notified", "通知了", True),
    ("meter_notified", "有人打过电话", True),
    ("meter_notified", "有", True),
    ("meter_notified", "没有", False),
    ("meter_notified", "没人通知", False),
    ("meter_notified", "没通知啊", False),
    ("extra_documents", "没有", False),
    ("extra_documents", "没要", False),
    ("extra_documents", "只要了身份证", False),
    ("extra_documents", "要了，还要了房产证", True),
    ("fee_requested", "没收钱", False),
    ("fee_requested", "收了", True),
    ("fee_requested", "否", False),
    ("integrity", "没有没有", False),
    ("integrity", "无", False),
    ("integrity", "有的", True),
]


@pytest.mark.parametrize(("code", "said", "expected"), YES_NO)
def test_yes_and_no_are_understood_in_their_everyday_forms(code, said, expected):
    assert understand(QUESTIONS_BY_CODE[code], said, TODAY) is expected


PROGRESS = [
    ("还没人联系", "none"),
    ("没人联系我", "none"),
    ("没动静", "none"),
    ("一直没有动静", "none"),
    ("还没通电", "none"),
    ("还没施工呢", "none"),
    ("已勘查", "surveyed"),
    ("来看过现场了", "surveyed"),
    ("勘察过了，还没施工", "surveyed"),
    ("在施工", "construction"),
    ("正在施工", "construction"),
    ("已经开工了", "construction"),
    ("勘查过了，现在在施工", "construction"),
    ("已装表通电", "connected"),
    ("已经通电了", "connected"),
    ("电通了", "connected"),
    ("有电了", "connected"),
    ("表装好了，装表接电都弄完了", "connected"),
    ("4", "connected"),
    ("四", "connected"),
    ("按2", "surveyed"),
]


@pytest.mark.parametrize(("said", "expected"), PROGRESS)
def test_progress_is_the_furthest_stage_said_and_a_denied_one_is_no_progress(said, expected):
    assert understand(QUESTIONS_BY_CODE["progress"], said, TODAY) == expected


SATISFACTION = [
    ("非常满意", 5),
    ("很满意", 5),
    ("特别满意！", 5),
    ("满意", 4),
    ("挺满意的", 4),
    ("比较满意吧", 4),
    ("一般", 3),
    ("还行", 3),
    ("还可以吧", 3),
    ("不满意", 2),
    ("不太满意", 2),
    ("非常不满意", 1),
    ("很不满意", 1),
    ("太差了", 1),
    ("五分", 5),
    ("给3分", 3),
    ("5", 5),
]


@pytest.mark.parametrize(("said", "expected"), SATISFACTION)
def test_satisfaction_is_understood_from_words_or_a_score(said, expected):
    assert understand(QUESTIONS_BY_CODE["satisfaction"], said, TODAY) == expected


TRIPS = [
    ("三趟", 3),
    ("跑了三趟", 3),
    ("两趟", 2),
    ("2次", 2),
    ("一趟", 1),
    ("就一次", 1),
    ("十趟", 10),
    ("十二趟", 12),
    ("二十趟", 20),
    ("一趟也没跑", 0),
    ("没跑", 0),
    ("都没去过", 0),
    ("零次", 0),
    ("0", 0),
]


@pytest.mark.parametrize(("said", "expected"), TRIPS)
def test_a_number_of_trips_is_understood_in_digits_or_chinese_numerals(said, expected):
    assert understand(QUESTIONS_BY_CODE["trips"], said, TODAY) == expected


DATES = [
    ("十一月五号", "2026-11-05"),
    ("11月5日", "2026-11-05"),
    ("十一月五日", "2026-11-05"),
    ("12月3号", "2025-12-03"),  # December 3rd has not come yet this year: last year's
    ("二〇二六年十月一日", "2026-10-01"),
    ("2026年10月1日", "2026-10-01"),
    ("去年十二月二十号", "2025-12-20"),
    ("上个月二十号", "2026-10-20"),
    ("这个月三号", "2026-11-03"),
    ("二十号", "2026-11-20"),
    ("三十号", "2026-10-30"),  # the 30th has not come this month: last month's
    ("昨天", "2026-11-26"),
    ("前天", "2026-11-25"),
    ("大前天", "2026-11-24"),
    ("今天", "2026-11-27"),
    ("三天前", "2026-11-24"),
    ("是十一月二十三号交的", "2026-11-23"),
]


@pytest.mark.parametrize(("said", "expected"), DATES)
def test_dates_said_in_chinese_are_the_most_recent_such_day(said, expected):
    assert understand(QUESTIONS_BY_CODE["applied_on"], said, TODAY) == expected


NOT_UNDERSTOOD = [
    ("is_applicant", ""),
    ("is_applicant", "，。"),
    ("is_applicant", "不知道"),
    ("is_applicant", "你说什么"),
    ("is_applicant", "喂喂"),
    ("is_applicant", "对，不是"),
    ("is_applicant", "今天天气真好"),
    ("meter_notified", "不记得了"),
    ("progress", "不清楚"),
    ("progress", "挺好的"),
    ("satisfaction", "不是很满意"),
    ("satisfaction", "满意，一般"),
    ("trips", "好几趟"),
    ("trips", "一两趟"),
    ("trips", "三四趟"),
    ("trips", "记不清了"),
    ("trips", "一百趟"),
    ("trips", "很多"),
    ("applied_on", "不记得哪天了"),
    ("applied_on", "十二月三十号"),  # never in the future: last year's, and a different date below
    ("applied_on", "上个月吧"),
    ("applied_on", "明天"),
    ("applied_on", "二月三十号"),
    ("applied_on", "十一月五号或者六号"),
    ("comment", "没有意见"),
]


@pytest.mark.parametrize(("code", "said"), NOT_UNDERSTOOD)
def test_what_is_not_exactly_one_answer_is_not_understood(code, said):
    result = understand(QUESTIONS_BY_CODE[code], said, TODAY)
    if code == "applied_on" and said == "十二月三十号":
        assert result == "2025-12-30"  # said without a year: the last such day, not a future one
        return
    assert isinstance(result, NotUnderstood), result
    assert result.reason


def test_understood_answers_pass_the_questionnaires_own_validation():
    from callback.survey import validate_answers

    answers = {
        "is_applicant": understand(QUESTIONS_BY_CODE["is_applicant"], "是的", TODAY),
        "applied_on": understand(QUESTIONS_BY_CODE["applied_on"], "十一月五号", TODAY),
        "progress": understand(QUESTIONS_BY_CODE["progress"], "已经通电了", TODAY),
        "connected_on": understand(QUESTIONS_BY_CODE["connected_on"], "昨天", TODAY),
        "trips": understand(QUESTIONS_BY_CODE["trips"], "三趟", TODAY),
        "satisfaction": understand(QUESTIONS_BY_CODE["satisfaction"], "很满意", TODAY),
    }
    assert validate_answers(answers, "completed", TODAY) == answers


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("三", 3),
        ("两", 2),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十五", 25),
        ("九十九", 99),
        ("12", 12),
    ],
)
def test_chinese_numerals(token, value):
    assert chinese_number(token) == value


@pytest.mark.parametrize("token", ["一二", "十十", "两十", "百", "二十五六"])
def test_what_is_not_one_numeral_has_no_value(token):
    assert chinese_number(token) is None


def test_normalise_drops_punctuation_fillers_and_full_width_digits():
    assert normalise(" 嗯，是的呀！ ３趟。") == "嗯是的3趟"


def test_every_question_put_by_voice_offers_hints():
    for code in ("is_applicant", "progress", "meter_notified", "satisfaction"):
        hints = QUESTIONS_BY_CODE[code].speech_hints
        assert hints and all(hints)
