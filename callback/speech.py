"""Answers by voice: what a customer said (the provider's speech recognition text) as a questionnaire answer.

One pure function, `understand(question, text, today)`, for every provider: Twilio's `SpeechResult`
and Alibaba Cloud SmartCall's ASR `words` go through it alike. It never guesses: anything it cannot map
to exactly one answer — "不知道", two different numbers, a date in the future, a yes and a no at
once — is `NotUnderstood`, so the IVR asks again and, in the end, hands the customer to an operator.

The spoken forms live with the questionnaire (`Question.spoken`, `Choice.spoken` in callback/survey.py); the
yes/no forms every boolean question shares, the Chinese numerals and the date phrases are here.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from callback.survey import KEYPAD_YEARS_BACK, AnswerValue, Question

# Said instead of an answer: asked again, never taken for a "no" because they contain 不 or 没.
DONT_KNOW = (
    "不知道",
    "不清楚",
    "不记得",
    "记不清",
    "记不得",
    "忘了",
    "忘记了",
    "说不好",
    "说不清",
    "不确定",
    "不好说",
    "没听清",
    "听不清",
    "什么",
    "啥",
    "再说一遍",
    "再说一次",
    "你说",
    "喂",
)
# Shared by every yes/no question; the question's own forms (Question.spoken) come first.
NO_FORMS = ("不是", "没有", "没", "不", "否", "无", "未", "别")
YES_FORMS = ("是", "对", "嗯", "有", "要", "收", "确实", "当然", "肯定")
# A yes-form right after one of these belongs to a "no": 没有, 不是, 不对, 没要, 没收.
NEGATORS = ("没", "不", "未", "无", "别")
# Phrases that mean "none at all" for a count: 一趟也没跑 is 0, not 1.
ZERO_FORMS = (
    "也没",
    "都没",
    "也不用",
    "都不用",
    "没跑",
    "没去",
    "没有跑",
    "没有去",
    "不用跑",
    "不用去",
    "零",
)

DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6}
DIGITS |= {"七": 7, "八": 8, "九": 9}
CHINESE_NUMBER = re.compile(r"[零〇一幺二两俩三四五六七八九十百千万]+|\d+")
# Punctuation and fillers the recogniser adds, removed before matching.
NOISE = re.compile(r"[\s，。！？、,.!?；;：:…~～\"'“”‘’（）()]+|[啊呀吧呢嘛哦噢喔哈呃额诶欸]")

MONTH_DAY = re.compile(
    r"(?:(?P<year>\d{4}|[零〇一二三四五六七八九]{4})年)?"
    r"(?:(?P<month>\d{1,2}|[一二三四五六七八九十]{1,3})月(?:份)?)?"
    r"(?P<day>\d{1,2}|[一二三四五六七八九十]{1,3})(?:号|日)"
)
MONTH_ONLY_PREFIX = {"上个月": -1, "上月": -1, "这个月": 0, "本月": 0, "这月": 0}
RELATIVE_DAYS = {"大前天": 3, "前天": 2, "昨天": 1, "昨日": 1, "今天": 0, "今日": 0}
DAYS_AGO = re.compile(r"(?P<n>\d+|[一二两三四五六七八九十]+)天(?:以)?前")


@dataclass(frozen=True)
class NotUnderstood:
    """The words could not be taken for exactly one answer; `reason` says why (for the transcript)."""

    reason: str


def normalise(text: str) -> str:
    """Return the words without spaces, punctuation or filler particles, digits as ASCII."""
    return NOISE.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def chinese_number(token: str) -> int | None:
    """Return the value of a number 0–99 in digits or Chinese numerals (三, 十二, 两), or None."""
    if token.isdigit():
        return int(token)
    if any(char not in DIGITS and char != "十" for char in token):
        return None
    if "十" not in token:
        if len(token) != 1:
            return None  # "一二" is not a number a person says
        return DIGITS[token]
    tens, _, ones = token.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    tens_value = DIGITS.get(tens, -1) if tens else 1
    ones_value = DIGITS.get(ones, -1) if ones else 0
    if tens_value < 1 or ones_value < 0 or tens in ("两", "俩", "零", "〇"):
        return None
    return tens_value * 10 + ones_value


def understand(question: Question, text: str, today: date) -> AnswerValue | NotUnderstood:
    """Return the stored answer the words stand for, or NotUnderstood; `today` is the local date."""
    words = normalise(text)
    if not words:
        return NotUnderstood("nothing was said")
    if question.type == "date":
        return _date(words, today)
    if any(phrase in words for phrase in DONT_KNOW):
        return NotUnderstood("the customer does not know")
    if question.type == "boolean":
        return _boolean(question, words)
    if question.choices:
        return _choice(question, words)
    if question.type == "integer":
        return _count(question, words)
    return NotUnderstood("this question is not answered by voice")


def _own_phrase(question: Question, words: str) -> AnswerValue | None:
    """Return the value of the longest of the question's own spoken forms found in the words."""
    found = [(len(phrase), value) for phrase, value in question.spoken if phrase in words]
    values = {value for _, value in found}
    if len(values) == 1:
        return values.pop()
    if len(values) > 1:
        longest = max(found, key=lambda item: item[0])
        if sum(1 for length, _ in found if length == longest[0]) == 1:
            return longest[1]
    return None


