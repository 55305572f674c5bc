"""callback: customer callbacks that expose off-line circulation of grid-connection work orders."""

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session

from callback.extensions import babel, csrf, db, login_manager, migrate
from callback.logging_setup import register_logging
from callback.settings import ConfigError, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the application."""
    instance_path = os.environ.get("CALLBACK_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    register_config(app, test_config)
    register_logging(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese text as is, contract 4
    register_extensions(app)
    register_sqlite_tuning(app)
    register_blueprints(app)
    register_cli(app)
    register_observability(app)
    return app


def register_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Load defaults < instance/config.py < CALLBACK_* environment < test_config, then check them."""
    app.config.from_object("callback.config_defaults")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CALLBACK")
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path) / "secret_key")
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    try:
        app.extensions["callback.settings"] = load_settings(app.config)
    except ConfigError as error:
        raise SystemExit(f"callback: {error}") from None


def _instance_secret_key(path: Path) -> str:
    """Read the instance's secret key, generating it on first run."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
    return path.read_text().strip()


def select_locale() -> str | None:
    """Chinese unless the user chose English (web) or the API client asks for it."""
    if not has_request_context():
        return None  # CLI commands and workers: BABEL_DEFAULT_LOCALE
    chosen: str | None = session.get("locale")
    if chosen in ("zh_CN", "en"):
        return chosen
    if request.path.startswith("/api/") and request.accept_languages.best_match(["zh", "en"]) == "en":
        return "en"
    return "zh_CN"


def register_extensions(app: Flask) -> None:
    """Bind the extensions to the app."""
    from callback import models  # noqa: F401  (register the tables with the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )


def register_sqlite_tuning(app: Flask) -> None:
    """Run SQLite in WAL mode with a busy timeout, so web, dialer and tick processes share the file."""
    from callback.sqlite_tuning import tune_engine

    with app.app_context():
        for engine in db.engines.values():
            tune_engine(engine)


def register_blueprints(app: Flask) -> None:
    """Mount the web pages and the API."""
    from callback.web import (
        admin,
        api,
        audit_pages,
        auth,
        case_desk,
        cases,
        desk,
        donotcall_pages,
        errors,
        filters,
        ledgers,
        menu,
        notifications,
        operator,
        orders,
        paging,
        qa,
        recordings,
        reports,
        search,
        security,
        telephony_hooks,
    )

    security.init_app(app, app.extensions["callback.settings"])
    paging.init_app(app)  # before any route: ids in paths are bounded (issue 9)
    errors.init_app(app)
    auth.init_app(app)
    filters.init_app(app)
    for blueprint in (auth.bp, orders.bp, operator.bp, cases.bp, ledgers.bp, reports.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(recordings.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit_pages.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(qa.bp)
    app.register_blueprint(donotcall_pages.bp)
    app.register_blueprint(case_desk.bp)
    app.register_blueprint(notifications.bp)
    menu.init_app(app)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    # Twilio cannot send a CSRF token; its webhooks check X-Twilio-Signature instead.
    app.register_blueprint(telephony_hooks.bp)
    csrf.exempt(telephony_hooks.bp)
    # Alibaba Cloud's callbacks carry the deployment's token in their URL instead.
    from callback.web import aliyun_hooks

    app.register_blueprint(aliyun_hooks.bp)
    csrf.exempt(aliyun_hooks.bp)
    # Message follow-ups' delivery receipts, signed (Twilio) or tokened (Alibaba Cloud) as above.
    from callback.web import message_hooks

    for blueprint in (message_hooks.twilio_bp, message_hooks.aliyun_bp):
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    # The API's description rendered for integrators (issue 15); public, like /api/v1/openapi.yaml.
    from callback.web import api_docs

    app.register_blueprint(api_docs.bp)


def register_cli(app: Flask) -> None:
    """Add the product's commands to `flask --app callback`."""
    from callback.cli import register_commands

    register_commands(app)


def register_observability(app: Flask) -> None:
    """Health check, metrics, the database-outage answer, the dialers' page and the built static files."""
    from callback.observability import init_app

    init_app(app)
