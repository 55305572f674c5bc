"""The callback questionnaire (回访问卷) as data: the operator form, the IVR, validation and findings read it.

Contract 4.2 defines the questions. Each `Question` carries its Chinese wording (exactly the contract's), a
natural English wording, its type and bounds, when it is asked, and how the IVR collects it on the keypad.
Answers are stored as JSON: booleans, ints, choice values, text, and dates as "YYYY-MM-DD".
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from callback.fields import FieldError
from callback.models.attempt import Disposition
from callback.text import has_control_characters

QuestionType = Literal["boolean", "date", "choice", "integer", "text"]
AnswerValue = bool | int | str

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
KEYPAD_DATE = re.compile(r"\d{4}")
KEYPAD_DIGITS = re.compile(r"\d+")
# How far back a keypad date may look for a year in which MMDD exists (29 February: up to 8 years).
KEYPAD_YEARS_BACK = 8


@dataclass(frozen=True)
class Choice:
    """One answer to pick: the value stored, its labels, and the keypad digit that picks it."""

    value: str | int
    zh: str
    en: str
    key: str
    # What a customer may say for it (besides `zh`), for answers by voice (callback/speech.py).
    spoken: tuple[str, ...] = ()


@dataclass(frozen=True)
class Keypad:
    """How the IVR collects one answer with Twilio `<Gather>`.

    `num_digits` is Gather's numDigits (the most digits taken); `finish_on_key` is Gather's finishOnKey
    ("#" when the caller may end a shorter entry with it, "" to disable it); `keys` maps each single digit
    to the value it stores, for questions answered with one key.
    """

    num_digits: int
    finish_on_key: str = ""
    keys: tuple[tuple[str, AnswerValue], ...] = ()

    def value_for(self, key: str) -> AnswerValue | None:
        """Return the value a single key stands for, or None if it stands for nothing."""
        return dict(self.keys).get(key)


@dataclass(frozen=True)
class AnswerIs:
    """A condition on the answers so far: question `code` was answered `value`."""

    code: str
    value: AnswerValue

    def __call__(self, answers: Mapping[str, Any]) -> bool:
        """Tell whether the answers so far satisfy the condition."""
        return answers.get(self.code) == self.value


def always(answers: Mapping[str, Any]) -> bool:
    """Ask the question whatever the answers so far."""
    return True


@dataclass(frozen=True)
class Question:
    """One question: wording, type and bounds, when it is asked, and how the IVR takes it.

    A question with `choices` is answered by picking one of them; its `type` says what the stored value is
    (`choice`: the choice's text value; `integer`: a labelled scale such as satisfaction).
    """

    code: str
    type: QuestionType
    zh: str
    en: str
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    # The question as spoken by the IVR, when it differs from `zh` (which may carry written hints).
    ivr_zh: str | None = None
    asked_when: Callable[[Mapping[str, Any]], bool] = field(default=always)
    # Phrases a customer may say, with the answer each stands for, checked before the shared forms
    # (yes/no, numbers, dates) of callback/speech.py.
    spoken: tuple[tuple[str, AnswerValue], ...] = ()

    @property
    def keypad(self) -> Keypad | None:
        """Return how the IVR collects this answer; None for text, which the IVR skips."""
        if self.type == "boolean":
            return Keypad(num_digits=1, keys=(("1", True), ("2", False)))
        if self.choices:
            return Keypad(num_digits=1, keys=tuple((choice.key, choice.value) for choice in self.choices))
        if self.type == "integer":
            return Keypad(num_digits=len(str(self.maximum)), finish_on_key="#")
        if self.type == "date":
            return Keypad(num_digits=4)
        return None

    @property
    def ivr_prompt_zh(self) -> str | None:
        """Return what the IVR says: the question and how to answer it on the keypad; None if not asked."""
        if self.keypad is None:
            return None
        question = self.ivr_zh or self.zh
        if self.type == "boolean":
            instructions = "是请按1，否请按2。"
        elif self.choices:
            # A written "A/B" label is spoken "A或B".
            instructions = "，".join(f"{c.zh.replace('/', '或')}请按{c.key}" for c in self.choices) + "。"
        elif self.type == "integer":
            instructions = "请用数字键输入，以井号键结束。"
        else:
            instructions = "请输入四位数字的月和日，例如3月1日请按0301。"
        return question + instructions

    @property
    def speech_hints(self) -> tuple[str, ...]:
        """Return phrases the recogniser should expect for this question (Twilio <Gather hints>)."""
        phrases = [choice.zh.replace("/", "，") for choice in self.choices]
        phrases += [phrase for choice in self.choices for phrase in choice.spoken]
        phrases += [phrase for phrase, _ in self.spoken]
        if self.type == "boolean":
            phrases += ["是", "不是", "对", "没有", "有"]
        return tuple(dict.fromkeys(phrases))

    def choice_for(self, value: Any) -> Choice | None:
        """Return the choice whose value is `value`, if the question has one."""
        for choice in self.choices:
            if choice.value == value and type(choice.value) is type(value):
                return choice
        return None


POWERED = AnswerIs("progress", "connected")

QUESTIONNAIRE: tuple[Question, ...] = (
    Question(
        "is_applicant",
        "boolean",
        zh="您是这张工单的用电申请人吗？",
        en="Are you the applicant for this work order?",
        spoken=(("我就是", True), ("本人", True), ("是我", True), ("不是我", False), ("我不是", False)),
    ),
    Question(
        "applied_on",
        "date",
        zh="您是哪天提出用电申请、交齐资料的？",
        en="On which day did you apply and hand in all the documents?",
    ),
    Question(
        "progress",
        "choice",
        zh="现在现场进展到哪一步了？",
        en="How far has the work on site got?",
        choices=(
            Choice(
                "none",
                "还没人联系/没动静",
                "Nobody has been in touch / nothing has happened",
                "1",
                spoken=("没人联系", "没人来", "没动静", "没有动静", "没消息", "没进展", "还没开始", "没开始"),
            ),
            Choice(
                "surveyed",
                "已勘查",
                "The site has been surveyed",
                "2",
                spoken=("勘查", "勘察", "看过现场", "来看过", "看了现场", "踏勘", "现场看了"),
            ),
            Choice(
                "construction",
                "在施工",
                "Construction is under way",
                "3",
                spoken=("施工", "动工", "开工", "在装", "正在装", "在建", "架线", "在弄"),
            ),
            Choice(
                "connected",
                "已装表通电",
                "The meter is installed and the power is on",
                "4",
                spoken=(
                    "通电",
                    "通了电",
                    "电通了",
                    "来电了",
                    "有电了",
                    "用上电",
                    "装表",
                    "装好表",
                    "接电",
                    "送电",
                ),
            ),
        ),
    ),
    Question(
        "connected_on",
        "date",
        zh="哪天通的电？",
        en="On which day was the power switched on?",
        asked_when=POWERED,
    ),
    Question(
        "meter_notified",
        "boolean",
        zh="装表接电前有人通知您吗？",
        en="Were you told before the meter was installed and connected?",
        asked_when=POWERED,
        spoken=(
            ("通知了", True),
            ("通知过", True),
            ("打过电话", True),
            ("没通知", False),
            ("没人通知", False),
        ),
    ),
    Question(
        "trips",
        "integer",
        zh="为办电您跑了几趟？",
        en="How many trips did you have to make to get connected?",
        minimum=0,
        maximum=99,
    ),
    Question(
        "extra_documents",
        "boolean",
        zh="除身份证或营业执照外，是否要求您提供其他材料？",
        en="Apart from your ID card or business licence, were you asked for any other documents?",
        spoken=(
            ("只要了身份证", False),
            ("只要身份证", False),
            ("只要了营业执照", False),
            ("就身份证", False),
        ),
    ),
    Question(
        "fee_requested",
        "boolean",
        zh="是否向您收费、要求您购买材料或指定施工单位？",
        en="Were you charged a fee, asked to buy materials, or told which contractor to use?",
    ),
    Question(
        "integrity",
        "boolean",
        zh="工作人员是否向您索要礼品、吃请或其他好处？",
        en="Did any staff member ask you for gifts, meals or other favours?",
    ),
    Question(
        "satisfaction",
        "integer",
        zh="您对这次办电总体满意吗？(5 非常满意 … 1 非常不满意)",
        en="Overall, how satisfied are you with getting connected? (5 very satisfied … 1 very dissatisfied)",
        choices=(
            Choice(
                5, "非常满意", "Very satisfied", "5", spoken=("很满意", "特别满意", "十分满意", "太满意了")
            ),
            Choice(4, "满意", "Satisfied", "4", spoken=("挺满意", "比较满意", "还算满意", "满意的")),
            Choice(
                3,
                "一般",
                "Neither satisfied nor dissatisfied",
                "3",
                spoken=("还行", "还可以", "凑合", "马马虎虎"),
            ),
            Choice(2, "不满意", "Dissatisfied", "2", spoken=("不太满意", "不怎么满意", "不大满意")),
            Choice(
                1,
                "非常不满意",
                "Very dissatisfied",
                "1",
                spoken=("很不满意", "特别不满意", "太差了", "非常差"),
            ),
        ),
        minimum=1,
        maximum=5,
        ivr_zh="您对这次办电总体满意吗？",
    ),
    Question("comment", "text", zh="其他意见", en="Any other comments", max_length=1000),
)
QUESTIONS_BY_CODE: dict[str, Question] = {question.code: question for question in QUESTIONNAIRE}
REQUIRED_FOR_COMPLETED: tuple[str, ...] = ("progress", "satisfaction")


def applicable_questions(answers: Mapping[str, Any]) -> list[Question]:
    """Return the questions that apply given the answers so far, in questionnaire order."""
    return [question for question in QUESTIONNAIRE if question.asked_when(answers)]


class _Invalid(ValueError):
    def __init__(self, message: str | LazyString) -> None:
        self.message = message


def _clean(question: Question, value: Any, today: date) -> AnswerValue | None:
    """Return the answer in its stored form, None when not answered, or raise _Invalid."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if question.type == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(_l("must be true or false"))
        return value
    if question.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(_l("must be a whole number"))
        if (question.minimum is not None and value < question.minimum) or (
            question.maximum is not None and value > question.maximum
        ):
            raise _Invalid(
                _l(
                    "must be a whole number from %(minimum)s to %(maximum)s",
                    minimum=question.minimum,
                    maximum=question.maximum,
                )
            )
        return value
    if question.type == "date":
        return _clean_date(value, today).isoformat()
    if not isinstance(value, str):
        raise _Invalid(_l("must be text"))
    if question.type == "choice":
        if question.choice_for(value) is None:
            allowed = ", ".join(str(choice.value) for choice in question.choices)
            raise _Invalid(_l("must be one of %(choices)s", choices=allowed))
        return value
    text = value.strip()
    if question.max_length is not None and len(text) > question.max_length:
        raise _Invalid(_l("must be at most %(limit)d characters", limit=question.max_length))
    if has_control_characters(text):
        raise _Invalid(_l("must not contain control characters"))
    return text


def _clean_date(value: Any, today: date) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise _Invalid(_l("must be a date such as 2026-03-01")) from None
    else:
        raise _Invalid(_l("must be a date such as 2026-03-01"))
    if parsed > today:
        raise _Invalid(_l("must not be in the future"))
    return parsed


def validate_answers(raw: Any, disposition: str, today: date) -> dict[str, Any] | list[FieldError]:
    """Check a call's answers against the questionnaire; return them clean, or every problem by field.

    `today` is the local date, the latest an answered date may be. Null or empty means not answered.
    A `completed` call needs the answers of REQUIRED_FOR_COMPLETED. An answer to a question that does not
    apply to the other answers (e.g. `connected_on` while `progress` is not `connected`) is an error.
    """
    if not isinstance(raw, Mapping):
        return [FieldError("answers", _l("must be an object of answers by question code"))]
    errors: list[FieldError] = []
    for code in raw:
        if code not in QUESTIONS_BY_CODE:
            errors.append(FieldError(f"answers.{code}", _l("is not a question of the questionnaire")))
    clean: dict[str, Any] = {}
    invalid: set[str] = set()
    for question in QUESTIONNAIRE:
        try:
            value = _clean(question, raw.get(question.code), today)
        except _Invalid as problem:
            errors.append(FieldError(f"answers.{question.code}", problem.message))
            invalid.add(question.code)
            continue
        if value is not None:
            clean[question.code] = value
    for question in QUESTIONNAIRE:
        condition = question.asked_when
        if question.code not in clean or condition(clean):
            continue
        if isinstance(condition, AnswerIs):
            if condition.code in invalid:
                continue  # the answer it depends on is already reported
            message = _l(
                "applies only when %(question)s is %(value)s", question=condition.code, value=condition.value
            )
        else:
            message = _l("does not apply to the other answers")
        errors.append(FieldError(f"answers.{question.code}", message))
    if disposition == Disposition.COMPLETED:
        for code in REQUIRED_FOR_COMPLETED:
            if code not in clean and code not in invalid:
                errors.append(FieldError(f"answers.{code}", _l("is required for a completed call")))
    return errors or clean


def date_from_keypad(digits: str, today: date) -> date | None:
    """Return the most recent date not after `today` with this month and day (4 digits MMDD), or None."""
    if not KEYPAD_DATE.fullmatch(digits):
        return None
    month, day = int(digits[:2]), int(digits[2:])
    for year in range(today.year, today.year - KEYPAD_YEARS_BACK - 1, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            if not 1 <= month <= 12 or not 1 <= day <= 31:
                return None
            continue  # 29 February outside a leap year
        if candidate <= today:
            return candidate
    return None


def answer_from_keypad(question: Question, digits: str, today: date) -> AnswerValue | None:
    """Return the stored answer the keypad entry stands for, or None when it stands for none."""
    keypad = question.keypad
    if keypad is None:
        return None
    digits = digits.strip().removesuffix("#")
    if keypad.keys:
        return keypad.value_for(digits)
    if question.type == "date":
        parsed = date_from_keypad(digits, today)
        return parsed.isoformat() if parsed is not None else None
    if not KEYPAD_DIGITS.fullmatch(digits) or len(digits) > keypad.num_digits:
        return None
    number = int(digits)
    if (question.minimum is not None and number < question.minimum) or (
        question.maximum is not None and number > question.maximum
    ):
        return None
    return number
