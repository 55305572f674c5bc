"""User administration for admins: users, roles, passwords, deactivation, API tokens (issue 9).

Every change goes through callback.users, which audits it and ends the sessions it must end.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.labels import choices, label
from callback.models import ApiToken, Role, User
from callback.sessions import live_session_count
from callback.settings import current_settings
from callback.users import (
    UserError,
    create_api_token,
    create_user,
    deactivate_user,
    reactivate_user,
    revoke_tokens,
    set_password,
    set_role,
    set_service_center,
)
from callback.web.auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role_choices() -> list[tuple[str, str]]:
    return choices("role")


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=[])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=256)])
    confirm = PasswordField(
        _l("Password again"), validators=[EqualTo("password", message=_l("The two passwords differ."))]
    )
    submit = SubmitField(_l("Create user"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    submit = SubmitField(_l("Change role"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class ServiceCenterForm(FlaskForm):
    service_center = StringField(_l("Service centre"), validators=[Length(max=50)])
    submit = SubmitField(_l("Save service centre"))


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


def _actor() -> Actor:
    return Actor(user_id=current_user.id)


MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database; larger ones name nothing


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if user_id <= MAX_ID else None
    if user is None:
        abort(404)
    return user


def _forms(user: User) -> dict[str, FlaskForm]:
    role_form = RoleForm(formdata=None, data={"role": user.role})
    role_form.role.choices = _role_choices()
    return {
        "role_form": role_form,
        "password_form": PasswordResetForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "center_form": ServiceCenterForm(formdata=None, data={"service_center": user.service_center or ""}),
    }


def _show_user(
    user: User, status: int = 200, new_token: str | None = None, **forms: FlaskForm
) -> tuple[str, int]:
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ).all()
    sessions = live_session_count(db.session, user.id, now=utcnow(), settings=current_settings())
    page_forms = {**_forms(user), **forms}
    return (
        render_template(
            "admin/user.html",
            user=user,
            tokens=tokens,
            open_sessions=sessions,
            new_token=new_token,
            **page_forms,
        ),
        status,
    )


@bp.get("/")
@roles_required(Role.ADMIN)
def index() -> str:
    """List the users with their role, state and tokens."""
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.username)).all()
    live_tokens = dict(
        db.session.execute(
            select(ApiToken.user_id, func.count())
            .where(ApiToken.revoked_at.is_(None))
            .group_by(ApiToken.user_id)
        ).all()
    )
    return render_template("admin/index.html", users=users, live_tokens=live_tokens)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user() -> str | Response | tuple[str, int]:
    """Create a user with a role and a first password (integration accounts may have none)."""
    form = UserCreateForm()
    form.role.choices = _role_choices()
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session,
                (form.username.data or "").strip(),
                form.role.data or "",
                form.password.data or None,
                now=utcnow(),
                actor=_actor(),
            )
        except UserError as error:
            db.session.rollback()
            field = {"password": form.password, "role": form.role}.get(error.field or "", form.username)
            field.errors = [*field.errors, str(error)]
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    status = 422 if form.errors else 200
    return render_template("admin/new.html", form=form), status


@bp.get("/users/<int:user_id>")
@roles_required(Role.ADMIN)
def user(user_id: int) -> tuple[str, int]:
    """Show one user: role, password reset, deactivation and API tokens."""
    return _show_user(_user_or_404(user_id))


def _refused(user: User, error: UserError, **forms: FlaskForm) -> tuple[str, int]:
    db.session.rollback()
    flash(str(error), "danger")
    return _show_user(_user_or_404(user.id), 409, None, **forms)


@bp.post("/users/<int:user_id>/role")
@roles_required(Role.ADMIN)
def change_role(user_id: int) -> Response | tuple[str, int]:
    """Give the user another role; their sessions end."""
    user = _user_or_404(user_id)
    form = RoleForm()
    form.role.choices = _role_choices()
    if not form.validate_on_submit():
        return _show_user(user, 422, role_form=form)
    try:
        changed = set_role(db.session, user, form.role.data or "", now=utcnow(), actor=_actor())
    except UserError as error:
        return _refused(user, error)
    db.session.commit()
    if changed:
        flash(_("%(name)s is now: %(role)s.", name=user.username, role=label("role", user.role)), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Set a new password for the user; their sessions end."""
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return _show_user(user, 422, password_form=form)
    try:
        set_password(db.session, user, form.password.data or "", now=utcnow(), actor=_actor())
    except UserError as error:
        db.session.rollback()
        form.password.errors = [*form.password.errors, str(error)]
        return _show_user(_user_or_404(user_id), 422, password_form=form)
    db.session.commit()
    flash(
        _("The password of %(name)s has been set; their sessions have ended.", name=user.username), "success"
    )
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate(user_id: int) -> Response | tuple[str, int]:
    """Deactivate the user: no sign-in, no API token works, sessions end."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        deactivate_user(db.session, user, now=utcnow(), actor=_actor())
    except UserError as error:
        return _refused(user, error)
    db.session.commit()
    flash(_("%(name)s has been deactivated.", name=user.username), "success")
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/reactivate")
@roles_required(Role.ADMIN)
def reactivate(user_id: int) -> Response:
    """Let a deactivated user sign in again."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    reactivate_user(db.session, user, now=utcnow(), actor=_actor())
    db.session.commit()
    flash(_("%(name)s has been reactivated.", name=user.username), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/tokens")
@roles_required(Role.ADMIN)
def create_token(user_id: int) -> tuple[str, int]:
    """Create an API token and show its secret on this answer only (it is never stored or shown again)."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    secret = create_api_token(db.session, user, now=utcnow(), actor=_actor())
    db.session.commit()
    return _show_user(user, 201, new_token=secret)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_token(user_id: int, token_id: int) -> Response | tuple[str, int]:
    """Revoke one API token of the user."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if token_id > MAX_ID:
        abort(404)
    try:
        revoked = revoke_tokens(db.session, user, now=utcnow(), actor=_actor(), token_id=token_id)
    except UserError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    if revoked:
        flash(_("Token %(id)d has been revoked.", id=token_id), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/service-center")
@roles_required(Role.ADMIN)
def change_service_center(user_id: int) -> Response | tuple[str, int]:
    """Set the service centre the user works for (the case desk's "overdue in my centre")."""
    user = _user_or_404(user_id)
    form = ServiceCenterForm()
    if not form.validate_on_submit():
        return _show_user(user, 422, center_form=form)
    try:
        set_service_center(db.session, user, form.service_center.data, now=utcnow(), actor=_actor())
    except UserError as error:
        return _refused(user, error)
    db.session.commit()
    flash(_("The service centre is saved."), "success")
    return redirect(url_for("admin.user", user_id=user.id))
