"""The API's blueprint, apart from the package so that its route modules import it without a cycle."""

from flask import Blueprint, Response

from callback.errors import ServiceError
from callback.extensions import db
from callback.web.errors import ApiError, handle_http_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(ServiceError)
def refuse(error: ServiceError) -> tuple[Response | str, int]:
    """Answer a service's refusal (404, 409, 422) in the contract's error shape; nothing of it is kept.

    The one place for what each handler did in its own try/except before (issue 15).
    """
    db.session.rollback()
    return handle_http_error(ApiError(error.status, error.code, error.message, error.details))
