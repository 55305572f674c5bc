"""Spot checks of calls (录音抽检): scorecards as data, the weekly sample, reviews (issue 13)."""

from callback.qa.scorecard import DEFAULT_SCORECARD, ScorecardInvalid, ScoreResult, score, validate_definition
from callback.qa.service import (
    QaError,
    current_scorecard,
    draw_weekly_samples,
    iso_week,
    save_scorecard,
    submit_review,
    week_bounds,
)

__all__ = [
    "DEFAULT_SCORECARD",
    "QaError",
    "ScoreResult",
    "ScorecardInvalid",
    "current_scorecard",
    "draw_weekly_samples",
    "iso_week",
    "save_scorecard",
    "score",
    "submit_review",
    "validate_definition",
    "week_bounds",
]
