"""seed-demo gives a new user something real to look at."""

from sqlalchemy import func, select

from callback.extensions import db
from callback.models import CallbackTask, SupervisionCase, User, WorkOrder


def test_seed_demo_makes_orders_in_every_stage_and_ledger_with_tasks_and_logins(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo data: 120 work orders" in result.output
    assert db.session.scalar(select(func.count()).select_from(SupervisionCase)) >= 3
    assert "supervisor" in result.output
    statuses = set(db.session.scalars(select(WorkOrder.status).distinct()))
    assert statuses == {"accepted", "surveyed", "construction", "connected", "archived", "cancelled"}
    ledgers = set(db.session.scalars(select(WorkOrder.ledger).distinct()))
    assert ledgers == {None, "connect_first", "in_transit", "pre_advanced"}
    assert set(db.session.scalars(select(WorkOrder.has_engineering).distinct())) == {True, False}
    kinds = set(db.session.scalars(select(CallbackTask.kind).distinct()))
    assert kinds == {"intake", "due_date", "completion"}
    assert db.session.scalar(select(func.count()).select_from(User)) == 5


def test_seed_demo_if_empty_leaves_existing_data_alone(runner):
    runner.invoke(args=["seed-demo"])
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "already holds orders" in again.output
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 120
