"""Retention: purge-personal-data de-identifies old finished orders and leaves every report as it was."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from callback.extensions import db
from callback.models import (
    AuditEvent,
    CallAttempt,
    CallbackTask,
    CallRecording,
    CaseEvidence,
    SupervisionCase,
    User,
    WorkOrder,
)
from callback.retention import (
    PURGED_PHONE,
    PURGED_TEXT,
    clear_answers,
    clear_transcript,
    deidentify_snapshot,
    scrub_details,
)
from callback.settings import ConfigError, load_settings
from tests.conftest import TEST_NOW, fresh_schema, make_app
from tests.factories import order_payload

# Beijing 10:00 on each day.
MARCH_2 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
MARCH_12 = datetime(2026, 3, 12, 2, 0, tzinfo=UTC)
NOV_17 = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)
SUMMARY = "/api/v1/reports/summary?from=2026-01-01&to=2026-12-31&customer_type=all"
PURGE = ["purge-personal-data", "--older-than-days", "90"]


def at(app, moment: datetime) -> None:
    """Move the app's clock (requests and commands read it)."""
    app.config["CLOCK"] = lambda: moment


@pytest.fixture
def history(tmp_path, monkeypatch):
    """An app whose database holds, made through the API, the dialer and its webhooks:

    OLD-1 accepted on 2 March, called by an operator (note, comment, a dissatisfied answer: a case, later
    dismissed), connected on 12 March with a new phone number, its completion callback made by the IVR;
    OLD-OPEN cancelled in March with its case still open; OLD-RUNNING accepted in March and never finished;
    NEW-1 connected ten days ago.
    """
    app = make_app(
        tmp_path, monkeypatch, SIMULATION_MIX="agree=1", SIMULATION_SEED=1, DIALER_CALLS_PER_SECOND=100
    )
    with app.app_context():
        fresh_schema(app)
        from callback.users import create_api_token, create_user

        headers = {}
        for role in ("integration", "operator", "supervisor"):
            user = create_user(db.session, f"{role}-1", role, "long password", now=MARCH_2)
            headers[role] = {"Authorization": f"Bearer {create_api_token(db.session, user, now=MARCH_2)}"}
        db.session.commit()
        client = app.test_client()

        at(app, MARCH_2)
        for order_no in ("OLD-1", "OLD-OPEN", "OLD-RUNNING"):
            body = order_payload(
                order_no,
                accepted_at="2026-03-02T09:00:00",
                due_at="2026-03-12T17:00:00",
                address="城关镇人民路 12 号",
                customer_name=f"{order_no} 五金店",
            )
            assert (
                client.put(
                    f"/api/v1/work-orders/{order_no}", json=body, headers=headers["integration"]
                ).status_code
                == 200
            )
        for _order_no in ("OLD-1", "OLD-OPEN"):
            task = client.post("/api/v1/tasks/claim", headers=headers["operator"]).json
            call = {
                "disposition": "completed",
                "answers": {
                    "progress": "surveyed",
                    "satisfaction": 1,
                    "comment": "张经理说下周再来，电话13912345678",
                },
                "note": "客户李四，请回拨 13912345678",
            }
            saved = client.post(
                f"/api/v1/tasks/{task['id']}/attempts", json=call, headers=headers["operator"]
            )
            assert saved.status_code == 201, saved.json
            assert saved.json["cases_opened"]
        # The last one's intake callback stays unanswered, so its order is not finished anyway.

        at(app, MARCH_12)
        connected = order_payload(
            "OLD-1",
            customer_name="OLD-1 五金店",
            customer_phone="13900139000",
            address="城关镇人民路 12 号",
            accepted_at="2026-03-02T09:00:00",
            due_at="2026-03-12T17:00:00",
            status="connected",
            surveyed_at="2026-03-05T09:00:00",
            connected_at="2026-03-11T15:00:00",
        )
        assert (
            client.put("/api/v1/work-orders/OLD-1", json=connected, headers=headers["integration"]).json[
                "results"
            ][0]["result"]
            == "updated"
        )
        cancelled = order_payload(
            "OLD-OPEN",
            customer_name="OLD-OPEN 五金店",
            address="城关镇人民路 12 号",
            accepted_at="2026-03-02T09:00:00",
            due_at="2026-03-12T17:00:00",
            status="cancelled",
            cancelled_at="2026-03-10T09:00:00",
        )
        assert (
            client.put(
                "/api/v1/work-orders/OLD-OPEN", json=cancelled, headers=headers["integration"]
            ).status_code
            == 200
        )
        result = app.test_cli_runner().invoke(args=["dialer", "--once"])
        assert "calls placed: 1" in result.output, result.output
        old_case = db.session.scalar(
            select(SupervisionCase.id).join(WorkOrder).where(WorkOrder.order_no == "OLD-1")
        )
        dismissed = client.post(
            f"/api/v1/cases/{old_case}/transitions",
            json={"to": "dismissed", "note": "客户误解"},
            headers=headers["supervisor"],
        )
        assert dismissed.status_code == 200, dismissed.json

        at(app, NOV_17)
        recent = order_payload(
            "NEW-1",
            accepted_at="2026-11-10T09:00:00",
            due_at="2026-11-20T17:00:00",
            status="connected",
            connected_at="2026-11-16T15:00:00",
        )
        assert (
            client.put("/api/v1/work-orders/NEW-1", json=recent, headers=headers["integration"]).status_code
            == 200
        )

        at(app, TEST_NOW)
        db.session.expire_all()
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(CallbackTask)
                .where(CallbackTask.state.in_(["open", "claimed", "dialing"]))
            )
            >= 1
        )
        yield app, client, headers
        db.session.remove()
        db.engine.dispose()


