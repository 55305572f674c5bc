"""How an ended call becomes a disposition (pure)."""

import pytest

from callback.telephony.outcomes import disposition_for_ended_call, is_later_status

FULL = {"progress": "connected", "satisfaction": 5}


@pytest.mark.parametrize(
    ("status", "answered_by", "answers", "finished", "expected"),
    [
        ("completed", "human", FULL, True, "completed"),
        ("completed", "human", {"progress": "connected"}, True, "partial"),
        ("completed", "human", {"is_applicant": True}, False, "partial"),
        ("completed", "human", {}, False, "refused"),
        ("completed", "unknown", {}, False, "no_answer"),
        ("completed", "machine_start", {}, False, "voicemail"),
        ("completed", "fax", {}, False, "invalid_number"),
        ("busy", None, {}, False, "busy"),
        ("no-answer", None, {}, False, "no_answer"),
        ("failed", None, {}, False, "no_answer"),
        ("canceled", None, {}, False, "no_answer"),
    ],
)
def test_dispositions(status, answered_by, answers, finished, expected):
    assert disposition_for_ended_call(status, answered_by, answers, finished) == expected


def test_statuses_only_move_forward():
    assert is_later_status(None, "queued") and is_later_status("unknown", "initiated")
    assert is_later_status("ringing", "in-progress") and is_later_status("in-progress", "completed")
    assert not is_later_status("ringing", "initiated")
    assert not is_later_status("completed", "busy")