def _boolean(question: Question, words: str) -> AnswerValue | NotUnderstood:
    own = _own_phrase(question, words)
    if own is not None:
        return own
    if words in ("1", "一"):  # the key's number said aloud: 是请按1
        return True
    if words in ("2", "二"):
        return False
    words = words.replace("没错", "对").replace("不错", "对")
    negative = any(form in words for form in NO_FORMS)
    positive = any(
        not words[max(0, match.start() - 1) : match.start()].endswith(NEGATORS)
        for form in YES_FORMS
        for match in re.finditer(re.escape(form), words)
    )
    if negative and positive:
        return NotUnderstood("both a yes and a no")
    if negative:
        return False
    if positive:
        return True
    return NotUnderstood("neither a yes nor a no")


def _negated(words: str, start: int) -> bool:
    """Tell whether the phrase at `start` is negated by 没/未/不 just before it (还没施工, 未勘查)."""
    before = words[max(0, start - 3) : start]
    return any(negator in before for negator in ("没", "未", "不"))


def _choice(question: Question, words: str) -> AnswerValue | NotUnderstood:
    own = _own_phrase(question, words)
    if own is not None:
        return own
    sole = words.removeprefix("按").removesuffix("号")
    for choice in question.choices:
        if sole in (choice.key, _numeral(choice.key)) or words == choice.zh:
            return choice.value
    if question.type == "integer":
        scored = _satisfaction(question, words)
        if scored is not None:
            return scored
    matches = [
        (match.start(), match.end(), index)
        for index, choice in enumerate(question.choices)
        for phrase in (choice.zh, *choice.spoken)
        for match in re.finditer(re.escape(phrase), words)
    ]
    # A phrase inside a longer one is part of it: 满意 inside 非常不满意 counts as 非常不满意.
    outer = [
        (start, end, index)
        for start, end, index in matches
        if not any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in matches)
    ]
    positive = [index for start, _, index in outer if not _negated(words, start)]
    negated = len(positive) < len(outer)
    if positive:
        if question.code == "progress":
            # Stages are ordered: "勘查过了，正在施工" is as far as the furthest stage named.
            return question.choices[max(positive)].value
        if len(set(positive)) == 1:
            return question.choices[positive[0]].value
        return NotUnderstood("more than one answer")
    if negated and question.code == "progress":
        return question.choices[0].value  # 还没施工, 还没通电: nothing has happened yet
    return NotUnderstood("no answer among the choices")