def order(order_no: str) -> WorkOrder:
    db.session.expire_all()
    return db.session.scalar(select(WorkOrder).where(WorkOrder.order_no == order_no))


def test_old_finished_orders_are_de_identified_and_every_report_stays_the_same(history):
    app, client, headers = history
    before = client.get(SUMMARY, headers=headers["integration"]).json
    old_id = order("OLD-1").id
    attempts_before = db.session.scalars(
        select(CallAttempt).join(CallbackTask).where(CallbackTask.order_id == old_id).order_by(CallAttempt.id)
    ).all()
    assert any(a.transcript for a in attempts_before)
    codes_before = [
        (
            a.disposition,
            a.aapor_code,
            a.started_at,
            {k: v for k, v in a.answer_map().items() if k != "comment"},
        )
        for a in attempts_before
    ]

    result = app.test_cli_runner().invoke(args=PURGE)

    assert result.exit_code == 0, result.output
    assert "de-identified 1 orders" in result.output
    assert client.get(SUMMARY, headers=headers["integration"]).json == before

    old = order("OLD-1")
    assert (old.customer_name, old.customer_phone, old.address) == (PURGED_TEXT, PURGED_PHONE, PURGED_TEXT)
    assert (old.status, old.connected_at, old.has_engineering) == (
        "connected",
        datetime(2026, 3, 11, 7, tzinfo=UTC),
        False,
    )
    attempts = db.session.scalars(
        select(CallAttempt).join(CallbackTask).where(CallbackTask.order_id == old.id).order_by(CallAttempt.id)
    ).all()
    assert [
        (
            a.disposition,
            a.aapor_code,
            a.started_at,
            {k: v for k, v in a.answer_map().items() if k != "comment"},
        )
        for a in attempts
    ] == codes_before
    operator_call, ivr_call = attempts
    assert operator_call.note == PURGED_TEXT and operator_call.answer_map()["comment"] == PURGED_TEXT
    assert operator_call.order_snapshot["customer_phone"] == PURGED_PHONE
    assert operator_call.order_snapshot["accepted_at"] == attempts_before[0].order_snapshot["accepted_at"]
    assert ivr_call.transcript and all("text" not in e for e in ivr_call.transcript if e["event"] == "said")
    assert [e.get("digits") for e in ivr_call.transcript] == [
        e.get("digits") for e in attempts_before[1].transcript
    ]
    evidence = db.session.scalars(
        select(CaseEvidence).join(SupervisionCase).where(SupervisionCase.order_id == old.id)
    ).all()
    assert evidence and all(e.order_snapshot["customer_name"] == PURGED_TEXT for e in evidence)
    assert all(e.answers.get("comment") == PURGED_TEXT and e.answers["satisfaction"] == 1 for e in evidence)

    kept = " ".join(
        str(row)
        for row in [
            *db.session.execute(select(WorkOrder.__table__).where(WorkOrder.id == old.id)),
            *db.session.execute(
                select(CallAttempt.__table__).where(CallAttempt.id.in_([a.id for a in attempts]))
            ),
            *db.session.execute(
                select(CaseEvidence.__table__).where(CaseEvidence.id.in_([e.id for e in evidence]))
            ),
            *db.session.execute(
                select(AuditEvent.__table__).where(
                    AuditEvent.entity_type == "work_order", AuditEvent.entity_id == old.id
                )
            ),
        ]
    )
    for personal in ("13912345678", "8613800138000", "8613900139000", "李四", "张经理", "五金店", "人民路"):
        assert personal not in kept
    # The audit keeps that the purge happened, and its update of the order without the numbers.
    purged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "order.purged")).all()
    assert [(e.entity_id, e.channel, e.source, e.details) for e in purged] == [
        (old.id, "cli", "purge-personal-data", {"older_than_days": 90})
    ]
    update = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "order.updated", AuditEvent.entity_id == old.id)
    )
    assert update.details["purged"] is True
    assert update.details["changes"]["customer_phone"] == [PURGED_PHONE, PURGED_PHONE]
    assert update.details["changes"]["status"] == ["accepted", "connected"]


