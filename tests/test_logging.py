"""Logs: ISO time, logger, request id, user; JSON on request; never a phone number, token or password."""

import json
import logging
import re

import pytest
from sqlalchemy import select

from callback.extensions import db
from callback.logging_setup import REQUEST_ID_HEADER, redact
from callback.models import CallAttempt
from callback.settings import current_settings
from callback.users import create_api_token, create_user
from tests.conftest import PASSWORD, TEST_NOW, fresh_schema, make_app
from tests.factories import order_payload
from tests.intake.exports import chinese_row, write_csv
from tests.telephony.helpers import store_connected_orders

MOBILE, LANDLINE, IMPORTED = "13912345678", "010-62345678", "13787654321"
SECRETS_IN_LOGS = re.compile(
    r"13912345678|3912345678|62345678|13787654321|3787654321|13800138000|3800138000|cb_[A-Za-z0-9_-]{8}"
)


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Every record as a handler would see it: the message, the traceback, the extra fields."""
    parts = []
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        parts.append(json.dumps({k: str(v) for k, v in vars(record).items()}, ensure_ascii=False))
    return "\n".join(parts)


def test_the_journeys_log_no_phone_number_token_or_password(tmp_path, monkeypatch, caplog):
    """API upsert, claim, attempt, sign-in, import, and automated calls through the IVR webhooks."""
    app = make_app(tmp_path, monkeypatch, DIALER_CALLS_PER_SECOND=100, SIMULATION_MIX="agree=1,busy=1")
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        fresh_schema(app)
        tokens = {}
        for role in ("integration", "operator"):
            user = create_user(db.session, f"api-{role}", role, PASSWORD, now=TEST_NOW)
            tokens[role] = create_api_token(db.session, user, now=TEST_NOW)
        create_user(db.session, "sup", "supervisor", PASSWORD, now=TEST_NOW)
        db.session.commit()
        client = app.test_client()
        integration = {"Authorization": f"Bearer {tokens['integration']}"}
        operator = {"Authorization": f"Bearer {tokens['operator']}"}

        # The marketing system pushes orders, one of them with a mistake that is reported back.
        response = client.put(
            "/api/v1/work-orders/LOG-1",
            json=order_payload("LOG-1", customer_phone=MOBILE),
            headers=integration,
        )
        assert response.status_code == 200
        bad = client.post(
            "/api/v1/work-orders",
            json=[
                order_payload("LOG-2", customer_phone=LANDLINE),
                order_payload("LOG-3", customer_phone="1391234"),
            ],
            headers=integration,
        )
        assert [r["result"] for r in bad.json["results"]] == ["created", "rejected"]
        assert (
            client.get(
                "/api/v1/work-orders/LOG-1", headers={"Authorization": "Bearer cb_wrongtoken"}
            ).status_code
            == 401
        )

        # An operator claims the callback, sees the full number, records the call.
        task = client.post("/api/v1/tasks/claim", headers=operator).json
        assert task["order"]["customer_phone"] in ("+8613912345678", "+861062345678")
        attempt = client.post(
            f"/api/v1/tasks/{task['id']}/attempts",
            json={
                "disposition": "completed",
                "answers": {
                    "is_applicant": True,
                    "applied_on": "2026-11-10",
                    "progress": "surveyed",
                    "satisfaction": 2,
                },
            },
            headers=operator,
        )
        assert attempt.status_code == 201, attempt.json

        # A supervisor signs in (once with a wrong password) and opens the order page.
        client.post("/login", data={"username": "sup", "password": "wrong password 13912345678"})
        assert client.post("/login", data={"username": "sup", "password": PASSWORD}).status_code == 302
        assert client.get("/orders/LOG-1").status_code == 200

        # A file import, with a rejected row.
        path = write_csv(
            tmp_path / "orders.csv",
            [chinese_row("LOG-10", 联系电话=IMPORTED), chinese_row("LOG-11", 联系电话="1378765432")],
            encoding="utf-8-sig",
        )
        result = app.test_cli_runner().invoke(args=["import-orders", str(path)])
        assert result.exit_code == 1, result.output

        # The dialer calls connected customers; the simulated customers answer through the signed webhooks.
        store_connected_orders(current_settings(), "LOG-20", "LOG-21")
        result = app.test_cli_runner().invoke(args=["dialer", "--once"])
        assert result.exit_code == 0, result.output
        assert all(
            a.transcript for a in db.session.scalars(select(CallAttempt).where(CallAttempt.channel == "auto"))
        )
        db.session.remove()
        db.engine.dispose()

    logged = everything_logged(caplog.records)
    assert any(r.name == "callback.telephony.dialer" and r.levelno == logging.INFO for r in caplog.records)
    assert SECRETS_IN_LOGS.findall(logged) == []
    assert PASSWORD not in logged and "wrong password" not in logged
    for token in tokens.values():
        assert token not in logged


def test_text_lines_carry_iso_time_logger_request_id_and_user(tmp_path, monkeypatch, capsys):
    app = make_app(tmp_path, monkeypatch)

    @app.get("/test-log")
    def log_something():
        logging.getLogger("callback.test").warning("looked at order %s", "GD-1")
        return "ok"

    with app.app_context():
        fresh_schema(app)
        user = create_user(db.session, "sup", "supervisor", PASSWORD, now=TEST_NOW)
        db.session.commit()
        client = app.test_client()
        assert client.post("/login", data={"username": "sup", "password": PASSWORD}).status_code == 302
        capsys.readouterr()
        response = client.get("/test-log", headers={REQUEST_ID_HEADER: "edge-42.abc"})
        db.session.remove()
        db.engine.dispose()
    assert response.headers[REQUEST_ID_HEADER] == "edge-42.abc"
    line = next(line for line in capsys.readouterr().err.splitlines() if "looked at order" in line)
    assert re.match(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}\+00:00 WARNING callback\.test "
        rf"\[req=edge-42\.abc user={user.id}\] looked at order GD-1$",
        line,
    ), line


def test_a_request_id_is_made_when_missing_or_insane_and_returned_on_every_response(client):
    made = client.get("/login").headers[REQUEST_ID_HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/login").headers[REQUEST_ID_HEADER] != made
    insane = client.get("/nowhere", headers={REQUEST_ID_HEADER: "x" * 500})
    assert insane.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{32}", insane.headers[REQUEST_ID_HEADER])
    injected = client.get("/login", headers={REQUEST_ID_HEADER: "a b\tc"})
    assert injected.headers[REQUEST_ID_HEADER] != "a b\tc"


def test_json_lines_for_a_log_collector_with_redaction_as_a_safety_net(tmp_path, monkeypatch, capsys):
    app = make_app(tmp_path, monkeypatch, LOG_FORMAT="json", LOG_LEVEL="debug")
    capsys.readouterr()

    @app.get("/test-log")
    def log_something():
        logging.getLogger("callback.test").info(
            "calling +8613912345678 with Bearer cb_abcdefghijklmnopqrstuvwxyz"
        )
        try:
            raise ValueError("password=hunter2hunter2 for 010-62345678")
        except ValueError:
            logging.getLogger("callback.test").exception("failed")
        return "ok"

    with app.app_context():
        fresh_schema(app)
        app.test_client().get("/test-log", headers={REQUEST_ID_HEADER: "r-1"})
        db.engine.dispose()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("logger") == "callback.test"]
    assert mine[0]["message"] == "calling [redacted] with Bearer [redacted]"
    assert mine[0]["level"] == "INFO" and mine[0]["request_id"] == "r-1" and mine[0]["user_id"] == "-"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", mine[0]["time"])
    assert "hunter2" not in mine[1]["exc_info"] and "62345678" not in mine[1]["exc_info"]
    assert "ValueError" in mine[1]["exc_info"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to +8613912345678.", "to [redacted]."),
        ("mobile 13912345678 and 8613912345678", "mobile [redacted] and [redacted]"),
        ("landline 010-62345678 or 0755-1234567", "landline [redacted] or [redacted]"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer [redacted]"),
        ('{"password": "s3cret!", "token": "xyz"}', '{"password": "[redacted]", "token": "[redacted]"}'),
        (
            "order GD-2026-0001 at 2026-11-27 10:00:00, attempt 12345",
            "order GD-2026-0001 at 2026-11-27 10:00:00, attempt 12345",
        ),
    ],
)
def test_redaction_blanks_numbers_and_secrets_but_keeps_order_numbers_and_times(text, expected):
    assert redact(text) == expected


def test_log_level_and_format_are_checked_at_start_up(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match="LOG_FORMAT"):
        make_app(tmp_path, monkeypatch, LOG_FORMAT="xml")
    with pytest.raises(SystemExit, match="LOG_LEVEL"):
        make_app(tmp_path, monkeypatch, LOG_LEVEL="LOUD")


def test_the_dialer_commands_info_lines_are_visible_by_default(app, runner, settings):
    store_connected_orders(settings, "LOG-30")
    result = runner.invoke(args=["dialer", "--once", "--name", "dialer-x"])
    assert result.exit_code == 0, result.output
    lines = [
        line
        for line in result.stderr.splitlines()
        if " INFO callback.telephony.dialer [req=- user=-] " in line
    ]
    assert any("provider answered CallPlaced" in line for line in lines), result.stderr
    # The simulated customer answers at once: nothing is left in flight at the end of the pass.
    assert any(
        line.endswith("dialer pass: 1 placed, 0 refused, 0 lost, 0 found again, 0 in flight")
        for line in lines
    )


def test_database_errors_never_carry_row_values(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True})
    with app.app_context():
        fresh_schema(app)
        from sqlalchemy import text
        from sqlalchemy.exc import IntegrityError

        statement = text(
            "INSERT INTO users (id, username, role, active, created_at) VALUES (:id, :name, 'x', :on, :t)"
        )
        db.session.execute(statement, {"id": 1, "name": "13912345678", "on": True, "t": TEST_NOW})
        with pytest.raises(IntegrityError) as raised:
            db.session.execute(statement, {"id": 1, "name": "13912345678", "on": True, "t": TEST_NOW})
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    assert "13912345678" not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)
