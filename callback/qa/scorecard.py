"""Scorecards as data: items with points, and instant-fail items that fail a call whatever its total.

The default scorecard ships here, like the questionnaire; supervisors edit it on a page, and every edit is
stored as a new version (reviews keep the version they used). Scoring is a pure function.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_ITEMS = 40
MAX_POINTS = 100

DEFAULT_SCORECARD: dict[str, Any] = {
    "pass_mark": 80,
    "items": [
        {"code": "opening", "label_zh": "开场规范：自报单位、说明回访来意", "label_en": "Proper opening",
         "points": 10, "instant_fail": False},
        {"code": "identity", "label_zh": "核实客户身份", "label_en": "Customer's identity checked",
         "points": 10, "instant_fail": False},
        {"code": "complete", "label_zh": "按问卷逐题询问，无遗漏", "label_en": "Every question asked",
         "points": 20, "instant_fail": False},
        {"code": "accurate", "label_zh": "答案记录准确", "label_en": "Answers recorded accurately",
         "points": 20, "instant_fail": False},
        {"code": "courtesy", "label_zh": "语气礼貌，不打断客户", "label_en": "Courteous",
         "points": 15, "instant_fail": False},
        {"code": "disposition", "label_zh": "通话结果选择正确", "label_en": "Right call outcome chosen",
         "points": 15, "instant_fail": False},
        {"code": "closing", "label_zh": "结束语规范", "label_en": "Proper closing",
         "points": 10, "instant_fail": False},
        {"code": "leading", "label_zh": "诱导客户回答", "label_en": "Led the customer's answers",
         "points": 0, "instant_fail": True},
        {"code": "mismatch", "label_zh": "结果与录音不符", "label_en": "Result does not match the recording",
         "points": 0, "instant_fail": True},
        {"code": "privacy", "label_zh": "泄露客户信息", "label_en": "Disclosed customer information",
         "points": 0, "instant_fail": True},
    ],
}  # fmt: skip


class ScorecardInvalid(ValueError):
    """A scorecard or a set of marks is invalid; `errors` maps each field to its problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def max_score(definition: dict[str, Any]) -> int:
    """Return the most points a call can get on this scorecard."""
    return sum(int(item["points"]) for item in definition["items"] if not item["instant_fail"])


def validate_definition(raw: Any) -> dict[str, Any]:
    """Return a clean scorecard definition, or raise ScorecardInvalid naming each problem."""
    errors: dict[str, str] = {}
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), list):
        raise ScorecardInvalid({"form": _("A scorecard is a pass mark and a list of items.")})
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw["items"]):
        prefix = f"item-{index}"
        if not isinstance(item, dict):
            errors[prefix] = _("Each item needs a code, a label and points.")
            continue
        code = str(item.get("code") or "").strip()
        label_zh = str(item.get("label_zh") or "").strip()
        label_en = str(item.get("label_en") or "").strip()
        instant = item.get("instant_fail") is True
        if not CODE.fullmatch(code) or code in seen:
            errors[f"{prefix}-code"] = _("Codes are unique lower-case letters, digits and _ (at most 32).")
        if not label_zh or len(label_zh) > 100 or len(label_en) > 100:
            errors[f"{prefix}-label_zh"] = _("Give a Chinese label of at most 100 characters.")
        points = item.get("points", 0)
        if isinstance(points, str) and points.strip().isdigit():
            points = int(points.strip())
        if instant:
            points = 0
        elif isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS:
            errors[f"{prefix}-points"] = _("Points are a whole number from 1 to %(max)d.", max=MAX_POINTS)
            points = 0
        seen.add(code)
        items.append(
            {
                "code": code,
                "label_zh": label_zh,
                "label_en": label_en,
                "points": points,
                "instant_fail": instant,
            }
        )
    if not items:
        errors["form"] = _("A scorecard needs at least one item.")
    if len(items) > MAX_ITEMS:
        errors["form"] = _("A scorecard has at most %(max)d items.", max=MAX_ITEMS)
    definition = {"pass_mark": raw.get("pass_mark"), "items": items}
    pass_mark = raw.get("pass_mark")
    if isinstance(pass_mark, str) and pass_mark.strip().isdigit():
        pass_mark = int(pass_mark.strip())
    top = max_score(definition) if not errors else 0
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int) or not 0 <= pass_mark <= max(top, 0):
        errors["pass_mark"] = _(
            "The pass mark is a whole number from 0 to the total points (%(top)d).", top=top
        )
    if errors:
        raise ScorecardInvalid(errors)
    definition["pass_mark"] = pass_mark
    return definition


@dataclass(frozen=True)
class ScoreResult:
    score: int
    max_score: int
    passed: bool
    instant_fail: bool
    failed_items: list[str] = field(default_factory=list)
    marks: dict[str, Any] = field(default_factory=dict)


def score(definition: dict[str, Any], raw_marks: dict[str, Any]) -> ScoreResult:
    """Score a call: the points given per item, and any instant-fail item ticked fails it whatever the total.

    `raw_marks` maps each item's code to its points (a whole number from 0 to the item's points) or, for
    an instant-fail item, to true when it happened. Raise ScorecardInvalid naming each bad mark.
    """
    errors: dict[str, str] = {}
    marks: dict[str, Any] = {}
    total = 0
    failed: list[str] = []
    for item in definition["items"]:
        code = item["code"]
        value = raw_marks.get(code)
        if item["instant_fail"]:
            ticked = value is True or str(value).lower() in ("1", "true", "on", "yes")
            marks[code] = ticked
            if ticked:
                failed.append(code)
            continue
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= int(item["points"]):
            errors[code] = _("Give 0 to %(points)d points.", points=int(item["points"]))
            continue
        marks[code] = value
        total += value
    if errors:
        raise ScorecardInvalid(errors)
    instant = bool(failed)
    return ScoreResult(
        score=total,
        max_score=max_score(definition),
        passed=not instant and total >= int(definition["pass_mark"]),
        instant_fail=instant,
        failed_items=failed,
        marks=marks,
    )
