"""The case workflow: every move of contract 4.3, letter numbers, penalties, referral, SLA."""

from datetime import UTC, datetime, timedelta

import pytest

from callback.audit import Actor
from callback.cases import TRANSITIONS, CaseError, add_penalty, is_overdue, open_case_by_hand, transition
from callback.extensions import db
from callback.models import CaseState
from tests.factories import store_order

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
ACTOR = Actor(source="test")
# The path to each state from `open`, with the note each move needs.
PATH = {
    "open": [],
    "investigating": ["investigating"],
    "letter_issued": ["investigating", "letter_issued"],
    "rectified": ["investigating", "letter_issued", "rectified"],
    "closed": ["investigating", "letter_issued", "rectified", "closed"],
    "dismissed": ["dismissed"],
}
ALLOWED = {
    ("open", "investigating"),
    ("open", "dismissed"),
    ("investigating", "letter_issued"),
    ("investigating", "dismissed"),
    ("letter_issued", "rectified"),
    ("rectified", "closed"),
}


@pytest.fixture
def new_case(app, settings):
    def make(order_no: str = "CASE-1", category: str = "cabinet_door_open"):
        store_order(order_no, now=NOW)
        case = open_case_by_hand(
            db.session,
            order_no=order_no,
            category=category,
            description="现场检查发现柜门未关",
            now=NOW,
            settings=settings,
            actor=ACTOR,
        )
        db.session.commit()
        return case

    return make


def move(case, to, settings, now=NOW):
    moved = transition(db.session, case.id, to=to, note="处理意见", now=now, settings=settings, actor=ACTOR)
    db.session.commit()
    return moved


def test_the_table_in_code_is_the_contracts():
    assert {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


@pytest.mark.parametrize("start", list(PATH))
@pytest.mark.parametrize("target", [s.value for s in CaseState])
def test_every_move_is_allowed_or_409(new_case, settings, start, target):
    case = new_case()
    for step in PATH[start]:
        move(case, step, settings)
    if (start, target) in ALLOWED:
        assert move(case, target, settings).state == target
    else:
        with pytest.raises(CaseError) as refused:
            move(case, target, settings)
        assert refused.value.status == 409
        db.session.rollback()
        assert db.session.get(type(case), case.id).state == start


@pytest.mark.parametrize("target", ["closed", "dismissed"])
def test_closing_and_dismissing_need_a_note(new_case, settings, target):
    case = new_case()
    for step in PATH[target][:-1]:
        move(case, step, settings)
    with pytest.raises(CaseError) as refused:
        transition(db.session, case.id, to=target, note="  ", now=NOW, settings=settings, actor=ACTOR)
    assert refused.value.status == 422
    assert refused.value.details[0]["field"] == "note"


def test_letters_are_numbered_per_year(new_case, settings):
    first, second = new_case("L-1"), new_case("L-2")
    for case in (first, second):
        move(case, "investigating", settings)
        move(case, "letter_issued", settings)
    assert (first.letter_no, second.letter_no) == ("JD-2026-0001", "JD-2026-0002")
    next_year = new_case("L-3")
    move(next_year, "investigating", settings)
    move(
        next_year, "letter_issued", settings, now=datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    )  # 2027-01-01 local
    assert next_year.letter_no == "JD-2027-0001"


def test_penalties_only_once_the_letter_is_issued(new_case, settings):
    case = new_case()
    with pytest.raises(CaseError) as refused:
        add_penalty(
            db.session, case.id, person="王磊", amount_yuan=200, reason="柜门未关", now=NOW, actor=ACTOR
        )
    assert refused.value.status == 409
    move(case, "investigating", settings)
    move(case, "letter_issued", settings)
    penalty = add_penalty(
        db.session, case.id, person="王磊", amount_yuan="200.50", reason="柜门未关", now=NOW, actor=ACTOR
    )
    assert str(penalty.amount_yuan) == "200.50"


@pytest.mark.parametrize("amount", [0, -5, "abc", 10_000_001, 1.234, True, None, "NaN"])
def test_penalty_amounts_are_checked(new_case, settings, amount):
    case = new_case()
    move(case, "investigating", settings)
    move(case, "letter_issued", settings)
    with pytest.raises(CaseError) as refused:
        add_penalty(db.session, case.id, person="王磊", amount_yuan=amount, reason="r", now=NOW, actor=ACTOR)
    assert refused.value.details[0]["field"] == "amount_yuan"


def test_a_case_is_overdue_after_its_sla_in_working_days(new_case, settings):
    case = new_case()
    assert case.due_at.astimezone(settings.tz).date().isoformat() == "2026-12-11"  # 10 working days
    assert not is_overdue(case, case.due_at - timedelta(minutes=1))
    assert is_overdue(case, case.due_at + timedelta(minutes=1))
    move(case, "dismissed", settings)
    assert not is_overdue(case, case.due_at + timedelta(days=30))


def test_a_second_open_case_of_the_same_kind_is_refused(new_case, settings):
    new_case()
    with pytest.raises(CaseError) as refused:
        open_case_by_hand(
            db.session,
            order_no="CASE-1",
            category="cabinet_door_open",
            description="again",
            now=NOW,
            settings=settings,
            actor=ACTOR,
        )
    assert refused.value.status == 409
