"""A customer's call history as the pages show it: every call to this number or order, newest first."""

from dataclasses import dataclass

from sqlalchemy import select

from callback.desk import call_history
from callback.extensions import db
from callback.labels import answer_text, question_text
from callback.models import CallAttempt, User, WorkOrder
from callback.survey import QUESTIONNAIRE

QUESTIONS = {question.code: question for question in QUESTIONNAIRE}


@dataclass(frozen=True)
class HistoryRow:
    attempt: CallAttempt
    order_no: str
    task_kind: str
    same_order: bool
    operator: str | None  # the operator's name; None for the automated call (IVR)
    answers: list[tuple[str, str]]  # (question, answer) in the questionnaire's order


def history_rows(order: WorkOrder) -> list[HistoryRow]:
    """Return the rows of the order's customer history, with operator names and answers in words."""
    attempts = call_history(db.session, order)
    names = dict(
        db.session.execute(
            select(User.id, User.username).where(
                User.id.in_({a.operator_id for a in attempts if a.operator_id})
            )
        ).all()
    )
    rows = []
    for attempt in attempts:
        given = attempt.answer_map()
        answers = [
            (question_text(question), answer_text(question.code, given[question.code]))
            for question in QUESTIONNAIRE
            if question.code in given
        ]
        rows.append(
            HistoryRow(
                attempt=attempt,
                order_no=attempt.task.order.order_no,
                task_kind=attempt.task.kind,
                same_order=attempt.task.order_id == order.id,
                operator=names.get(attempt.operator_id) if attempt.operator_id else None,
                answers=answers,
            )
        )
    return rows