def test_orders_with_an_open_case_a_callback_to_make_or_not_long_finished_keep_their_data(history):
    app, _client, _headers = history
    assert app.test_cli_runner().invoke(args=PURGE).exit_code == 0
    for order_no in ("OLD-OPEN", "OLD-RUNNING", "NEW-1"):
        kept = order(order_no)
        assert kept.customer_phone == "+8613800138000", order_no
    # Once the case is closed, the next run takes the cancelled order too; nothing is done twice.
    case = db.session.scalar(select(SupervisionCase).join(WorkOrder).where(WorkOrder.order_no == "OLD-OPEN"))
    case.state = "closed"
    db.session.commit()
    again = app.test_cli_runner().invoke(args=PURGE)
    assert "de-identified 1 orders" in again.output
    assert order("OLD-OPEN").customer_phone == PURGED_PHONE
    assert "de-identified 0 orders" in app.test_cli_runner().invoke(args=PURGE).output


def test_a_dry_run_counts_and_changes_nothing(history):
    app, _client, _headers = history
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    result = app.test_cli_runner().invoke(args=[*PURGE, "--dry-run"])
    assert result.exit_code == 0
    assert "dry run: 1 orders finished before 2026-08-29 10:00 would be de-identified" in result.output
    assert order("OLD-1").customer_phone == "+8613900139000"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def attach_recording(app, order_no: str, seed: str):
    """Attach a WAV from the call-centre recorder to the order's operator call, as its supervisor would."""
    from callback.recordings import attach_upload
    from callback.recordings.audio import simulated_wav
    from callback.recordings.storage import store_for

    attempt = db.session.scalars(
        select(CallAttempt)
        .join(CallbackTask)
        .where(CallbackTask.order.has(order_no=order_no), CallAttempt.channel == "operator")
    ).one()
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor-1"))
    recording = attach_upload(
        db.session,
        attempt,
        simulated_wav(2, seed=seed),
        "recorder.wav",
        uploader=supervisor,
        store=store_for(app),
        max_bytes=1024 * 1024,
        now=MARCH_12,
    )
    db.session.commit()
    return recording


def order_recordings(order_no: str) -> list[CallRecording]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CallRecording)
            .join(CallAttempt, CallRecording.attempt_id == CallAttempt.id)
            .join(CallbackTask)
            .where(CallbackTask.order.has(order_no=order_no))
            .order_by(CallRecording.id)
        )
    )


