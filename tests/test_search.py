"""Search everywhere: what the box understands, what each role finds, and the audit of a search by phone."""

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from callback.audit import Actor
from callback.cases import open_case_by_hand, refer_to_discipline
from callback.extensions import db
from callback.models import AuditEvent, SupervisionCase, User
from callback.search import Query, SearchError, parse_query, search
from callback.settings import current_settings
from tests.conftest import TEST_NOW
from tests.factories import store_order

SYSTEM = Actor(source="test")


def add_case(order_no: str, *, referred: bool = False) -> SupervisionCase:
    case = open_case_by_hand(
        db.session,
        order_no=order_no,
        category="cabinet_door_open",
        description="配电柜门未关",
        now=TEST_NOW,
        settings=current_settings(),
        actor=SYSTEM,
    )
    if referred:
        refer_to_discipline(db.session, case.id, note="移交纪检", now=TEST_NOW, actor=SYSTEM)
    db.session.commit()
    return case


# --- what the box understands (no database) -------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "151 2394 0550",
        "15123940550",
        "+86 151 2394 0550",
        "+8615123940550",
        "8615123940550",
        "151-2394-0550",
        "１５１ ２３９４ ０５５０",
    ],
)
def test_a_mobile_number_in_any_format_is_one_e164_number(typed):
    assert parse_query(typed) == Query(text=parse_query(typed).text, phone="+8615123940550")


@pytest.mark.parametrize("typed", ["0571-8888 1234", "(0571) 88881234", "057188881234", "+86 571 8888 1234"])
def test_a_landline_with_its_area_code_is_found_by_number(typed):
    assert parse_query(typed).phone == "+8657188881234"


def test_an_order_number_is_a_lower_cased_prefix_and_also_searched_in_names():
    query = parse_query("  gd-2026 ")
    assert query.phone is None
    assert query.order_prefix == "gd-2026"
    assert query.words == "gd-2026"


def test_digits_that_are_no_phone_number_search_order_numbers():
    query = parse_query("2026-0001")
    assert query.phone is None and query.order_prefix == "2026-0001"


def test_chinese_text_searches_names_and_addresses_only():
    query = parse_query("宏达 五金")
    assert query.order_prefix is None and query.words == "宏达 五金"


def test_a_letter_number_is_looked_up_upper_cased():
    assert parse_query("jd-2026-0001").letter_no == "JD-2026-0001"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        ("宏", "too_short"),
        ("x" * 101, "too_long"),
        ("宏达\x00", "control"),
    ],
)
def test_a_query_that_cannot_be_searched_says_why(typed, reason):
    with pytest.raises(SearchError) as raised:
        parse_query(typed)
    assert str(raised.value) == reason


# --- what each role finds ---------------------------------------------------------------------------------


