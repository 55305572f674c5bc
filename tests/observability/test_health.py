"""GET /healthz and the dialers' heartbeats, as a load balancer and an admin see them."""

import threading
from datetime import timedelta

from sqlalchemy import text

from callback.extensions import db
from callback.models import DialerHeartbeat
from callback.settings import current_settings
from callback.telephony.dialer import Dialer
from callback.telephony.heartbeat import beat
from callback.telephony.pacing import CallPacer
from tests.conftest import TEST_NOW
from tests.telephony.helpers import store_connected_orders
from tests.telephony.test_dialer import ScriptedProvider


def make_dialer(app, name="host-a:101", clock=lambda: TEST_NOW) -> Dialer:
    return Dialer(
        db.session,
        ScriptedProvider(),
        CallPacer(db.engine, 1000),
        current_settings(),
        app.config,
        clock,
        name=name,
    )


def test_healthz_is_ok_without_sign_in_and_lists_each_dialers_heartbeat(app, client):
    assert client.get("/healthz").json == {
        "status": "ok",
        "database": "ok",
        "migrations": "head",
        "dialers": [],
    }
    store_connected_orders(current_settings(), "HB-1", "HB-2")
    make_dialer(app).run_pass()  # places two calls; the scripted provider never ends them
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["dialers"] == [
        {
            "name": "host-a:101",
            "started_at": "2026-11-27T10:00:00+08:00",
            "last_pass_at": "2026-11-27T10:00:00+08:00",
            "seconds_since_last_pass": 0,
            "calls_in_flight": 2,
        }
    ]


def test_healthz_answers_503_when_the_schema_is_behind_or_never_migrated(app, client):
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '95320d8f2a35'"))
    behind = client.get("/healthz")
    assert behind.status_code == 503
    assert behind.json["status"] == "unavailable" and behind.json["migrations"] == "behind"
    assert behind.json["database"] == "ok"
    assert "Retry-After" in behind.headers
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfacef00d'"))
    assert client.get("/healthz").json["migrations"] == "ahead"  # a newer release migrated the database
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    never = client.get("/healthz")
    assert never.status_code == 503 and never.json["migrations"] == "none"


def test_a_dialer_counts_its_calls_until_they_end_and_forgets_itself_on_a_clean_stop(app):
    store_connected_orders(current_settings(), "HB-1")
    dialer = make_dialer(app)
    dialer.run_pass()
    row = db.session.query(DialerHeartbeat).one()
    assert (row.name, row.calls_in_flight) == ("host-a:101", 1)
    db.session.execute(text("UPDATE call_attempts SET disposition = 'busy'"))
    db.session.commit()
    dialer.run_pass()
    db.session.expire_all()
    assert db.session.query(DialerHeartbeat).one().calls_in_flight == 0

    stop = threading.Event()
    stop.set()
    dialer.run_forever(stop)
    assert db.session.query(DialerHeartbeat).count() == 0


def test_heartbeats_of_dialers_gone_for_a_day_are_forgotten(app):
    old = TEST_NOW - timedelta(days=2)
    beat(db.session, "gone:1", started_at=old, now=old, calls_in_flight=0)
    beat(db.session, "alive:2", started_at=TEST_NOW, now=TEST_NOW, calls_in_flight=0)
    db.session.commit()
    assert [row.name for row in db.session.query(DialerHeartbeat)] == ["alive:2"]


def test_the_dialer_command_names_itself(app, runner):
    result = runner.invoke(args=["dialer", "--once", "--name", "dialer-7"])
    assert result.exit_code == 0, result.output
    assert [row.name for row in db.session.query(DialerHeartbeat)] == ["dialer-7"]


def test_admins_see_the_dialers_page_others_do_not(app, client, login):
    store_connected_orders(current_settings(), "HB-1")
    make_dialer(app, name="host-b:202").run_pass()
    beat(db.session, "stuck:3", started_at=TEST_NOW, now=TEST_NOW - timedelta(minutes=30), calls_in_flight=0)
    db.session.commit()
    login("supervisor", username="sup")
    assert client.get("/admin/dialers").status_code == 403
    client.post("/logout")
    login("admin")
    page = client.get("/admin/dialers")
    assert page.status_code == 200
    html = page.text
    assert "host-b:202" in html and "stuck:3" in html
    assert "运行中" in html and "无心跳" in html  # running, and silent for 30 minutes
    assert 'id="calls-in-flight">1<' in html
    assert 'href="/admin/dialers"' in html  # in the menu


def test_the_dialers_page_says_when_no_dialer_runs(app, client, login):
    login("admin")
    assert "没有运行中的外呼程序" in client.get("/admin/dialers").text
