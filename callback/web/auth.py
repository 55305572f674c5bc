"""Sign-in and sign-out for people, and role checks for pages."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, login_url, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from callback.audit import Actor, AuditEntry, record
from callback.clock import utcnow
from callback.extensions import db, login_manager
from callback.models import User
from callback.sessions import end_sessions, resume_session, start_session
from callback.settings import current_settings
from callback.signin import authenticate, minutes_until
from callback.users import UserError, change_own_password

bp = Blueprint("auth", __name__)
P = ParamSpec("P")
R = TypeVar("R")


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Stay signed in"))
    submit = SubmitField(_l("Sign in"))


class LanguageForm(FlaskForm):
    pass


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


@login_manager.user_loader
def load_user(secret: str) -> User | None:
    """Load the user of a live server-side session (Flask-Login gives the secret from either cookie)."""
    user, touched = resume_session(db.session, secret, now=utcnow(), settings=current_settings())
    if user is None:
        # Ended, idle or too old: forget it, and have Flask-Login delete a remember-me cookie too.
        session.pop("_user_id", None)
        if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
            session["_remember"] = "clear"
        return None
    g.session_touched = touched
    return user


def _sign_in_browser(user: User, remember: bool) -> None:
    """Start this browser's session afresh: a new CSRF token, nothing kept but the language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    g.pop("csrf_token", None)  # Flask-WTF's token of this request; the next one is new
    login_user(user, remember=remember, duration=current_settings().session_max)


def keep_session_alive() -> None:
    """Load the signed-in user before the view runs, and store the session's new last-seen time at once."""
    if request.endpoint == "static" or request.path.startswith(("/api/", "/twilio/")):
        return
    if current_user.is_authenticated and g.pop("session_touched", False):
        db.session.commit()


def roles_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let only signed-in users of one of these roles see the page."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by callback.web.menu
        return wrapped

    return decorator


def _safe_next(target: str | None) -> str | None:
    """Accept only a local path as the place to return to after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int, dict[str, str]]:
    """Sign in with username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("orders.index"))
    form = LoginForm()
    if form.validate_on_submit():
        now, settings = utcnow(), current_settings()
        outcome = authenticate(
            db.session,
            form.username.data or "",
            form.password.data or "",
            request.remote_addr or "unknown",
            now=now,
            settings=settings,
        )
        if outcome.user is not None:
            start_session(db.session, outcome.user, now=now, settings=settings)
            db.session.commit()
            _sign_in_browser(outcome.user, bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")) or url_for("orders.index"))
        db.session.commit()  # the failure counts, and is audited
        if outcome.locked_until is not None:
            flash(
                _(
                    "Too many failed sign-ins: signing in with this name or from this address is locked "
                    "for %(minutes)d minutes.",
                    minutes=minutes_until(outcome.locked_until, now),
                ),
                "danger",
            )
            seconds = max(1, int((outcome.locked_until - now).total_seconds()))
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(seconds)}
        flash(_("Wrong username or password."), "danger")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Sign out: every session of this user ends, on every browser."""
    now, user_id = utcnow(), current_user.id
    end_sessions(db.session, user_id, now=now)
    record(db.session, Actor(user_id=user_id), now, [AuditEntry("auth.signed_out", "user", user_id)])
    db.session.commit()
    logout_user()
    session.pop("csrf_token", None)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password, proving the current one; other sessions end."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        now, settings = utcnow(), current_settings()
        user = db.session.get(User, current_user.id)
        assert user is not None  # noqa: S101  (signed in)
        try:
            change_own_password(db.session, user, form.current.data or "", form.new.data or "", now=now)
        except UserError as error:
            db.session.rollback()
            field = form.current if error.field == "current" else form.new
            field.errors = [*field.errors, str(error)]
            return render_template("auth/password.html", form=form), 422
        start_session(db.session, user, now=now, settings=settings)
        db.session.commit()
        _sign_in_browser(user, remember=False)
        flash(_("Your password has been changed; your other sessions have been signed out."), "success")
        return redirect(url_for("orders.index"))
    status = 422 if form.errors else 200
    return render_template("auth/password.html", form=form), status


@bp.post("/language/<code>")
def set_language(code: str) -> Response:
    """Switch the interface language (zh_CN or en)."""
    if not LanguageForm().validate_on_submit() or code not in ("zh_CN", "en"):
        abort(400)
    session["locale"] = code
    refresh()  # forget the locale cached for this app context, so the change shows at once
    return redirect(_safe_next(request.form.get("next")) or url_for("orders.index"))


def init_app(app: Flask) -> None:
    """Configure Flask-Login's redirect for anonymous visitors."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "warning"
    # Flask-Login keeps the session's secret (callback.sessions), not the user's id, in both cookies.
    login_manager.id_attribute = "get_session_id"
    app.before_request(keep_session_alive)

    @login_manager.unauthorized_handler
    def sign_in_first() -> Response:
        # Back to the page after signing in: for a form sent after the session ended, that is the form's
        # page (where the browser's draft fills it again), not the address it was posted to.
        from callback.web.errors import return_url

        flash(str(login_manager.login_message), login_manager.login_message_category)
        return redirect(login_url("auth.login", next_url=return_url()))

    @app.context_processor
    def inject_forms() -> dict[str, object]:
        # Built without the request's data: it only renders its CSRF token, and reading a broken
        # JSON body here would fail again while the error page for that body is being drawn.
        return {"language_form": LanguageForm(formdata=None)}