def test_search_by_phone_finds_every_order_of_that_number_and_nothing_else(app):
    store_order("GD-A-1", customer_phone="15123940550")
    store_order("GD-A-2", customer_phone="+86 151 2394 0550", customer_name="另一家店")
    store_order("GD-B-1", customer_phone="13800138000")
    found = search(db.session, parse_query("151 2394 0550"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert sorted(order.order_no for order in found.orders) == ["GD-A-1", "GD-A-2"]
    assert {task.order.order_no for task in found.tasks} == {"GD-A-1", "GD-A-2"}


def test_order_numbers_are_found_by_prefix_in_any_case(app):
    store_order("GD-2026-0001")
    store_order("GD-2026-0002")
    store_order("GD-2025-0001")
    store_order("XY-2026-0001")
    found = search(db.session, parse_query("gd-2026"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert [order.order_no for order in found.orders] == ["GD-2026-0001", "GD-2026-0002"]
    exact = search(db.session, parse_query("gd-2026-0002"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert [order.order_no for order in exact.orders] == ["GD-2026-0002"]


def test_an_underscore_in_an_order_number_is_no_wildcard(app):
    store_order("GD_1")
    store_order("GDX1")
    found = search(db.session, parse_query("gd_"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert [order.order_no for order in found.orders] == ["GD_1"]


def test_names_and_addresses_are_found_by_any_part(app):
    store_order("GD-N-1", customer_name="宏达五金店", address="城关镇人民路 12 号")
    store_order("GD-N-2", customer_name="明珠餐馆", address="城南街道解放路 8 号")
    by_name = search(db.session, parse_query("五金"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert [order.order_no for order in by_name.orders] == ["GD-N-1"]
    by_address = search(db.session, parse_query("解放路"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert [order.order_no for order in by_address.orders] == ["GD-N-2"]
    percent = search(db.session, parse_query("%%"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert percent.orders == []  # a literal %, not a wildcard


def test_operators_find_orders_and_tasks_but_never_cases(app):
    store_order("GD-C-1")
    add_case("GD-C-1")
    found = search(db.session, parse_query("GD-C-1"), role="operator", actor=SYSTEM, now=TEST_NOW)
    assert [order.order_no for order in found.orders] == ["GD-C-1"]
    assert found.tasks and found.cases == []
    supervisor = search(db.session, parse_query("GD-C-1"), role="supervisor", actor=SYSTEM, now=TEST_NOW)
    assert len(supervisor.cases) == 1


def test_discipline_finds_only_orders_with_a_referred_case_and_those_cases(app):
    store_order("GD-D-1")
    store_order("GD-D-2")
    add_case("GD-D-1", referred=True)
    add_case("GD-D-2", referred=False)
    found = search(db.session, parse_query("gd-d"), role="discipline", actor=SYSTEM, now=TEST_NOW)
    assert [order.order_no for order in found.orders] == ["GD-D-1"]
    assert [case.order.order_no for case in found.cases] == ["GD-D-1"]
    assert found.tasks == []


def test_a_search_by_phone_is_audited_with_the_number_masked(app):
    store_order("GD-P-1", customer_phone="15123940550")
    search(db.session, parse_query("15123940550"), role="operator", actor=Actor(user_id=None), now=TEST_NOW)
    search(db.session, parse_query("GD-P"), role="operator", actor=SYSTEM, now=TEST_NOW)
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "search")).all()
    assert len(events) == 1  # by order number: no personal data read
    assert events[0].details["query"] == "+86151****0550"
    assert "15123940550" not in str(events[0].details)


# --- the page ------------------------------------------------------------------------------------------


def test_the_results_page_groups_by_type_and_masks_numbers(client: FlaskClient, login: Callable[..., User]):
    store_order("GD-W-1", customer_phone="15123940550", customer_name="宏达五金店")
    add_case("GD-W-1")
    login("supervisor")
    page = client.get("/search", query_string={"q": "151 2394 0550"}).text
    assert 'data-group="orders"' in page and 'data-group="tasks"' in page and 'data-group="cases"' in page
    assert "宏达五金店" in page
    assert "+86151****0550" in page and "+8615123940550" not in page


def test_an_operator_sees_no_case_group_and_can_take_the_customers_callback(client, login):
    store_order("GD-W-2", customer_phone="15123940550")
    add_case("GD-W-2")
    login("operator")
    page = client.get("/search", query_string={"q": "+86 151 2394 0550"}).text
    assert 'data-group="cases"' not in page
    assert "data-claim-task" in page


def test_bad_input_gets_a_message_and_no_server_error(client, login):
    login("operator")
    response = client.get("/search", query_string={"q": "宏"})
    assert response.status_code == 400
    assert "至少" in response.text  # "type at least 2 characters"
    assert client.get("/search").status_code == 200
    assert client.get("/search", query_string={"q": "\x00\x01"}).status_code == 400


def test_integration_accounts_have_no_search_page(client, login):
    login("integration")
    assert client.get("/search", query_string={"q": "GD"}).status_code == 403


def test_the_top_bar_holds_the_search_box(client, login):
    login("operator")
    page = client.get("/").text
    assert 'id="global-search"' in page and 'action="/search"' in page
