"""The supervisor's case pages as people use them: list, evidence, moves, letter, penalties, roles."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from callback.audit import Actor
from callback.cases import open_case_by_hand, refer_to_discipline, transition
from callback.extensions import db
from callback.models import Penalty, SupervisionCase, User
from callback.settings import Settings, current_settings
from callback.worklist import claim_next, record_attempt
from tests.conftest import TEST_NOW
from tests.factories import store_order

NOW = TEST_NOW
SYSTEM = Actor(source="test")
# A customer who applied on 10 November for an order the system accepted on 23 November: off-line circulation.
OFFLINE_ANSWERS: dict[str, Any] = {
    "is_applicant": True,
    "applied_on": "2026-11-10",
    "progress": "construction",
    "trips": 1,
    "satisfaction": 4,
}


def automatic_case(
    make_user: Callable[..., User], order_no: str = "GD-2026-0001", answers: dict[str, Any] | None = None
) -> SupervisionCase:
    """Open a case the way the product does: an operator records a completed callback with telling answers."""
    settings = current_settings()
    store_order(order_no)
    operator = make_user(f"op-{order_no}", "operator")
    task = claim_next(db.session, operator.id, now=NOW, settings=settings)
    assert task is not None
    outcome = record_attempt(
        db.session,
        task.id,
        operator.id,
        disposition="completed",
        answers=answers or OFFLINE_ANSWERS,
        callback_at=None,
        note=None,
        now=NOW,
        settings=settings,
    )
    db.session.commit()
    assert outcome.cases_opened, outcome.findings
    return outcome.cases_opened[0]


def hand_case(
    order_no: str = "GD-2026-0001",
    category: str = "cabinet_door_open",
    *,
    opened: datetime = NOW,
    new_order: bool = True,
    **order_changes: Any,
) -> SupervisionCase:
    """Open a case by hand on a (new) order, at the given moment."""
    if new_order:
        store_order(order_no, **order_changes)
    case = open_case_by_hand(
        db.session,
        order_no=order_no,
        category=category,
        description="现场检查发现配电柜门未关闭",
        now=opened,
        settings=current_settings(),
        actor=SYSTEM,
    )
    db.session.commit()
    return case


def move(case: SupervisionCase, *steps: str, **extra: Any) -> None:
    """Move a case along its workflow through the service (set-up only)."""
    for step in steps:
        transition(
            db.session,
            case.id,
            to=step,
            note="处理",
            now=NOW,
            settings=current_settings(),
            actor=SYSTEM,
            **extra,
        )
    db.session.commit()


def english(client: FlaskClient) -> None:
    """Switch the interface to English, so messages read the same whatever the Chinese catalog says."""
    assert client.post("/language/en", data={"next": "/"}).status_code == 302


def marked(html: str) -> set[str]:
    """Return the evidence lines the page marks as disagreeing."""
    return set(re.findall(r'<dd class="col-\d+ mismatch" data-field="([a-z_]+)"', html))


def fresh(case: SupervisionCase) -> SupervisionCase:
    db.session.expire_all()
    return db.session.get(SupervisionCase, case.id)


# --- Roles -------------------------------------------------------------------------------------------------


def case_routes(case_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", "/cases/"),
        ("GET", f"/cases/{case_id}"),
        ("GET", f"/cases/{case_id}/letter"),
        ("GET", "/cases/new"),
        ("POST", "/cases/new"),
        ("POST", f"/cases/{case_id}/transition"),
        ("POST", f"/cases/{case_id}/assign"),
        ("POST", f"/cases/{case_id}/penalties"),
        ("POST", f"/cases/{case_id}/referral"),
        ("GET", "/ledgers/"),
        ("GET", "/ledgers/connect_first"),
        ("POST", "/ledgers/set"),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    case = hand_case()
    for method, path in case_routes(case.id):
        response = client.open(path, method=method)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path


def test_operators_may_not_see_the_supervisor_pages(client: FlaskClient, login) -> None:
    case = hand_case()
    login("operator")
    for method, path in case_routes(case.id):
        assert client.open(path, method=method).status_code == 403, path


def test_discipline_reads_referred_cases_only_and_changes_nothing(client: FlaskClient, login) -> None:
    hidden = hand_case("GD-HIDDEN")
    referred = hand_case("GD-REFERRED")
    move(referred, "investigating")
    move(referred, "letter_issued", requirements="立即整改", deadline="2026-12-11")
    refer_to_discipline(db.session, referred.id, note="疑似吃拿卡要", now=NOW, actor=SYSTEM)
    db.session.commit()
    login("discipline")

    listing = client.get("/cases/").text
    assert "GD-REFERRED" in listing
    assert "GD-HIDDEN" not in listing
    assert 'href="/cases/new"' not in listing
    assert client.get(f"/cases/{hidden.id}").status_code == 404
    assert client.get(f"/cases/{hidden.id}/letter").status_code == 404

    page = client.get(f"/cases/{referred.id}")
    assert page.status_code == 200
    assert "GD-REFERRED" in page.text
    assert 'id="transition-form"' not in page.text
    # No form moves or changes the case; notes and attachments are open to inspectors (issue 12).
    actions = re.findall(r'action="(/cases/[^"]*)"', page.text)
    assert sorted(actions) == sorted([f"/cases/{referred.id}/notes", f"/cases/{referred.id}/attachments"])
    assert client.get(f"/cases/{referred.id}/letter").status_code == 200

    for method, path in case_routes(referred.id):
        if method == "POST" or path.startswith("/ledgers") or path == "/cases/new":
            assert client.open(path, method=method, data={"to": "rectified"}).status_code == 403, path
    assert fresh(referred).state == "letter_issued"


def test_a_missing_case_is_a_404_page(client: FlaskClient, login) -> None:
    login("supervisor")
    assert client.get("/cases/999").status_code == 404
    assert client.post("/cases/999/transition", data={"to": "investigating"}).status_code == 404


# --- The list ----------------------------------------------------------------------------------------------


def test_the_list_counts_by_state_and_filters(client: FlaskClient, login, make_user) -> None:
    first = hand_case("GD-A", "cabinet_door_open", service_center="城关供电服务中心", account_manager="王磊")
    hand_case("GD-B", "other", service_center="城南供电服务中心", account_manager="李娜")
    third = hand_case(
        "GD-C", "nonstandard_acceptance", service_center="城南供电服务中心", account_manager="李娜"
    )
    move(third, "investigating")
    me = login("supervisor")
    client.post(f"/cases/{first.id}/assign", data={"assignee_id": str(me.id)})

    page = client.get("/cases/").text
    counts = dict(
        re.findall(r'data-state="([a-z_]+)"[^>]*>\s*[^<]*<span class="badge text-bg-light">(\d+)', page)
    )
    assert counts["open"] == "2"
    assert counts["investigating"] == "1"
    assert counts["closed"] == "0"

    def shown(query: str) -> set[str]:
        return set(re.findall(r"GD-[A-C]", client.get(f"/cases/?{query}").text))

    assert shown("state=investigating") == {"GD-C"}
    assert shown("category=other") == {"GD-B"}
    assert shown("service_center=城关供电服务中心") == {"GD-A"}
    assert shown("account_manager=李娜") == {"GD-B", "GD-C"}
    assert shown("assignee=me") == {"GD-A"}
    assert shown("assignee=none") == {"GD-B", "GD-C"}
    assert shown("state=nonsense&category=nonsense") == {"GD-A", "GD-B", "GD-C"}


def test_an_order_moved_by_intake_moves_its_cases_on_the_list(client: FlaskClient, login) -> None:
    hand_case("GD-A", service_center="城关供电服务中心", account_manager="王磊")
    hand_case("GD-B", service_center="城关供电服务中心", account_manager="王磊")
    store_order(
        "GD-A", now=NOW + timedelta(hours=1), service_center="城南供电服务中心", account_manager="李娜"
    )
    login("supervisor")

    def shown(query: str) -> set[str]:
        return set(re.findall(r"GD-[AB]", client.get(f"/cases/?{query}").text))

    assert shown("service_center=城南供电服务中心") == {"GD-A"}
    assert shown("service_center=城关供电服务中心&state=open") == {"GD-B"}
    assert shown("account_manager=李娜") == {"GD-A"}
    assert shown("account_manager=王磊") == {"GD-B"}


def test_overdue_cases_stand_out_with_their_days_and_filter(client: FlaskClient, login) -> None:
    late = hand_case("GD-LATE", opened=NOW - timedelta(days=30))
    hand_case("GD-FRESH")
    referred = hand_case("GD-REF", "other")
    refer_to_discipline(db.session, referred.id, note=None, now=NOW, actor=SYSTEM)
    db.session.commit()
    login("supervisor")
    english(client)

    page = client.get("/cases/").text
    row = re.search(rf'<tr class="case-row[^"]*" data-case-id="{late.id}">.*?</tr>', page, re.S)
    assert row is not None
    assert "table-danger" in row.group(0)
    days = (
        NOW.astimezone(current_settings().tz).date()
        - fresh(late).due_at.astimezone(current_settings().tz).date()
    ).days
    assert f"{days} days overdue" in row.group(0)
    fresh_row = (
        r'<tr class="case-row[^"]*" data-case-id="\d+">\s*(?:<td class="select-cell"><input[^>]*></td>\s*)?'
        r"<th[^>]*>\s*<a[^>]*>#\d+</a>\s*</th>"
    )
    other_row = re.search(fresh_row + r"\s*<td[^>]*>GD-FRESH", page)
    assert other_row is not None and "table-danger" not in other_row.group(0)

    assert set(re.findall(r"GD-[A-Z]+", client.get("/cases/?overdue=1").text)) == {"GD-LATE"}
    assert set(re.findall(r"GD-[A-Z]+", client.get("/cases/?referred=1").text)) == {"GD-REF"}


def test_the_list_pages_through_many_cases(client: FlaskClient, login) -> None:
    store_order("GD-MANY")
    for category in ("cabinet_door_open", "other", "nonstandard_acceptance"):
        hand_case("GD-MANY", category, new_order=False)
    login("supervisor")
    from callback.web import cases as case_views

    original = case_views.PER_PAGE
    case_views.PER_PAGE = 2
    try:
        first, second = client.get("/cases/").text, client.get("/cases/?page=2").text
    finally:
        case_views.PER_PAGE = original
    assert first.count('class="case-link"') == 2
    assert second.count('class="case-link"') == 1
    assert 'rel="next"' in first


# --- The case page -----------------------------------------------------------------------------------------


def test_evidence_shows_what_the_customer_said_beside_the_record_with_the_mismatch_marked(
    client: FlaskClient, login, make_user
) -> None:
    case = automatic_case(make_user)
    assert case.category == "offline_circulation"
    login("supervisor")
    page = client.get(f"/cases/{case.id}").text

    assert "2026-11-10" in page  # the customer's application date
    assert "2026-11-23 09:30" in page  # the system's acceptance, in Beijing time
    assert 'class="col-md-6 border-start"' in page  # the record sits beside the answers
    assert marked(page) == {"applied_on", "accepted_at"}
    assert "op-GD-2026-0001" in page  # the operator who made the call
    assert "GD-2026-0001" in page and "宏达五金店" in page


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {
                "progress": "connected",
                "connected_on": "2026-11-25",
                "meter_notified": True,
                "satisfaction": 4,
            },
            {"progress", "connected_on", "status", "connected_at"},
        ),
        ({"progress": "construction", "trips": 4, "satisfaction": 4}, {"trips"}),
    ],
)
def test_the_marked_fields_follow_the_finding(
    client: FlaskClient, login, make_user, answers, expected
) -> None:
    case = automatic_case(make_user, answers=answers)
    login("supervisor")
    assert marked(client.get(f"/cases/{case.id}").text) == expected


def test_a_move_through_the_form_changes_the_state_and_the_history(client: FlaskClient, login) -> None:
    case = hand_case()
    user = login("supervisor")
    response = client.post(
        f"/cases/{case.id}/transition", data={"to": "investigating", "note": "已约谈客户经理"}
    )
    assert response.status_code == 302
    assert fresh(case).state == "investigating"
    page = client.get(response.headers["Location"]).text
    assert 'data-state="investigating"' in page
    assert "已约谈客户经理" in page
    assert user.username in page


def test_closing_without_a_note_is_refused_on_the_form(client: FlaskClient, login) -> None:
    case = hand_case()
    move(case, "investigating", "letter_issued", "rectified")
    login("supervisor")
    english(client)
    response = client.post(f"/cases/{case.id}/transition", data={"to": "closed", "note": "  "})
    assert response.status_code == 422
    assert "This field is required." in response.text
    assert 'aria-invalid="true"' in response.text
    assert fresh(case).state == "rectified"


def test_a_move_the_workflow_forbids_says_so(client: FlaskClient, login) -> None:
    case = hand_case()
    login("supervisor")
    english(client)
    response = client.post(f"/cases/{case.id}/transition", data={"to": "closed", "note": "想直接办结"})
    assert response.status_code == 409
    assert "cannot make this move" in response.text
    assert fresh(case).state == "open"


def test_a_penalty_before_the_letter_is_refused_with_a_message(client: FlaskClient, login) -> None:
    case = hand_case()
    move(case, "investigating")
    login("supervisor")
    english(client)
    page = client.get(f"/cases/{case.id}").text
    assert 'id="penalty-form"' not in page
    assert "Penalties are recorded once the supervision letter has been issued." in page

    response = client.post(
        f"/cases/{case.id}/penalties", data={"person": "张三", "amount_yuan": "200", "reason": "未关柜门"}
    )
    assert response.status_code == 409
    assert "Penalties are recorded once the supervision letter has been issued." in response.text
    assert db.session.scalar(select(func.count()).select_from(Penalty)) == 0


def test_issuing_the_letter_then_a_penalty_through_the_forms(
    client: FlaskClient, login, settings: Settings
) -> None:
    case = hand_case()
    move(case, "investigating")
    login("supervisor")
    response = client.post(
        f"/cases/{case.id}/transition",
        data={
            "to": "letter_issued",
            "note": "",
            "requirements": "一、立即关闭柜门；二、开展专项检查。",
            "deadline": "2026-12-11",
        },
    )
    assert response.status_code == 302
    issued = fresh(case)
    assert issued.letter_no == "JD-2026-0001"
    assert issued.letter_deadline.isoformat() == "2026-12-11"

    page = client.get(f"/cases/{case.id}").text
    assert "JD-2026-0001" in page
    assert 'id="penalty-form"' in page
    response = client.post(
        f"/cases/{case.id}/penalties", data={"person": "张三", "amount_yuan": "200.50", "reason": "未关柜门"}
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{case.id}").text
    assert "张三" in page and "200.50" in page
    assert db.session.scalar(select(Penalty.amount_yuan)) == Decimal("200.50")


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"person": "张三", "amount_yuan": "abc", "reason": "x"}, "Enter an amount in yuan above 0"),
        ({"person": "张三", "amount_yuan": "-5", "reason": "x"}, "Enter an amount in yuan above 0"),
        ({"person": "", "amount_yuan": "100", "reason": "x"}, "This field is required."),
        ({"person": "张三", "amount_yuan": "100", "reason": ""}, "This field is required."),
    ],
)
def test_a_bad_penalty_is_refused_and_changes_nothing(
    client: FlaskClient, login, data, field_message
) -> None:
    case = hand_case()
    move(case, "investigating", "letter_issued")
    login("supervisor")
    english(client)
    response = client.post(f"/cases/{case.id}/penalties", data=data)
    assert response.status_code == 422
    assert field_message in response.text
    assert db.session.scalar(select(func.count()).select_from(Penalty)) == 0


def test_a_deadline_in_the_past_is_refused(client: FlaskClient, login) -> None:
    case = hand_case()
    move(case, "investigating")
    login("supervisor")
    english(client)
    response = client.post(
        f"/cases/{case.id}/transition",
        data={"to": "letter_issued", "requirements": "整改", "deadline": "2020-01-01"},
    )
    assert response.status_code == 422
    assert "not in the past" in response.text
    assert fresh(case).letter_no is None


def test_assignment_and_referral_through_the_forms(client: FlaskClient, login, make_user) -> None:
    case = hand_case()
    colleague = make_user("zhao", "supervisor")
    operator = make_user("qian", "operator")
    login("supervisor")
    english(client)
    assert client.post(f"/cases/{case.id}/assign", data={"assignee_id": str(operator.id)}).status_code == 422
    assert client.post(f"/cases/{case.id}/assign", data={"assignee_id": "x"}).status_code == 422
    assert fresh(case).assignee_id is None
    assert client.post(f"/cases/{case.id}/assign", data={"assignee_id": str(colleague.id)}).status_code == 302
    assert fresh(case).assignee_id == colleague.id

    assert client.post(f"/cases/{case.id}/referral", data={"note": "涉嫌索要好处"}).status_code == 302
    assert fresh(case).referred_to_discipline is True
    again = client.post(f"/cases/{case.id}/referral", data={"note": "再次"})
    assert again.status_code == 409
    assert "already been referred" in again.text
    page = client.get(f"/cases/{case.id}").text
    assert "涉嫌索要好处" in page and "zhao" in page


def test_forms_without_the_csrf_token_change_nothing(app, client: FlaskClient, login, monkeypatch) -> None:
    case = hand_case()
    login("supervisor")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # as in production
    refused = client.post(f"/cases/{case.id}/transition", data={"to": "investigating"})
    assert refused.status_code in (302, 400)
    assert fresh(case).state == "open"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/cases/{case.id}").text).group(1)
    accepted = client.post(f"/cases/{case.id}/transition", data={"to": "investigating", "csrf_token": token})
    assert accepted.status_code == 302
    assert fresh(case).state == "investigating"


# --- The letter --------------------------------------------------------------------------------------------


def test_the_letter_reads_like_an_official_letter(
    client: FlaskClient, login, make_user, settings: Settings
) -> None:
    case = automatic_case(make_user)
    move(case, "investigating")
    move(case, "letter_issued", requirements="立即核实线外流转原因，规范受理流程。", deadline="2026-12-11")
    refer_to_discipline(db.session, case.id, note=None, now=NOW, actor=SYSTEM)
    db.session.commit()
    login("supervisor")
    response = client.get(f"/cases/{case.id}/letter")
    assert response.status_code == 200
    page = response.text
    assert "JD-2026-0001" in page
    assert re.search(r'<p class="letter-addressee">城关供电服务中心[:：]</p>', page)
    assert "立即核实线外流转原因，规范受理流程。" in page
    assert settings.letter_issuer in page
    assert "GD-2026-0001" in page and "宏达五金店" in page and "城关镇人民路 12 号" in page
    assert "2026-11-10" in page  # what the customer said, beside the record
    assert "2026-11-23 09:30" in page
    assert 'class="letter-cc"' in page  # copied to discipline inspection
    with client.get("/static/letter.css") as stylesheet:
        assert "size: A4" in stylesheet.text
    assert 'id="print-letter"' in page


def test_the_letter_waits_for_its_issue(client: FlaskClient, login) -> None:
    case = hand_case()
    login("supervisor")
    english(client)
    response = client.get(f"/cases/{case.id}/letter", follow_redirects=True)
    assert response.request.path == f"/cases/{case.id}"
    assert "has not been issued yet" in response.text


# --- Opening by hand ---------------------------------------------------------------------------------------


def test_a_case_is_opened_by_hand_from_the_order(client: FlaskClient, login) -> None:
    store_order("GD-HAND")
    login("supervisor")
    order_page = client.get("/orders/GD-HAND").text
    assert 'href="/cases/new?order_no=GD-HAND"' in order_page
    form = client.get("/cases/new?order_no=GD-HAND").text
    assert 'value="GD-HAND"' in form
    assert 'value="cabinet_door_open"' in form
    response = client.post(
        "/cases/new", data={"order_no": "GD-HAND", "category": "cabinet_door_open", "description": "柜门未关"}
    )
    assert response.status_code == 302
    case = db.session.scalar(select(SupervisionCase))
    assert case.category == "cabinet_door_open"
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert "柜门未关" in client.get(f"/cases/{case.id}").text
    assert f'href="/cases/{case.id}"' in client.get("/orders/GD-HAND").text


def test_opening_by_hand_with_bad_input_marks_each_field(client: FlaskClient, login) -> None:
    login("supervisor")
    english(client)
    response = client.post("/cases/new", data={"order_no": "GD-NONE", "category": "", "description": ""})
    assert response.status_code == 422
    assert "No work order has this number." in response.text
    assert "Choose a category." in response.text
    assert db.session.scalar(select(func.count()).select_from(SupervisionCase)) == 0


def test_opening_a_second_case_of_the_same_kind_points_to_the_first(client: FlaskClient, login) -> None:
    first = hand_case("GD-TWICE")
    login("supervisor")
    english(client)
    response = client.post(
        "/cases/new",
        data={"order_no": "GD-TWICE", "category": "cabinet_door_open", "description": "再次发现"},
    )
    assert response.status_code == 409
    assert "still open" in response.text
    assert f'href="/cases/{first.id}"' in response.text
    assert db.session.scalar(select(func.count()).select_from(SupervisionCase)) == 1


def test_keyboard_shortcuts_are_wired_and_explained(client: FlaskClient, login) -> None:
    case = hand_case()
    login("supervisor")
    page = client.get(f"/cases/{case.id}").text
    assert 'data-shortcut="i"' in page
    assert 'id="shortcut-help"' in page
    assert "/static/shortcuts.js" in page  # the one keyboard module (issue 12)
    with client.get("/static/shortcuts.js") as script:
        assert "TEXTAREA" in script.text  # keys typed into a field are left alone


def test_the_list_filters_by_the_local_day_a_case_opened(client: FlaskClient, login) -> None:
    # 2026-11-26 16:30 UTC is already 11-27 00:30 in Beijing: it opened on the 27th, local time.
    just_after_midnight = hand_case("GD-27", opened=datetime(2026, 11, 26, 16, 30, tzinfo=UTC))
    day_before = hand_case("GD-26", opened=datetime(2026, 11, 26, 15, 30, tzinfo=UTC))
    login("supervisor")

    page = client.get("/cases/?opened_from=2026-11-27&opened_to=2026-11-27").text
    assert f'data-case-id="{just_after_midnight.id}"' in page
    assert f'data-case-id="{day_before.id}"' not in page
    everything = client.get("/cases/?opened_from=not-a-date").text
    assert f'data-case-id="{day_before.id}"' in everything


def options_of(page: str, select_id: str) -> list[str]:
    """Return the values a filter's <select> offers, in order, without its "all" choice."""
    select = re.search(rf'<select id="{select_id}".*?</select>', page, re.S)
    assert select is not None
    return [value for value in re.findall(r'<option value="([^"]*)"', select.group(0)) if value]


