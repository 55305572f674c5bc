"""Scorecards as data: the pure scoring rules, instant fail, pass mark, and the editor's validation."""

import pytest

from callback.qa import DEFAULT_SCORECARD, ScorecardInvalid, score, validate_definition

FULL = {
    "opening": 10,
    "identity": 10,
    "complete": 20,
    "accurate": 20,
    "courtesy": 15,
    "disposition": 15,
    "closing": 10,
}


def test_the_default_scorecard_is_valid_totals_100_and_has_the_instant_fail_items(app):
    definition = validate_definition(DEFAULT_SCORECARD)
    assert sum(i["points"] for i in definition["items"]) == 100
    instant = {i["label_zh"] for i in definition["items"] if i["instant_fail"]}
    assert {"诱导客户回答", "结果与录音不符"} <= instant


def test_full_marks_pass_and_the_pass_mark_is_inclusive(app):
    assert score(DEFAULT_SCORECARD, FULL).passed is True
    at_mark = dict(FULL, complete=0)  # 80 of 100, pass mark 80
    result = score(DEFAULT_SCORECARD, at_mark)
    assert (result.score, result.max_score, result.passed) == (80, 100, True)
    below = score(DEFAULT_SCORECARD, dict(at_mark, closing=9))
    assert (below.score, below.passed, below.instant_fail) == (79, False, False)


@pytest.mark.parametrize("item", ["leading", "mismatch", "privacy"])
def test_an_instant_fail_item_fails_a_perfect_call(app, item):
    result = score(DEFAULT_SCORECARD, dict(FULL, **{item: "on"}))
    assert (result.score, result.passed, result.instant_fail, result.failed_items) == (
        100,
        False,
        True,
        [item],
    )


def test_marks_out_of_range_or_missing_name_each_item(app):
    with pytest.raises(ScorecardInvalid) as raised:
        score(DEFAULT_SCORECARD, dict(FULL, opening=11, identity=-1, complete="x", accurate=None))
    assert set(raised.value.errors) == {"opening", "identity", "complete", "accurate"}
    assert "0 到 10" in raised.value.errors["opening"] or "0 to 10" in raised.value.errors["opening"]


def test_the_editor_refuses_duplicate_codes_bad_points_and_a_pass_mark_above_the_total(app):
    with pytest.raises(ScorecardInvalid) as raised:
        validate_definition(
            {
                "pass_mark": 50,
                "items": [
                    {"code": "a", "label_zh": "甲", "points": 30},
                    {"code": "a", "label_zh": "乙", "points": 0},
                    {"code": "Bad Code", "label_zh": "", "points": 10},
                ],
            }
        )
    assert {"item-1-code", "item-1-points", "item-2-code", "item-2-label_zh"} <= set(raised.value.errors)
    with pytest.raises(ScorecardInvalid) as raised:
        validate_definition({"pass_mark": 31, "items": [{"code": "a", "label_zh": "甲", "points": 30}]})
    assert "pass_mark" in raised.value.errors
    ok = validate_definition(
        {
            "pass_mark": "30",
            "items": [
                {"code": "a", "label_zh": "甲", "points": "30"},
                {"code": "b", "label_zh": "乙", "instant_fail": True, "points": 99},
            ],
        }
    )
    assert ok["items"][1]["points"] == 0 and ok["pass_mark"] == 30
