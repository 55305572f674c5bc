"""A case carries its order's service centre and account manager; intake keeps the copy equal (issue 14)."""

from datetime import timedelta

from sqlalchemy import select

from callback.audit import Actor
from callback.cases import open_case_by_hand
from callback.extensions import db
from callback.models import SupervisionCase
from callback.settings import current_settings
from tests.conftest import TEST_NOW
from tests.factories import store_order

SYSTEM = Actor(source="test")


def open_case(order_no: str, category: str = "other") -> SupervisionCase:
    case = open_case_by_hand(db.session, order_no=order_no, category=category, description="现场检查",
                             now=TEST_NOW, settings=current_settings(), actor=SYSTEM)  # fmt: skip
    db.session.commit()
    return case


def copies() -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(
        select(SupervisionCase.category, SupervisionCase.service_center, SupervisionCase.account_manager)
    ).all()
    db.session.rollback()  # read afresh next time
    return {category: (center, manager) for category, center, manager in rows}


def test_a_case_opens_with_its_orders_centre_and_manager(app) -> None:
    store_order("GD-COPY-1", service_center="城南供电服务中心", account_manager=None)
    open_case("GD-COPY-1")
    assert copies() == {"other": ("城南供电服务中心", None)}


def test_when_intake_moves_an_order_its_cases_move_with_it(app) -> None:
    store_order("GD-COPY-2", service_center="城关供电服务中心", account_manager="王磊")
    store_order("GD-STAYS", service_center="城关供电服务中心", account_manager="王磊")
    open_case("GD-COPY-2", "other")
    open_case("GD-COPY-2", "cabinet_door_open")
    open_case("GD-STAYS", "integrity")

    later = TEST_NOW + timedelta(hours=1)
    store_order("GD-COPY-2", now=later, service_center="城东供电服务中心", account_manager="李娜")
    assert copies() == {
        "other": ("城东供电服务中心", "李娜"),
        "cabinet_door_open": ("城东供电服务中心", "李娜"),
        "integrity": ("城关供电服务中心", "王磊"),
    }

    store_order("GD-COPY-2", now=later + timedelta(hours=1), service_center="城东供电服务中心",
                account_manager=None)  # fmt: skip
    assert copies()["other"] == ("城东供电服务中心", None)


def test_a_stale_version_moves_neither_the_order_nor_its_cases(app) -> None:
    store_order("GD-COPY-3", now=TEST_NOW + timedelta(hours=2), service_center="城北供电服务中心")
    open_case("GD-COPY-3")
    store_order("GD-COPY-3", updated_at="2026-11-20T09:00:00", service_center="城东供电服务中心")
    assert copies() == {"other": ("城北供电服务中心", "王磊")}