def test_a_purged_order_s_recordings_lose_their_audio_and_keep_their_hash(history):
    app, _client, _headers = history
    from callback.recordings.storage import store_for

    attach_recording(app, "OLD-1", "OLD-1 operator call")
    attach_recording(app, "OLD-OPEN", "kept: its case is open")
    # OLD-1's IVR call was recorded by the (simulated) provider and fetched by the dialer; plus the upload.
    before = order_recordings("OLD-1")
    assert [(r.provider, r.status) for r in before] == [("simulated", "stored"), ("upload", "stored")]
    files = [store_for(app).local_path(r.path) for r in before]
    assert all(path is not None and path.is_file() for path in files)
    hashes = [r.sha256 for r in before]
    (kept,) = order_recordings("OLD-OPEN")

    dry = app.test_cli_runner().invoke(args=[*PURGE, "--dry-run"])
    assert dry.exit_code == 0 and "2 call recordings' audio deleted" in dry.output
    assert [r.status for r in order_recordings("OLD-1")] == ["stored", "stored"]
    assert all(path.is_file() for path in files)

    result = app.test_cli_runner().invoke(args=PURGE)
    assert result.exit_code == 0, result.output
    assert "de-identified 1 orders" in result.output and "2 call recordings deleted" in result.output
    after = order_recordings("OLD-1")
    assert [(r.status, r.path, r.sha256, r.source_url) for r in after] == [
        ("deleted", None, digest, None) for digest in hashes
    ]
    assert all(r.deleted_at == TEST_NOW for r in after)
    assert not any(path.exists() for path in files)
    deleted = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording_deleted")).all()
    assert sorted((e.entity_id, e.source, e.details["reason"]) for e in deleted) == [
        (r.id, "purge-personal-data", "retention") for r in after
    ]
    # The order kept for its open case keeps its recording.
    (still,) = order_recordings("OLD-OPEN")
    assert (still.status, still.sha256) == ("stored", kept.sha256)
    assert store_for(app).local_path(still.path) is not None
    assert "0 call recordings deleted" in app.test_cli_runner().invoke(args=PURGE).output


def test_the_days_default_to_retention_days_and_one_of_them_is_needed(history, monkeypatch):
    app, _client, _headers = history
    refused = app.test_cli_runner().invoke(args=["purge-personal-data"])
    assert refused.exit_code == 2 and "RETENTION_DAYS" in refused.output
    assert app.test_cli_runner().invoke(args=["purge-personal-data", "--older-than-days", "0"]).exit_code == 2
    import dataclasses

    settings = app.extensions["callback.settings"]
    app.extensions["callback.settings"] = dataclasses.replace(settings, retention_days=300)
    assert "de-identified 0 orders" in app.test_cli_runner().invoke(args=["purge-personal-data"]).output
    app.extensions["callback.settings"] = dataclasses.replace(settings, retention_days=200)
    assert "de-identified 1 orders" in app.test_cli_runner().invoke(args=["purge-personal-data"]).output


def test_large_tables_go_in_batches(history, monkeypatch):
    app, client, headers = history
    at(app, MARCH_12)
    batch = [
        order_payload(
            f"B-{n}",
            accepted_at="2026-03-02T09:00:00",
            due_at="2026-03-12T17:00:00",
            status="cancelled",
            cancelled_at="2026-03-03T09:00:00",
        )
        for n in range(5)
    ]
    client.post("/api/v1/work-orders", json=batch, headers=headers["integration"])
    at(app, TEST_NOW)
    monkeypatch.setattr("callback.retention.BATCH_SIZE", 2)
    result = app.test_cli_runner().invoke(args=PURGE)
    assert "de-identified 6 orders" in result.output
    assert (
        db.session.scalar(
            select(func.count()).select_from(WorkOrder).where(WorkOrder.customer_phone == PURGED_PHONE)
        )
        == 6
    )


