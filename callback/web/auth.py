"""Sign-in and sign-out for people, and role checks for pages."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, login_url, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from callback.extensions import db, login_manager
from callback.models import User

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


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the signed-in user for Flask-Login."""
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def roles_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let only signed-in users of one of these roles see the page."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

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
def login() -> str | Response:
    """Sign in with username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("orders.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is None or not user.active or not user.check_password(form.password.data or ""):
            flash(_("Wrong username or password."), "danger")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("orders.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Sign out."""
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


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
