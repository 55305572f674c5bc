"""Callback figures (AAPOR RR1 and CON1, satisfaction) and the customer-lived connection time, by hand."""

from datetime import date, timedelta

import pytest

from callback.extensions import db
from callback.models import WorkOrder
from callback.reports.filters import ReportFilter
from callback.reports.summary import summary
from callback.worklist import claim_next, record_attempt
from tests.conftest import TEST_NOW

NOVEMBER = ReportFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))


@pytest.fixture
def call(app, settings, make_user):
    """Claim the next intake task and record one call on it with the outcome given for its order."""
    operator = make_user("caller", "operator")

    def make_calls(outcomes: dict[str, tuple[str, dict]], now=TEST_NOW) -> None:
        while (task := claim_next(db.session, operator.id, now=now, settings=settings)) is not None:
            order_no = db.session.get(WorkOrder, task.order_id).order_no
            disposition, answers = outcomes[order_no]
            record_attempt(
                db.session,
                task.id,
                operator.id,
                disposition=disposition,
                answers=answers or None,
                callback_at=(now + timedelta(days=1)).isoformat()
                if disposition == "callback_requested"
                else None,
                note=None,
                now=now,
                settings=settings,
            )
            db.session.commit()

    return make_calls


def test_rr1_and_con1_follow_aapor(add_orders, call, settings):
    add_orders(*({"order_no": f"CB-{n}"} for n in range(1, 8)))
    call(
        {
            "CB-1": ("completed", {"progress": "none", "satisfaction": 5}),  # I
            "CB-2": ("partial", {"satisfaction": 2}),  # P
            "CB-3": ("refused", {}),  # R
            "CB-4": ("callback_requested", {}),  # R (an appointment: reached, no interview yet)
            "CB-5": ("no_answer", {}),  # NC
            "CB-6": ("wrong_number", {}),  # not eligible: out of both rates
            "CB-7": ("busy", {}),  # NC
        }
    )
    callbacks = summary(db.session, NOVEMBER, settings, TEST_NOW)["callbacks"]
    # Eligible: I 1 + P 1 + R 2 + NC 2 = 6. RR1 = 1/6; CON1 = (1 + 1 + 2) / 6.
    assert callbacks == {
        "tasks": 7,
        "done": 3,
        "unreachable": 1,
        "attempts": 7,
        "contact_rate": 0.667,
        "response_rate_rr1": 0.167,
        "satisfaction_avg": 3.5,
        "satisfied_share": 0.5,
    }


def test_a_task_not_yet_called_counts_as_unknown_eligibility(add_orders, call, settings):
    add_orders({"order_no": "CB-1"})
    call({"CB-1": ("completed", {"progress": "none", "satisfaction": 4})})
    add_orders({"order_no": "CB-2"})  # its task is never claimed: AAPOR 3.11, not attempted
    callbacks = summary(db.session, NOVEMBER, settings, TEST_NOW)["callbacks"]
    assert (callbacks["tasks"], callbacks["response_rate_rr1"], callbacks["contact_rate"]) == (2, 0.5, 0.5)


def test_customer_lived_days_start_on_the_day_the_customer_says_they_applied(add_orders, call, settings):
    orders = [
        {
            "order_no": f"TS-{n}",
            "status": "connected",
            "connected_at": "2026-11-25T09:30:00",  # accepted 2026-11-23 09:30: 2 days in the system
        }
        for n in (1, 2, 3)
    ]
    add_orders(*orders)
    answers = {"progress": "connected", "satisfaction": 3}
    call(
        {
            "TS-1": ("completed", {**answers, "applied_on": "2026-11-13"}),  # 10 days before the system
            "TS-2": ("completed", {**answers, "applied_on": "2026-11-23"}),  # the system's own date
            "TS-3": ("refused", {}),  # no date given
        }
    )
    connections = summary(db.session, NOVEMBER, settings, TEST_NOW)["connections"]
    assert connections["avg_days"] == 2.0
    # TS-1 lived 13 Nov 00:00 → 25 Nov 09:30 = 12 days 9.5 hours; TS-2 and TS-3 the system's 2 days.
    assert connections["customer_reported_avg_days"] == round((12 + 9.5 / 24 + 2 + 2) / 3, 2)
    assert connections["customer_reported_count"] == 2