def test_retention_days_is_checked_at_start(app):
    from callback import config_defaults as config

    values = {key: getattr(config, key) for key in dir(config) if key.isupper()}
    assert load_settings({**values, "RETENTION_DAYS": 365}).retention_days == 365
    assert load_settings(values).retention_days is None
    with pytest.raises(ConfigError, match="RETENTION_DAYS"):
        load_settings({**values, "RETENTION_DAYS": 0})
    with pytest.raises(ConfigError, match="RETENTION_DAYS"):
        load_settings({**values, "RETENTION_DAYS": "a year"})


def test_the_pure_helpers_keep_codes_and_drop_words():
    snapshot = {
        "order_no": "X",
        "customer_name": "甲",
        "customer_phone": "+8613800138000",
        "address": None,
        "status": "connected",
    }
    assert deidentify_snapshot(snapshot) == {
        **snapshot,
        "customer_name": PURGED_TEXT,
        "customer_phone": PURGED_PHONE,
    }
    assert clear_answers({"satisfaction": 2, "comment": "很慢", "trips": 3}) == {
        "satisfaction": 2,
        "comment": PURGED_TEXT,
        "trips": 3,
    }
    transcript = [
        {"at": "t", "event": "said", "question": "trips", "text": "您跑了几趟"},
        {"at": "t", "event": "pressed", "question": "trips", "digits": "3", "valid": True},
        {"at": "t", "event": "status", "text": "completed"},
    ]
    assert clear_transcript(transcript) == [
        {"at": "t", "event": "said", "question": "trips"},
        transcript[1],
        transcript[2],
    ]
    # A SmartCall's record_file is a signed link to the customer's voice: it goes, the recording's id stays.
    recording = {
        "at": "t",
        "event": "recording",
        "provider": "aliyun",
        "recording_id": "1^2",
        "source_url": "https://x",
    }
    assert clear_transcript([recording]) == [{k: v for k, v in recording.items() if k != "source_url"}]
    assert scrub_details({"order_no": "X"}) is None
    assert scrub_details({"changes": {"address": [None, "路"], "status": ["a", "b"]}}) == {
        "changes": {"address": [None, PURGED_TEXT], "status": ["a", "b"]},
        "purged": True,
    }


def test_a_customer_s_request_purges_their_finished_order_alone(history):
    app, _client, _headers = history
    result = app.test_cli_runner().invoke(
        args=[
            "purge-personal-data",
            *(
                "--order-no",
                "OLD-1",
                "--order-no",
                "OLD-RUNNING",
                "--order-no",
                "NEW-1",
                "--order-no",
                "NOPE",
            ),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "de-identified 1 orders finished:" in result.output
    assert "OLD-RUNNING: kept, not finished (status accepted)" in result.output
    assert (
        "NEW-1: kept, a supervision case about it is still open, or a callback is still to be made"
        in result.output
    )
    assert "NOPE: kept, no such order" in result.output
    assert order("OLD-1").customer_phone == PURGED_PHONE
    assert order("NEW-1").customer_phone == "+8613800138000"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "order.purged"))
    assert (event.entity_id, event.details) == (order("OLD-1").id, {"on_request": True})
    again = app.test_cli_runner().invoke(args=["purge-personal-data", "--order-no", "OLD-1"])
    assert "OLD-1: kept, already de-identified" in again.output


def test_the_systemd_sample_runs_the_command_daily(app):
    from pathlib import Path

    deploy = Path(__file__).resolve().parent.parent / "deploy"
    service = (deploy / "callback-retention.service").read_text()
    timer = (deploy / "callback-retention.timer").read_text()
    [exec_start] = [line for line in service.splitlines() if line.startswith("ExecStart=")]
    command = exec_start.split("--app callback", 1)[1].split()
    assert command == ["purge-personal-data"]  # RETENTION_DAYS from the environment file gives N
    assert app.test_cli_runner().invoke(args=[*command, "--help"]).exit_code == 0
    assert "OnCalendar=*-*-* 02:30:00" in timer and "Unit=callback-retention.service" in timer
