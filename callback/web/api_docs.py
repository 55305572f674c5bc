"""The integrators' page (issue 15): docs/openapi.yaml rendered by the vendored Swagger UI at /api/docs.

Public like the description itself (it shows only the API's shape). Swagger UI, unlike Redoc and RapiDoc,
renders under our Content-Security-Policy: no inline script or style, nothing from outside (static/api_docs.js
starts it; docs/api.md says why it was chosen).
"""

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs")
def page() -> str:
    """Show the API reference."""
    return render_template("api_docs.html")
