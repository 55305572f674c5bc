"""While the database cannot be reached: 503 with Retry-After in the user's language, exit 3, retries."""

import logging
import threading

import pytest

from callback.extensions import db
from callback.settings import current_settings
from callback.telephony.dialer import Dialer
from callback.telephony.pacing import CallPacer
from tests.conftest import TEST_NOW, make_app
from tests.intake.exports import chinese_row, write_csv

UNREACHABLE = {
    # Nothing listens on port 1: connection refused at once.
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/callback?connect_timeout=2",
    # A folder that does not exist: SQLite cannot open the file.
    "sqlite": "sqlite:////nonexistent-folder/for/callback.sqlite",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def dead_app(request, tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, SQLALCHEMY_DATABASE_URI=UNREACHABLE[request.param])
    yield app
    with app.app_context():
        db.engine.dispose()


def signed_in_client(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"  # Flask-Login will ask the database who this is
        session["_fresh"] = True
    return client


def test_a_page_answers_503_with_retry_after_in_chinese_or_english(dead_app):
    client = signed_in_client(dead_app)
    response = client.get("/orders/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "数据库暂时无法连接" in response.text
    assert "登录" in response.text  # the page offers to sign in, not the signed-in menu it cannot look up
    with client.session_transaction() as session:
        session["locale"] = "en"
    english = client.get("/orders/")
    assert english.status_code == 503 and "The database cannot be reached" in english.text


def test_signing_in_answers_503_not_500(dead_app):
    response = dead_app.test_client().post("/login", data={"username": "sup", "password": "whatever123"})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


def test_the_api_answers_the_contracts_error_with_503(dead_app):
    client = dead_app.test_client()
    response = client.get("/api/v1/tasks", headers={"Authorization": "Bearer cb_x", "Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json == {
        "error": {
            "code": "database_unavailable",
            "message": "The database cannot be reached right now; please try again in a minute.",
            "details": [],
        }
    }
    chinese = client.put("/api/v1/work-orders/GD-1", json={}, headers={"Authorization": "Bearer cb_x"})
    assert chinese.status_code == 503 and chinese.json["error"]["code"] == "database_unavailable"
    assert "数据库" in chinese.json["error"]["message"]


def test_healthz_answers_503_when_the_database_is_unreachable(dead_app):
    response = dead_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json == {
        "status": "unavailable",
        "database": "unreachable",
        "migrations": "unknown",
        "dialers": [],
    }


def test_the_retry_after_delay_is_configurable(tmp_path, monkeypatch):
    app = make_app(
        tmp_path, monkeypatch, SQLALCHEMY_DATABASE_URI=UNREACHABLE["sqlite"], DATABASE_RETRY_AFTER_SECONDS=120
    )
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer cb_x"})
    assert response.headers["Retry-After"] == "120"


def test_import_orders_exits_3_when_the_database_is_unreachable(dead_app, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [chinese_row("GD-1")], encoding="utf-8-sig")
    result = dead_app.test_cli_runner().invoke(args=["import-orders", str(path)])
    assert result.exit_code == 3, result.output
    assert "数据库" in result.output


def test_tick_exits_non_zero_with_a_clear_message(dead_app):
    result = dead_app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 3
    assert "cannot reach the database" in result.output


def test_the_dialer_loop_survives_an_outage_and_logs_why(dead_app, caplog):
    with dead_app.app_context():
        dialer = Dialer(
            db.session,
            FailingProvider(),
            CallPacer(db.engine, 1000),
            current_settings(),
            dead_app.config,
            lambda: TEST_NOW,
            name="test-dialer",
        )
        stop = threading.Event()
        passes = []
        original = dialer.run_pass

        def counting_pass():
            passes.append(1)
            if len(passes) == 3:
                stop.set()
            return original()

        dialer.run_pass = counting_pass  # type: ignore[method-assign]
        object.__setattr__(dialer.settings, "dialer_idle_seconds", 0.01)
        with caplog.at_level(logging.WARNING):
            dialer.run_forever(stop)
    assert len(passes) == 3  # it kept trying
    reasons = [r.getMessage() for r in caplog.records if r.name == "callback.telephony.dialer"]
    assert len(reasons) >= 3
    assert all("the database cannot be reached" in reason for reason in reasons)


class FailingProvider:
    name = "unused"

    def place_call(self, call):  # pragma: no cover  (no task can be claimed without a database)
        raise AssertionError("no call without a database")

    def find_call(self, call, placed_after):  # pragma: no cover
        return None

    def run_pending(self) -> None:
        pass


def test_dialer_once_exits_3_when_the_database_is_unreachable(dead_app):
    result = dead_app.test_cli_runner().invoke(args=["dialer", "--once"])
    assert result.exit_code == 3
    assert "cannot reach the database" in result.output
