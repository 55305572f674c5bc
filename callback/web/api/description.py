"""The API's own description (issue 15): docs/openapi.yaml, served without a token.

Integrators and code generators need it before they hold a token, and it carries no data, only the shape
of the API, so it is public like /healthz. The readable rendering is at /api/docs (callback.web.api_docs).
"""

from pathlib import Path

from flask import Response, current_app

from callback.web.api.blueprint import bp

MIMETYPE = "application/yaml"


def description_path() -> Path:
    """Return docs/openapi.yaml, which lives beside the package like templates/ and static/."""
    return Path(current_app.root_path).parent / "docs" / "openapi.yaml"


@bp.get("/openapi.yaml")
def openapi_description() -> Response:
    """Return the OpenAPI 3.1 description of /api/v1 (UTF-8 YAML)."""
    return Response(description_path().read_bytes(), content_type=f"{MIMETYPE}; charset=utf-8")
