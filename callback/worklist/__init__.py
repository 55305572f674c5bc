"""The worklist owns every callback task's state; nothing else changes a task.

- `lifecycle`: tasks created from the rules' plans, cancelled with their order, leases that ran out;
- `claims`: the most urgent workable task leased to one operator or dialer, released;
- `attempts`: one call recorded and the task moved by its disposition (the contract's table);
- `automated`: the dialer's attempts, from the claim to the final disposition, and their recovery.
"""

from callback.worklist.attempts import (
    MAX_NOTE_LENGTH,
    AttemptOutcome,
    CheckedAttempt,
    check_attempt_input,
    finish_attempt,
    note_stated_application,
    note_stated_day,
    record_attempt,
)
from callback.worklist.automated import (
    DIALER_ACTOR,
    calls_to_end,
    finish_automated_attempt,
    hand_automated_attempt_to_operators,
    keep_dialing,
    recover_stuck_dialing,
    start_automated_attempt,
    store_answer,
    stored_answers,
    void_automated_attempt,
)
from callback.worklist.claims import (
    Claim,
    WorklistError,
    appointment_condition,
    claim,
    claim_next,
    claim_task,
    current_claim,
    held_task,
    make_ready,
    release,
    workable_condition,
)
from callback.worklist.lifecycle import (
    cancel_tasks_of_orders,
    create_tasks,
    move_tasks,
    release_expired_leases,
)

__all__ = [
    "DIALER_ACTOR",
    "MAX_NOTE_LENGTH",
    "AttemptOutcome",
    "CheckedAttempt",
    "Claim",
    "WorklistError",
    "appointment_condition",
    "calls_to_end",
    "cancel_tasks_of_orders",
    "check_attempt_input",
    "claim",
    "claim_next",
    "claim_task",
    "create_tasks",
    "current_claim",
    "finish_attempt",
    "finish_automated_attempt",
    "hand_automated_attempt_to_operators",
    "held_task",
    "keep_dialing",
    "make_ready",
    "move_tasks",
    "note_stated_application",
    "note_stated_day",
    "record_attempt",
    "recover_stuck_dialing",
    "release",
    "release_expired_leases",
    "start_automated_attempt",
    "store_answer",
    "stored_answers",
    "void_automated_attempt",
    "workable_condition",
]
