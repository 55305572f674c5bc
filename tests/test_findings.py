"""Findings: the customer's answers against the system's record, rule by rule (contract 4.3)."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from callback.findings import Verdict, find
from callback.models import CaseCategory

BEIJING = ZoneInfo("Asia/Shanghai")
ACCEPTED_AT = datetime(2026, 3, 9, 10, 0, tzinfo=BEIJING)
# 01:00 on 9 March in Beijing is still 8 March in UTC.
ACCEPTED_AT_1AM_AS_UTC = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
DUE_AT = datetime(2026, 3, 19, 17, 0, tzinfo=BEIJING)
STAGES_AT = {
    "surveyed_at": datetime(2026, 3, 10, 9, 0, tzinfo=BEIJING),
    "construction_at": datetime(2026, 3, 12, 9, 0, tzinfo=BEIJING),
    "connected_at": datetime(2026, 3, 16, 15, 0, tzinfo=BEIJING),
    "archived_at": datetime(2026, 3, 18, 15, 0, tzinfo=BEIJING),
}


def snapshot(status: str = "construction", **changes: Any) -> dict[str, Any]:
    """Return an order as the system records it, with the stage times its status implies."""
    order: dict[str, Any] = {
        "order_no": "GD-2026-0001",
        "customer_name": "宏达五金店",
        "customer_phone": "+8613800138000",
        "address": None,
        "customer_type": "small_micro",
        "service_center": "城关供电服务中心",
        "account_manager": "王磊",
        "has_engineering": True,
        "ledger": None,
        "status": status,
        "accepted_at": ACCEPTED_AT,
        "due_at": DUE_AT,
        "surveyed_at": None,
        "construction_at": None,
        "connected_at": None,
        "archived_at": None,
        "cancelled_at": None,
    }
    reached = ["accepted", "surveyed", "construction", "connected", "archived"]
    if status in reached:
        for stage in reached[1 : reached.index(status) + 1]:
            order[f"{stage}_at"] = STAGES_AT[f"{stage}_at"]
    else:
        order["cancelled_at"] = STAGES_AT["surveyed_at"]
    order.update(changes)
    return order


def verdicts(findings: list[Verdict]) -> list[tuple[str, str]]:
    """Return (category, reason) of each finding, in order."""
    return [(finding.category, finding.reason) for finding in findings]


OFFLINE = "offline_circulation"
CASES = [
    # offline_circulation, branch 1: applied earlier than accepted by more than the tolerance (2 days).
    ("applied_exactly_tolerance_days_before", {"applied_on": "2026-03-07"}, {}, "intake", []),
    (
        "applied_tolerance_plus_one_days_before",
        {"applied_on": "2026-03-06"},
        {},
        "intake",
        [(OFFLINE, "applied_before_accepted")],
    ),
    ("applied_on_acceptance_day", {"applied_on": "2026-03-09"}, {}, "intake", []),
    ("applied_after_acceptance", {"applied_on": "2026-03-10"}, {}, "intake", []),
    (
        "applied_before_local_acceptance_at_1am_beijing",
        {"applied_on": "2026-03-06"},
        {"accepted_at": ACCEPTED_AT_1AM_AS_UTC},
        "intake",
        [(OFFLINE, "applied_before_accepted")],
    ),
    (
        "applied_as_date_object",
        {"applied_on": date(2026, 3, 6)},
        {},
        "intake",
        [(OFFLINE, "applied_before_accepted")],
    ),
    # offline_circulation, branch 2: power on site while the system is before connected.
    (
        "power_while_system_construction",
        {"progress": "connected"},
        {"status": "construction"},
        "intake",
        [(OFFLINE, "powered_before_system")],
    ),
    (
        "power_while_system_accepted",
        {"progress": "connected"},
        {"status": "accepted"},
        "intake",
        [(OFFLINE, "powered_before_system")],
    ),
    (
        "power_while_system_surveyed",
        {"progress": "connected", "connected_on": "2026-03-11"},
        {"status": "surveyed"},
        "intake",
        [(OFFLINE, "powered_before_system")],
    ),
    (
        "connected_on_alone_means_power",
        {"connected_on": "2026-03-11"},
        {"status": "construction"},
        "intake",
        [(OFFLINE, "powered_before_system")],
    ),
    (
        "power_while_construction_on_connect_first_ledger",
        {"progress": "connected"},
        {"status": "construction", "ledger": "connect_first"},
        "intake",
        [],
    ),
    (
        "power_while_construction_on_in_transit_ledger",
        {"progress": "connected"},
        {"status": "construction", "ledger": "in_transit"},
        "intake",
        [(OFFLINE, "powered_before_system")],
    ),
    ("power_while_system_connected", {"progress": "connected"}, {"status": "connected"}, "completion", []),
    ("power_while_system_archived", {"progress": "connected"}, {"status": "archived"}, "completion", []),
    ("power_while_system_cancelled", {"progress": "connected"}, {"status": "cancelled"}, "intake", []),
    # offline_circulation, branch 3: power on before the system accepted the order.
    (
        "connected_day_before_acceptance",
        {"progress": "connected", "connected_on": "2026-03-08"},
        {"status": "connected"},
        "completion",
        [(OFFLINE, "connected_before_accepted")],
    ),
    (
        "connected_on_acceptance_day",
        {"progress": "connected", "connected_on": "2026-03-09"},
        {"status": "connected"},
        "completion",
        [],
    ),
    (
        "connected_before_local_acceptance_at_1am_beijing",
        {"progress": "connected", "connected_on": "2026-03-08"},
        {"status": "connected", "accepted_at": ACCEPTED_AT_1AM_AS_UTC},
        "completion",
        [(OFFLINE, "connected_before_accepted")],
    ),
    (
        "connected_before_acceptance_on_connect_first_ledger",
        {"progress": "connected", "connected_on": "2026-03-01"},
        {"status": "construction", "ledger": "connect_first"},
        "intake",
        [(OFFLINE, "connected_before_accepted")],
    ),
    # false_completion: the system says connected, the customer gives another progress.
    *[
        (
            f"system_{status}_customer_{progress}",
            {"progress": progress},
            {"status": status},
            "completion",
            [("false_completion", "system_connected_customer_not")],
        )
        for status in ("connected", "archived")
        for progress in ("none", "surveyed", "construction")
    ],
    (
        "system_connected_customer_connected",
        {"progress": "connected"},
        {"status": "connected"},
        "completion",
        [],
    ),
    ("system_connected_progress_absent", {"satisfaction": 4}, {"status": "connected"}, "completion", []),
    ("system_construction_customer_none", {"progress": "none"}, {"status": "construction"}, "intake", []),
    # overdue_risk: a due_date task, system before connected, progress none or surveyed.
    (
        "due_date_construction_none",
        {"progress": "none"},
        {"status": "construction"},
        "due_date",
        [("overdue_risk", "not_connected_by_due_date")],
    ),
    (
        "due_date_accepted_surveyed",
        {"progress": "surveyed"},
        {"status": "accepted"},
        "due_date",
        [("overdue_risk", "not_connected_by_due_date")],
    ),
    ("due_date_progress_construction", {"progress": "construction"}, {"status": "surveyed"}, "due_date", []),
    ("due_date_progress_absent", {"satisfaction": 3}, {"status": "surveyed"}, "due_date", []),
    ("intake_task_progress_none", {"progress": "none"}, {"status": "surveyed"}, "intake", []),
    ("completion_task_progress_none", {"progress": "none"}, {"status": "surveyed"}, "completion", []),
    (
        "due_date_system_connected_progress_none",
        {"progress": "none"},
        {"status": "connected"},
        "due_date",
        [("false_completion", "system_connected_customer_not")],
    ),
    (
        "due_date_system_cancelled_progress_none",
        {"progress": "none"},
        {"status": "cancelled"},
        "due_date",
        [],
    ),
    # meter_not_notified
    (
        "meter_not_notified_false",
        {"progress": "connected", "meter_notified": False},
        {"status": "connected"},
        "completion",
        [("meter_not_notified", "meter_not_notified")],
    ),
    (
        "meter_notified_true",
        {"progress": "connected", "meter_notified": True},
        {"status": "connected"},
        "completion",
        [],
    ),
    ("meter_notified_absent", {"progress": "connected"}, {"status": "connected"}, "completion", []),
    # repeat_trips with the default REPEAT_TRIPS_MIN of 2
    ("trips_0", {"trips": 0}, {}, "intake", []),
    ("trips_1", {"trips": 1}, {}, "intake", []),
    ("trips_2", {"trips": 2}, {}, "intake", [("repeat_trips", "repeat_trips")]),
    # the yes/no questions where yes is the problem
    (
        "extra_documents_true",
        {"extra_documents": True},
        {},
        "intake",
        [("one_certificate", "extra_documents_requested")],
    ),
    ("extra_documents_false", {"extra_documents": False}, {}, "intake", []),
    (
        "fee_requested_true",
        {"fee_requested": True},
        {},
        "intake",
        [("irregular_fee", "fee_or_contractor_requested")],
    ),
    ("fee_requested_false", {"fee_requested": False}, {}, "intake", []),
    ("integrity_true", {"integrity": True}, {}, "intake", [("integrity", "benefits_requested")]),
    ("integrity_false", {"integrity": False}, {}, "intake", []),
    # dissatisfied
    ("satisfaction_1", {"satisfaction": 1}, {}, "intake", [("dissatisfied", "low_satisfaction")]),
    ("satisfaction_2", {"satisfaction": 2}, {}, "intake", [("dissatisfied", "low_satisfaction")]),
    ("satisfaction_3", {"satisfaction": 3}, {}, "intake", []),
    ("satisfaction_5", {"satisfaction": 5}, {}, "intake", []),
    # nonstandard_acceptance
    (
        "is_applicant_false",
        {"is_applicant": False},
        {},
        "intake",
        [("nonstandard_acceptance", "not_the_applicant")],
    ),
    ("is_applicant_true", {"is_applicant": True}, {}, "intake", []),
    # nothing said, nothing found
    *[
        (f"empty_answers_{status}_{kind}", {}, {"status": status}, kind, [])
        for status in ("accepted", "construction", "connected", "archived")
        for kind in ("intake", "due_date", "completion")
    ],
]


@pytest.mark.parametrize(
    ("answers", "changes", "task_kind", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule(settings, answers, changes, task_kind, expected):
    status = changes.get("status", "construction")
    order = snapshot(status, **{k: v for k, v in changes.items() if k != "status"})
    assert verdicts(find(answers, order, task_kind, settings)) == expected


def test_default_settings_are_the_contract_defaults(settings):
    assert settings.offline_tolerance_days == 2
    assert settings.repeat_trips_min == 2
    assert settings.tz == BEIJING


@pytest.mark.parametrize(
    ("trips", "expected"),
    [(2, []), (3, [("repeat_trips", "repeat_trips")]), (9, [("repeat_trips", "repeat_trips")])],
    ids=["trips_2", "trips_3", "trips_9"],
)
def test_repeat_trips_follows_the_setting(settings, trips, expected):
    stricter = replace(settings, repeat_trips_min=3)
    assert verdicts(find({"trips": trips}, snapshot(), "intake", stricter)) == expected


@pytest.mark.parametrize(
    ("tolerance", "applied_on", "expected"),
    [
        (0, "2026-03-09", []),
        (0, "2026-03-08", [(OFFLINE, "applied_before_accepted")]),
        (5, "2026-03-04", []),
        (5, "2026-03-03", [(OFFLINE, "applied_before_accepted")]),
    ],
    ids=["0_same_day", "0_day_before", "5_exactly", "5_plus_one"],
)
def test_offline_tolerance_follows_the_setting(settings, tolerance, applied_on, expected):
    tuned = replace(settings, offline_tolerance_days=tolerance)
    assert verdicts(find({"applied_on": applied_on}, snapshot(), "intake", tuned)) == expected


def test_the_acceptance_date_is_the_local_date_in_the_configured_zone(settings):
    order = snapshot(accepted_at=ACCEPTED_AT_1AM_AS_UTC)
    answers = {"applied_on": "2026-03-06"}
    assert verdicts(find(answers, order, "intake", settings)) == [(OFFLINE, "applied_before_accepted")]
    in_utc = replace(settings, tz=ZoneInfo("UTC"))
    assert find(answers, order, "intake", in_utc) == []


def test_applied_before_accepted_says_by_how_many_days(settings):
    [finding] = find({"applied_on": "2026-03-01"}, snapshot(), "intake", settings)
    assert finding == Verdict(
        "offline_circulation",
        "applied_before_accepted",
        {
            "applied_on": "2026-03-01",
            "accepted_on": "2026-03-09",
            "days_before": 8,
            "tolerance_days": 2,
            "reasons": ["applied_before_accepted"],
        },
    )


def test_power_before_the_system_shows_what_was_compared(settings):
    [finding] = find(
        {"progress": "connected", "connected_on": "2026-03-11"},
        snapshot("construction", ledger="pre_advanced"),
        "intake",
        settings,
    )
    assert finding.reason == "powered_before_system"
    assert finding.detail == {
        "status": "construction",
        "ledger": "pre_advanced",
        "progress": "connected",
        "connected_on": "2026-03-11",
        "reasons": ["powered_before_system"],
    }


def test_several_offline_branches_make_one_finding_with_every_reason(settings):
    answers = {"applied_on": "2026-03-01", "progress": "connected", "connected_on": "2026-03-05"}
    findings = find(answers, snapshot("construction"), "intake", settings)
    assert verdicts(findings) == [(OFFLINE, "applied_before_accepted")]
    assert findings[0].detail == {
        "applied_on": "2026-03-01",
        "accepted_on": "2026-03-09",
        "days_before": 8,
        "tolerance_days": 2,
        "status": "construction",
        "ledger": None,
        "progress": "connected",
        "connected_on": "2026-03-05",
        "connected_days_before": 4,
        "reasons": ["applied_before_accepted", "powered_before_system", "connected_before_accepted"],
    }


def test_overdue_risk_names_the_local_due_date(settings):
    order = snapshot(
        "surveyed", due_at=datetime(2026, 3, 19, 16, 30, tzinfo=UTC)
    )  # 00:30 on the 20th locally
    [finding] = find({"progress": "none"}, order, "due_date", settings)
    assert finding.detail == {"progress": "none", "status": "surveyed", "due_on": "2026-03-20"}


def test_findings_come_in_category_order_one_per_category_and_are_json_safe(settings):
    answers = {
        "is_applicant": False,
        "applied_on": "2026-03-01",
        "progress": "none",
        "trips": 4,
        "extra_documents": True,
        "fee_requested": True,
        "integrity": True,
        "satisfaction": 1,
    }
    findings = find(answers, snapshot("surveyed"), "due_date", settings)
    categories = [finding.category for finding in findings]
    assert categories == [
        "offline_circulation",
        "overdue_risk",
        "repeat_trips",
        "one_certificate",
        "irregular_fee",
        "integrity",
        "dissatisfied",
        "nonstandard_acceptance",
    ]
    order = [category.value for category in CaseCategory]
    assert categories == sorted(categories, key=order.index)
    assert all(type(finding.category) is str for finding in findings)
    json.dumps([finding.detail for finding in findings])


def test_the_powered_answers_make_every_category_they_can(settings):
    answers = {
        "progress": "connected",
        "connected_on": "2026-03-05",
        "meter_notified": False,
        "satisfaction": 2,
    }
    findings = find(answers, snapshot("construction"), "due_date", settings)
    assert verdicts(findings) == [
        (OFFLINE, "powered_before_system"),
        ("meter_not_notified", "meter_not_notified"),
        ("dissatisfied", "low_satisfaction"),
    ]
    assert findings[0].detail["reasons"] == ["powered_before_system", "connected_before_accepted"]


def test_an_order_snapshot_in_json_form_gives_the_same_findings(settings):
    answers = {"applied_on": "2026-03-06", "progress": "connected"}
    order = snapshot("construction", accepted_at=ACCEPTED_AT_1AM_AS_UTC)
    as_json = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in order.items()}
    assert find(answers, as_json, "intake", settings) == find(answers, order, "intake", settings)
    assert verdicts(find(answers, as_json, "intake", settings)) == [(OFFLINE, "applied_before_accepted")]
