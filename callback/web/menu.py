"""The menu shows only what the role may use: one helper reads each page's own role requirement."""

from flask import Flask, current_app
from flask_login import current_user


def may_use(endpoint: str) -> bool:
    """Tell whether the signed-in user may open a page: it exists, and its roles_required admits the user.

    The roles come from the view itself (callback.web.auth.roles_required records them), so the menu and
    the route can never disagree.
    """
    view = current_app.view_functions.get(endpoint)
    if view is None or not current_user.is_authenticated:
        return False
    roles = getattr(view, "required_roles", None)
    return roles is None or current_user.has_role(*roles)


def init_app(app: Flask) -> None:
    """Offer `may_use` to the templates."""
    app.add_template_global(may_use, "may_use")
