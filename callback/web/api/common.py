"""What every API handler shares: token authentication, role checks, JSON bodies, pagination."""

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import Select, String, bindparam, func, select

from callback.clock import utcnow
from callback.extensions import db
from callback.models import ApiToken, User, hash_token
from callback.settings import current_settings
from callback.signin import (
    minutes_until,
    record_bad_token,
    token_locked_until,
    token_lockout_end,
    token_lockout_start,
    token_lockout_values,
)
from callback.users import touch_token
from callback.web.errors import ApiError
from callback.web.paging import MAX_PAGE, paginate

P = ParamSpec("P")
R = TypeVar("R")
MAX_PER_PAGE = 500


def authenticated_user() -> User:
    """Return the user whose bearer token came with the request, or raise 401."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "unauthorized", _("Authentication is required: send Authorization: Bearer <token>.")
        )
    now, settings, address = utcnow(), current_settings(), request.remote_addr or "unknown"
    # One statement: the token, its user, and whether bad tokens have locked the address out (which refuses
    # a good token too). An unknown token asks about the address apart, before it counts as one more.
    row = db.session.execute(
        _token_statement(),
        {"token_hash": hash_token(token.strip())} | token_lockout_values(address, now=now, settings=settings),
    ).first()
    if row is None:
        locked_until = token_locked_until(db.session, address, now=now, settings=settings)
    else:
        locked_until = token_lockout_end(row.lockout_start, settings)
    if locked_until is not None:
        raise ApiError(
            429,
            "too_many_requests",
            _(
                "Too many bad tokens from your address; try again in %(minutes)d minutes.",
                minutes=minutes_until(locked_until, now),
            ),
        )
    if row is None or not row.User.active:
        record_bad_token(db.session, address, now=now, settings=settings)
        db.session.commit()  # the count must outlive this refused request
        raise ApiError(401, "unauthorized", _("The token is unknown or revoked."))
    if touch_token(db.session, row.ApiToken, now=now):
        db.session.commit()  # nothing else is pending yet: the handler has not started
    user: User = row.User
    return user


@cache
def _token_statement() -> Select[ApiToken, User, datetime]:
    """The live token with this hash and its user, and when bad tokens locked the address out (or NULL).

    Built once; bound: token_hash and `token_lockout_values`.
    """
    return (
        select(ApiToken, User, token_lockout_start().label("lockout_start"))
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("token_hash", type_=String()), ApiToken.revoked_at.is_(None))
    )


def roles_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let only a token of one of these roles through (401 without a valid token, 403 for another role)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            user = authenticated_user()
            if not user.has_role(*roles):
                raise ApiError(403, "forbidden", _("Your role may not do this."))
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def json_body() -> Any:
    """Parse the request body as JSON, or raise 400 naming the problem."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "malformed_json", _("The request body is empty; send JSON."))
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(
            400, "malformed_json", _("The request body is not valid JSON: %(error)s", error=str(error))
        ) from None


def int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """Read an integer query parameter within bounds, or raise 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bounds = f"{minimum}–{maximum}" if maximum is not None else f"≥ {minimum}"
        raise ApiError(
            400,
            "bad_parameter",
            _("Query parameter %(name)s must be a whole number %(bounds)s.", name=name, bounds=bounds),
            [{"field": name, "message": _("must be a whole number %(bounds)s", bounds=bounds)}],
        )
    return value


def choice_arg(name: str, choices: list[str]) -> str | None:
    """Read an optional query parameter that must be one of `choices`, or raise 400."""
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        message = _("must be one of %(choices)s", choices=", ".join(choices))
        raise ApiError(400, "bad_parameter", f"{name}: {message}", [{"field": name, "message": message}])
    return value


def paginated(query: Select[*tuple[Any, ...]], render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Run `query` one page at a time, as every collection in the API does."""
    page = int_arg("page", 1, 1, MAX_PAGE)
    per_page = int_arg("per_page", 50, 1, MAX_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    shown = paginate(query, total=total, per_page=per_page, page=page)
    return {
        "items": [render(item) for item in shown.items],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def local_iso(moment: datetime | None) -> str | None:
    """Show a stored UTC time in TIMEZONE's offset."""
    return None if moment is None else moment.astimezone(current_settings().tz).isoformat()
