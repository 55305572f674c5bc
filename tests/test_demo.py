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


def test_seed_demo_refuses_a_database_holding_real_orders_and_prints_no_logins(runner, client, api_headers):
    from tests.factories import order_payload

    response = client.put(
        "/api/v1/work-orders/GD-REAL-1", json=order_payload("GD-REAL-1"), headers=api_headers("integration")
    )
    assert response.status_code == 200
    users_before = db.session.scalar(select(func.count()).select_from(User))

    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code == 1
    assert "1 work order(s)" in refused.output and "seed-demo did not create" in refused.output
    assert "callback-demo" not in refused.output
    quiet = runner.invoke(args=["seed-demo", "--if-empty"])  # make run on such a database still serves
    assert quiet.exit_code == 0
    assert "callback-demo" not in quiet.output
    assert db.session.scalar(select(func.count()).select_from(WorkOrder)) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert db.session.scalar(select(User.id).where(User.username == "operator")) is None


def test_seed_demo_refuses_a_database_with_real_users_even_without_orders(runner):
    made = runner.invoke(
        args=["create-user", "chief", "--role", "admin", "--password-stdin"], input="chief-password\n"
    )
    assert made.exit_code == 0
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code == 1
    assert "1 user(s)" in refused.output
    assert db.session.scalar(select(User.id).where(User.username == "operator")) is None


def test_seed_demo_runs_again_on_its_own_demo_database(runner):
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "callback-demo" in again.output
