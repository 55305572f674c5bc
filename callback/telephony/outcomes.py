"""What a call's provider statuses mean for its attempt. Pure: no database, no clock."""

from collections.abc import Mapping
from typing import Any

from callback.models import Disposition
from callback.survey import REQUIRED_FOR_COMPLETED

# Twilio CallStatus values, ranked along a call's life: a lower rank arriving late never overwrites a higher.
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "answered": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "failed": 4,
    "canceled": 4,
}
FINAL_STATUSES = frozenset(status for status, rank in STATUS_RANK.items() if rank == 4)
MACHINE_PREFIX = "machine"
FAX = "fax"
HUMAN = "human"
# A call that never reached anyone is a failed contact of the matching kind; `failed` (the network could
# not connect it) and `canceled` are counted as not answered, so the usual retries apply.
UNANSWERED: dict[str, Disposition] = {
    "busy": Disposition.BUSY,
    "no-answer": Disposition.NO_ANSWER,
    "failed": Disposition.NO_ANSWER,
    "canceled": Disposition.NO_ANSWER,
}


def is_later_status(current: str | None, new: str) -> bool:
    """Tell whether `new` moves a call forward from `current` (duplicates and stragglers do not)."""
    return STATUS_RANK[new] > (STATUS_RANK.get(current, -1) if current is not None else -1)


def is_machine(answered_by: str | None) -> bool:
    """Tell whether answering-machine detection found a machine."""
    return bool(answered_by) and str(answered_by).startswith(MACHINE_PREFIX)


def disposition_for_ended_call(
    call_status: str, answered_by: str | None, answers: Mapping[str, Any], survey_finished: bool
) -> Disposition:
    """Return the disposition of a call that has ended, as an operator would record it.

    The whole questionnaire put and its required answers given: completed. Some answers: partial
    (the caller hung up, or skipped a required question). Answered by a person who gave none: refused.
    A machine: voicemail; a fax line: invalid_number. Never answered: busy or no_answer.
    """
    if is_machine(answered_by):
        return Disposition.VOICEMAIL
    if answered_by == FAX:
        return Disposition.INVALID_NUMBER
    if call_status in UNANSWERED and not answers:
        return UNANSWERED[call_status]
    if survey_finished and all(code in answers for code in REQUIRED_FOR_COMPLETED):
        return Disposition.COMPLETED
    if answers:
        return Disposition.PARTIAL
    if answered_by == HUMAN or survey_finished:
        return Disposition.REFUSED
    # Answered, nothing pressed, and detection could not tell a person: most likely a machine it missed.
    return Disposition.NO_ANSWER
