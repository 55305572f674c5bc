"""Spot-check figures: scores per operator and per service centre, week by week."""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import CallAttempt, CallbackTask, QaReview, User, WorkOrder


@dataclass
class ScoreLine:
    """One operator's or centre's scored reviews, week by week."""

    name: str
    weeks: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    passed: int = 0
    reviewed: int = 0

    def average(self, week: str | None = None) -> float | None:
        values = self.weeks.get(week, []) if week else [v for vs in self.weeks.values() for v in vs]
        return round(sum(values) / len(values), 1) if values else None

    @property
    def pass_rate(self) -> float | None:
        return round(self.passed / self.reviewed, 3) if self.reviewed else None


@dataclass
class ScoreReport:
    weeks: list[str]
    operators: list[ScoreLine]
    centres: list[ScoreLine]


def score_report(session: Session, weeks: list[str], operator_id: int | None = None) -> ScoreReport:
    """Return the scored reviews of these ISO weeks as percentages of the scorecard's total."""
    query = (
        select(
            QaReview.week,
            QaReview.score,
            QaReview.max_score,
            QaReview.passed,
            User.username,
            WorkOrder.service_center,
        )
        .join(User, User.id == QaReview.operator_id)
        .join(CallAttempt, CallAttempt.id == QaReview.attempt_id)
        .join(CallbackTask, CallbackTask.id == CallAttempt.task_id)
        .join(WorkOrder, WorkOrder.id == CallbackTask.order_id)
        .where(QaReview.week.in_(weeks), QaReview.reviewed_at.is_not(None))
    )
    if operator_id is not None:
        query = query.where(QaReview.operator_id == operator_id)
    operators: dict[str, ScoreLine] = {}
    centres: dict[str, ScoreLine] = {}
    for row in session.execute(query):
        percent = 100.0 * (row.score or 0) / row.max_score if row.max_score else 0.0
        for lines, name in ((operators, row.username), (centres, row.service_center)):
            line = lines.setdefault(name, ScoreLine(name))
            line.weeks[row.week].append(percent)
            line.reviewed += 1
            line.passed += bool(row.passed)
    return ScoreReport(
        weeks=weeks,
        operators=sorted(operators.values(), key=lambda line: line.name),
        centres=sorted(centres.values(), key=lambda line: line.name),
    )