def _satisfaction(question: Question, words: str) -> AnswerValue | None:
    """Return a score said as a number (五分, 打4分, 给三分), or None."""
    match = re.search(r"([一二三四五12345])分", words)
    if match is None:
        return None
    value = chinese_number(match.group(1))
    return value if question.choice_for(value) is not None else None


def _numeral(digit: str) -> str:
    return "零一二三四五六七八九"[int(digit)] if digit.isdigit() and len(digit) == 1 else digit


def _count(question: Question, words: str) -> AnswerValue | NotUnderstood:
    if any(form in words for form in ZERO_FORMS) or words in ("没有", "没", "不用", "一趟没跑"):
        return 0
    values = {chinese_number(token) for token in CHINESE_NUMBER.findall(words)}
    values.discard(None)
    if "好几" in words or "几" in words or "多" in words:
        return NotUnderstood("not an exact number")
    if len(values) != 1:
        return NotUnderstood("no number" if not values else "more than one number")
    value = values.pop()
    assert value is not None  # noqa: S101  (None was discarded)
    if (question.minimum is not None and value < question.minimum) or (
        question.maximum is not None and value > question.maximum
    ):
        return NotUnderstood("out of range")
    return value


def _recent(month: int, day: int, today: date) -> date | None:
    """Return the most recent date not after today with this month and day (like a keypad date)."""
    for year in range(today.year, today.year - KEYPAD_YEARS_BACK - 1, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            if not 1 <= month <= 12 or not 1 <= day <= 31:
                return None
            continue
        if candidate <= today:
            return candidate
    return None


def _month_shift(today: date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def _date(words: str, today: date) -> AnswerValue | NotUnderstood:
    if any(phrase in words for phrase in DONT_KNOW):
        return NotUnderstood("the customer does not know")
    found: list[date] = []
    for phrase, days in RELATIVE_DAYS.items():
        if phrase in words and not (phrase == "前天" and "大前天" in words):
            found.append(today - timedelta(days=days))
    for match in DAYS_AGO.finditer(words):
        count = chinese_number(match.group("n"))
        if count is not None:
            found.append(today - timedelta(days=count))
    for match in MONTH_DAY.finditer(words):
        day = chinese_number(match.group("day"))
        month_text, year_text = match.group("month"), match.group("year")
        prefix = next((p for p in MONTH_ONLY_PREFIX if words[: match.start()].endswith(p)), None)
        if day is None:
            return NotUnderstood("not a day of the month")
        if month_text:
            month = chinese_number(month_text)
            if month is None:
                return NotUnderstood("not a month")
            if year_text:
                year = (
                    int(year_text) if year_text.isdigit() else int("".join(str(DIGITS[c]) for c in year_text))
                )
                try:
                    found.append(date(year, month, day))
                except ValueError:
                    return NotUnderstood("no such date")
                continue
            if words[: match.start()].endswith("去年"):
                try:
                    found.append(date(today.year - 1, month, day))
                except ValueError:
                    return NotUnderstood("no such date")
                continue
            recent = _recent(month, day, today)
            if recent is None:
                return NotUnderstood("no such date")
            found.append(recent)
            continue
        year, month = _month_shift(today, MONTH_ONLY_PREFIX[prefix]) if prefix else (today.year, today.month)
        try:
            candidate = date(year, month, day)
        except ValueError:
            return NotUnderstood("no such date")
        if prefix is None and candidate > today:
            # "二十号" said on the 5th: the 20th of last month.
            year, month = _month_shift(today, -1)
            try:
                candidate = date(year, month, day)
            except ValueError:
                return NotUnderstood("no such date")
        found.append(candidate)
    if not found:
        return NotUnderstood("no date")
    if len(set(found)) > 1:
        return NotUnderstood("more than one date")
    said = found[0]
    if said > today:
        return NotUnderstood("a date in the future")
    return said.isoformat()