def test_the_filters_offer_every_centre_and_manager_in_order_and_discipline_only_its_cases(
    client: FlaskClient, login
) -> None:
    referred = hand_case("GD-R", service_center="城南供电服务中心", account_manager="李娜")
    hand_case("GD-H", service_center="城关供电服务中心", account_manager="王磊")
    store_order("GD-NO-CASE", service_center="城北供电服务中心", account_manager="赵敏")
    store_order("GD-NO-MANAGER", service_center="城北供电服务中心", account_manager=None)
    refer_to_discipline(db.session, referred.id, note=None, now=NOW, actor=SYSTEM)
    db.session.commit()

    # Those who work cases: every centre and manager of the orders, read from the indexes one name a step.
    login("supervisor")
    page = client.get("/cases/").text
    centres = ["城关供电服务中心", "城北供电服务中心", "城南供电服务中心"]
    assert options_of(page, "filter-center") == sorted(centres)
    assert options_of(page, "filter-manager") == sorted(["李娜", "王磊", "赵敏"])
    assert "GD-R" not in client.get("/cases/?account_manager=赵敏").text  # offered, matches no case
    client.post("/logout")

    # Inspectors: only the centres and managers of the cases referred to them.
    login("discipline")
    page = client.get("/cases/").text
    assert options_of(page, "filter-center") == ["城南供电服务中心"]
    assert options_of(page, "filter-manager") == ["李娜"]
