"""An automated call's record as the IVR webhooks read and write it: a few Core statements, no unit of work.

Twilio and SmartCall post a turn of the conversation every few seconds, and the customer hears each of our
milliseconds as silence, so the common turn (take an answer, put the next question) runs on prepared Core
statements instead of the ORM's loading and flushing:

1. `lock_call`: the attempt's row, locked until commit and read in the same statement (a no-op
   `UPDATE … RETURNING`: every database takes the row lock, SQLite has no `SELECT … FOR UPDATE`);
2. `LiveCall.answers` / `task_cancelled`: what the turn needs of the task, its order and the answers stored so
   far, in one `SELECT`, read only when the turn asks (a status callback seldom does);
3. `save_call`: the columns the turn changed (one `UPDATE`, the transcript with them), the answer taken (one
   `INSERT`), the task's lease (one `UPDATE`); on PostgreSQL the three are one statement (the `INSERT` and
   the lease's `UPDATE` as data-modifying `WITH` clauses of the attempt's `UPDATE`).

So a gather that stores an answer and puts the next question runs three statements on PostgreSQL, five on
SQLite (in process: no round trips), where the ORM ran ten. The second read is its own statement, after the
lock, on purpose: in one statement with the lock, PostgreSQL would read the answers as they were before it
waited for the lock, and miss those of a webhook of the same call that held it.

The statements are built once and run on the session's connection (Core, no unit of work to flush).

A turn that ends the call (the last answer, a machine, a final status, words not understood) then loads the
attempt through the ORM and ends it with the worklist's services, as an operator's call ends: disposition,
task state, findings, audit. That happens once per call.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Text,
    Update,
    bindparam,
    case,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, lazyload

from callback.models import (
    Answer,
    CallAttempt,
    CallbackTask,
    Disposition,
    OrderStatus,
    TaskChannel,
    TaskState,
    WorkOrder,
)
from callback.settings import Settings
from callback.worklist import (
    finish_automated_attempt,
    hand_automated_attempt_to_operators,
    note_stated_day,
)

_attempts = CallAttempt.__table__
_answers = Answer.__table__
_tasks = CallbackTask.__table__
_orders = WorkOrder.__table__

# The columns a turn may change; the disposition and the rest belong to the worklist's services.
WRITABLE = ("provider_call_sid", "call_status", "answered_by", "ivr_finished_at", "transcript")
SCALARS = WRITABLE[:-1]

# Built once: SQLAlchemy then finds each compiled statement in its cache by identity.
_LOCK = (
    update(_attempts)
    .where(_attempts.c.id == bindparam("attempt_id"), _attempts.c.channel == TaskChannel.AUTO.value)
    .values(call_status=_attempts.c.call_status)
    .returning(
        _attempts.c.id,
        _attempts.c.task_id,
        _attempts.c.disposition,
        *(_attempts.c[name] for name in WRITABLE),
    )
)
_CONTEXT = (
    select(_tasks.c.state, _orders.c.status, _answers.c.question, _answers.c.value)
    .select_from(
        _tasks.join(_orders, _orders.c.id == _tasks.c.order_id).outerjoin(
            _answers, _answers.c.attempt_id == bindparam("attempt_id")
        )
    )
    .where(_tasks.c.id == bindparam("task_id"))
    .order_by(_answers.c.id)
)


def _appended(postgresql: bool) -> ColumnElement[Any]:
    """The transcript with the turn's entries (`transcript_tail`, their JSON list) put at its end.

    The stored JSON is the text json.dumps wrote (PostgreSQL's json type and SQLite keep it as given), so
    the old text but its closing bracket, ", ", and the new entries but their opening bracket is exactly
    what json.dumps would write for the whole list: the old entries are neither sent nor rewritten here.
    """
    stored = cast(_attempts.c.transcript, Text)
    tail = bindparam("transcript_tail", type_=Text)
    spliced = func.substr(stored, 1, func.length(stored) - 1) + ", " + func.substr(tail, 2)
    # PostgreSQL's json column takes json (checked as it is cast); SQLite stores the text as it is.
    return case(
        (tail == "[]", _attempts.c.transcript),
        (
            or_(_attempts.c.transcript.is_(None), stored.in_(("[]", "null"))),
            cast(tail, JSON) if postgresql else tail,
        ),
        else_=cast(spliced, JSON) if postgresql else spliced,
    )


def _save(postgresql: bool) -> Update:
    """The attempt's UPDATE: its scalar columns as they are now, its transcript appended to."""
    return (
        update(_attempts)
        .where(_attempts.c.id == bindparam("saved_id"))
        .values({**{name: bindparam(f"new_{name}") for name in SCALARS}, "transcript": _appended(postgresql)})
    )


_SAVE = _save(postgresql=False)
_INSERT_ANSWER = insert(_answers)
_KEEP_DIALING = (
    update(_tasks)
    .where(_tasks.c.id == bindparam("lease_task_id"), _tasks.c.state == TaskState.DIALING.value)
    .values(lease_expires_at=bindparam("lease_until"), updated_at=bindparam("lease_now"))
)
# PostgreSQL: the answer's INSERT and the lease's UPDATE ride along with the attempt's UPDATE.
_INSERT_ONE_ANSWER = _INSERT_ANSWER.values(
    {name: bindparam(f"answer_{name}") for name in ("attempt_id", "question", "value", "answered_at")}
).cte("new_answer")
_SAVE_WITH: dict[tuple[bool, bool], Update] = {
    (answer, lease): _save(postgresql=True).add_cte(
        *((_INSERT_ONE_ANSWER,) if answer else ()), *((_KEEP_DIALING.cte("lease"),) if lease else ())
    )
    for answer in (False, True)
    for lease in (False, True)
}


@dataclass(frozen=True)
class Ending:
    """How a turn ended the call: the disposition, or handed to the operators (`hand_over` is the note)."""

    disposition: Disposition
    note: str | None = None
    hand_over: str | None = None


@dataclass
class LiveCall:
    """One automated attempt under way, its row locked: the columns a turn reads and changes.

    The IVR changes the attributes as it would an ORM attempt's; `save_call` writes what changed.
    """

    id: int
    task_id: int
    disposition: str | None
    provider_call_sid: str | None
    call_status: str | None
    answered_by: str | None
    ivr_finished_at: datetime | None
    transcript: list[dict[str, Any]]
    # As read, to write only what changed.
    loaded: dict[str, Any] = field(default_factory=dict, repr=False)
    # What the task, its order and the stored answers say (read on demand, once).
    task_state: str | None = None
    order_status: str | None = None
    stored: dict[str, Any] | None = None
    # What the turn adds: answers to insert, the lease to touch, how the call ended.
    new_answers: list[dict[str, Any]] = field(default_factory=list)
    lease_touched_at: datetime | None = None
    ending: Ending | None = None

    def read_context(self, session: Session) -> None:
        """Read the task's state, its order's status and the answers stored so far (one statement)."""
        if self.stored is not None:
            return
        self.stored = {}
        for state, status, question, value in session.connection().execute(
            _CONTEXT, {"attempt_id": self.id, "task_id": self.task_id}
        ):
            self.task_state, self.order_status = state, status
            if question is not None:
                self.stored[question] = value

    def answers(self, session: Session) -> dict[str, Any]:
        """Return the answers stored for this call so far, those of this turn included."""
        self.read_context(session)
        assert self.stored is not None  # noqa: S101  (read_context sets it)
        return dict(self.stored)

    def task_cancelled(self, session: Session) -> bool:
        """Tell whether the call's task was cancelled (its order was) while the call was under way."""
        self.read_context(session)
        return self.task_state == TaskState.CANCELLED.value

    def order_cancelled(self, session: Session) -> bool:
        """Tell whether the call's task or its order was cancelled."""
        self.read_context(session)
        return self.task_cancelled(session) or self.order_status == OrderStatus.CANCELLED.value

    def store_answer(self, session: Session, code: str, value: Any, *, now: datetime) -> None:
        """Keep one answer, keyed by question: the first one stays (a repeated webhook adds nothing)."""
        self.read_context(session)
        assert self.stored is not None  # noqa: S101  (read_context sets it)
        if code in self.stored:
            return
        self.stored[code] = value
        self.new_answers.append({"attempt_id": self.id, "question": code, "value": value, "answered_at": now})

    def keep_dialing(self, now: datetime) -> None:
        """Extend the dialing task's timeout when the turn is saved: the call is still alive."""
        self.lease_touched_at = now

    def end(self, disposition: Disposition, *, note: str | None = None, hand_over: str | None = None) -> None:
        """End the attempt when the turn is saved (once: the first ending stands)."""
        if self.ending is None:
            self.ending = Ending(disposition, note, hand_over)


def lock_call(session: Session, attempt_id: int) -> LiveCall | None:
    """Return the automated attempt, its row locked until commit, so one call's webhooks run one at a time."""
    row = session.connection().execute(_LOCK, {"attempt_id": attempt_id}).one_or_none()
    if row is None:
        return None
    values = row._asdict()
    transcript = list(values["transcript"] or [])
    return LiveCall(**{**values, "transcript": transcript}, loaded={**values, "transcript": transcript[:]})


def save_call(session: Session, call: LiveCall, *, now: datetime, settings: Settings) -> None:
    """Write what the turn changed, then end the attempt through the worklist if the turn ended the call."""
    connection = session.connection()
    answers, call.new_answers = call.new_answers, []
    lease_at, call.lease_touched_at = (None if call.ending else call.lease_touched_at), None
    lease = None
    if lease_at is not None:
        until = lease_at + settings.dial_timeout
        lease = {"lease_task_id": call.task_id, "lease_until": until, "lease_now": lease_at}
    columns = {name: getattr(call, name) for name in WRITABLE}
    changed = columns != {name: call.loaded[name] for name in WRITABLE}
    before = call.loaded["transcript"]
    if call.transcript[: len(before)] != before:  # pragma: no cover  (the IVR only adds to a transcript)
        raise ValueError(f"the transcript of attempt {call.id} lost entries")
    row = {f"new_{name}": columns[name] for name in SCALARS}
    row |= {"saved_id": call.id, "transcript_tail": json.dumps(call.transcript[len(before) :])}
    if connection.dialect.name == "postgresql" and len(answers) <= 1 and (changed or answers or lease):
        _save_together(connection, row, answers, lease)
    else:
        _save_apart(connection, row if changed else None, answers, lease)
    call.loaded.update(columns, transcript=call.transcript[:])
    for answer in answers:
        if answer["question"] == "applied_on":
            note_stated_day(session, call.id, answer["value"])
    if call.ending is None or call.disposition is not None:
        return
    ending, call.ending = call.ending, None
    # Its answers are not loaded with it (the relationship's selectin): ending reads them as it needs them.
    attempt = session.get(
        CallAttempt, call.id, populate_existing=True, options=[lazyload(CallAttempt.answers)]
    )
    assert attempt is not None  # noqa: S101  (locked above)
    if ending.hand_over is not None:
        hand_automated_attempt_to_operators(
            session, attempt, note=ending.hand_over, now=now, settings=settings
        )
    else:
        finish_automated_attempt(
            session, attempt, ending.disposition, note=ending.note, now=now, settings=settings
        )
    call.disposition = attempt.disposition


def _save_apart(
    connection: Connection,
    attempt: dict[str, Any] | None,
    answers: list[dict[str, Any]],
    lease: dict[str, Any] | None,
) -> None:
    """Write the turn's changes one statement each (SQLite, where a statement costs no round trip)."""
    if answers:
        connection.execute(_INSERT_ANSWER, answers)
    if attempt is not None:
        connection.execute(_SAVE, attempt)
    if lease is not None:
        connection.execute(_KEEP_DIALING, lease)


def _save_together(
    connection: Connection,
    attempt: dict[str, Any],
    answers: list[dict[str, Any]],
    lease: dict[str, Any] | None,
) -> None:
    """Write the turn's changes in one statement (PostgreSQL: the answer and the lease in WITH clauses)."""
    values = {**attempt, **(lease or {})}
    for answer in answers:
        values |= {f"answer_{k}": v for k, v in answer.items()}
    connection.execute(_SAVE_WITH[bool(answers), lease is not None], values)
