"""The audit trail as evidence: channel and address on every event, filters, masking, append-only storage."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from callback.audit import Actor, AuditEntry, channel, current_origin, record
from callback.audit_trail import AuditFilterError, audit_query, parse_audit_filter, redact
from callback.extensions import db
from callback.models import AuditEvent
from callback.settings import current_settings
from callback.telephony.dialer import Dialer
from callback.telephony.pacing import CallPacer
from tests.conftest import POSTGRES_URL, TEST_NOW
from tests.telephony.helpers import store_connected_orders

SHANGHAI = ZoneInfo("Asia/Shanghai")


def write(action: str = "thing.done", **details) -> AuditEvent:
    record(db.session, Actor(source="test"), TEST_NOW, [AuditEntry(action, "thing", 1, details)])
    db.session.commit()
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/operator/tasks/1/reveal", "web"),
        ("/reports/exports/orders.csv", "web"),
        ("/api/v1/tasks/claim", "api"),
        ("/twilio/voice/1", "webhook"),
        ("/twilio/attempts/1/transcript", "web"),  # a page beside the webhooks, read in a browser
    ],
)
def test_inside_a_request_the_path_gives_the_channel_and_the_request_the_address(app: Flask, path, expected):
    method = "GET" if path.endswith("transcript") else "POST"
    with app.test_request_context(path, method=method, environ_base={"REMOTE_ADDR": "10.20.30.40"}):
        assert current_origin() == (expected, "10.20.30.40")


def test_outside_a_request_it_is_the_command_line_unless_the_dialer_says_otherwise(app):
    assert current_origin() == ("cli", None)
    with channel("dialer"):
        assert current_origin() == ("dialer", None)
        event = write()
    assert (event.channel, event.address) == ("dialer", None)
    assert write().channel == "cli"


def test_a_command_line_command_is_recorded_as_cli(app, runner):
    result = runner.invoke(
        args=["create-user", "ops", "--role", "admin", "--password-stdin"], input="long password\n"
    )
    assert result.exit_code == 0, result.output
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.created"))
    assert (event.channel, event.address) == ("cli", None)


def test_the_dialer_records_its_own_events_and_the_webhooks_theirs(tmp_path, monkeypatch):
    from tests.conftest import fresh_schema, make_app

    app = make_app(
        tmp_path, monkeypatch, DIALER_CALLS_PER_SECOND=100, SIMULATION_MIX="agree=1", SIMULATION_SEED=1
    )
    with app.app_context():
        fresh_schema(app)
        store_connected_orders(current_settings(), "SIM-1")
        from callback.telephony import make_provider

        dialer = Dialer(
            db.session,
            make_provider(app),
            CallPacer(db.engine, 100),
            current_settings(),
            app.config,
            lambda: TEST_NOW,
        )
        assert dialer.run_pass().placed == 1
        db.session.expire_all()
        channels = dict(db.session.execute(select(AuditEvent.action, AuditEvent.channel)).all())
        assert channels["attempt.started"] == "dialer"  # the dialer claimed and started the call
        assert channels["attempt.recorded"] == "webhook"  # the customer's answers came by webhook
        db.session.remove()
        db.engine.dispose()


def test_filters_are_read_with_a_message_for_each_bad_one():
    good = parse_audit_filter(
        {
            "actor": "admin",
            "action": "task.*",
            "entity": "work_order:12",
            "from": "2026-11-01",
            "to": "2026-11-30",
        },
        SHANGHAI,
    )
    assert (good.actor, good.action, good.entity_type, good.entity_id) == (
        "admin",
        "task.*",
        "work_order",
        12,
    )
    assert good.start == datetime(2026, 10, 31, 16, tzinfo=UTC)  # 00:00 in Beijing
    assert good.end == datetime(2026, 11, 30, 16, tzinfo=UTC)  # the whole of the 30th
    at = parse_audit_filter({"from": "2026-11-27T09:30"}, SHANGHAI)
    assert at.start == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)

    with pytest.raises(AuditFilterError) as bad:
        parse_audit_filter(
            {
                "action": "DROP TABLE",
                "entity": "work_order:99999999999999999999",
                "from": "yesterday",
                "to": "9999-12-31",
                "channel": "fax",
                "actor": "x\x00",
            },
            SHANGHAI,
        )
    assert bad.value.status == 400
    assert {field for field, _message in bad.value.problems} == {
        "action",
        "entity",
        "from",
        "to",
        "channel",
        "actor",
    }
    with pytest.raises(AuditFilterError) as backwards:
        parse_audit_filter({"from": "2026-11-30", "to": "2026-11-01"}, SHANGHAI)
    assert backwards.value.status == 422 and backwards.value.problems[0][0] == "from"


def test_the_query_filters_by_actor_action_prefix_entity_and_period(app, make_user):
    user = make_user("auditor", "admin")
    record(db.session, Actor(user_id=user.id), TEST_NOW, [AuditEntry("task.claimed", "callback_task", 7)])
    record(db.session, Actor(source="tick"), TEST_NOW, [AuditEntry("task.state", "callback_task", 8)])
    record(db.session, Actor(source="tick"), TEST_NOW, [AuditEntry("order.created", "work_order", 7)])
    db.session.commit()

    def actions(**args) -> list[str]:
        query = audit_query(parse_audit_filter(args, SHANGHAI))
        return sorted(event.action for event, _name in db.session.execute(query))

    assert actions(actor="auditor") == ["task.claimed"]
    assert actions(actor="tick") == ["order.created", "task.state"]
    assert actions(action="task.*") == ["task.claimed", "task.state"]
    assert actions(action="task.state") == ["task.state"]
    assert actions(entity="callback_task:7") == ["task.claimed"]
    assert actions(entity="work_order") == ["order.created"]
    assert actions(**{"from": "2026-11-27", "to": "2026-11-27"}) == [
        "order.created",
        "task.claimed",
        "task.state",
    ]
    assert actions(**{"from": "2026-11-28", "to": "2026-11-28"}) == []
    assert actions(action="task_*") == []  # the underscore is not a wildcard


def test_phone_numbers_in_details_are_masked_when_read():
    details = {"changes": {"customer_phone": ["+8613800138000", "+8613900139000"], "status": ["a", "b"]}}
    assert redact(details) == {
        "changes": {"customer_phone": ["+86138****8000", "+86139****9000"], "status": ["a", "b"]}
    }


@pytest.mark.skipif(
    POSTGRES_URL is None, reason="the append-only trigger is PostgreSQL's (set CALLBACK_TEST_DATABASE_URL)"
)
def test_on_postgresql_nobody_changes_or_deletes_an_event(app):
    event_id = write(customer_phone="+8613800138000").id
    for statement in (
        update(AuditEvent).where(AuditEvent.id == event_id).values(action="nothing.happened"),
        update(AuditEvent).where(AuditEvent.id == event_id).values(details={"purged": True}),
        text("DELETE FROM audit_events"),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    # The retention purge's scrub: details only, marked, with the transaction-local setting on.
    db.session.execute(text("SELECT set_config('callback.audit_scrub', 'on', true)"))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(
            update(AuditEvent).where(AuditEvent.id == event_id).values(action="x", details={"purged": True})
        )
    db.session.rollback()
    db.session.execute(text("SELECT set_config('callback.audit_scrub', 'on', true)"))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(details={"purged": True}))
    db.session.commit()
    # The setting ended with its transaction.
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(
            update(AuditEvent).where(AuditEvent.id == event_id).values(details={"purged": True})
        )
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).details == {"purged": True}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_no_route_can_change_or_delete_an_event(app):
    routes = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert {rule.rule for rule in routes} >= {"/audit/", "/audit/export.csv", "/api/v1/audit-events"}
    for rule in routes:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
