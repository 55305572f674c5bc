"""docs/openapi.yaml as the tests hold the app to it (issue 15): route coverage and response validation.

`ContractClient` is a Flask test client that checks every /api/v1 answer it receives against the
description with openapi-core, so the API tests that use it double as contract tests (installed by
tests/web/api/conftest.py).
"""

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Response

DESCRIPTION = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
PREFIX = "/api/v1"
# Described paths another branch mounts (CONTRACT.md 6: the do-not-call list, branch q1-dnc-rates). Until that
# branch is merged they are described but not routed here; once it is, the coverage test fails on this line's
# paths being mounted AND allowed, so whoever merges deletes them and the check is strict again.
PENDING: frozenset[tuple[str, str]] = frozenset()
JSON = "application/json"
ERROR_KEYS = ("code", "message", "details")
METHODS = ("get", "put", "post", "delete", "patch")


@cache
def description() -> dict[str, Any]:
    return yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))


@cache
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(description())


def _shape(path: str) -> str:
    """A path with its parameters' names dropped: /cases/<int:case_id> and /cases/{case_id} both /cases/{}."""
    return re.sub(r"\{[^}]*\}", "{}", re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{}", path))


def described_operations() -> set[tuple[str, str]]:
    """(METHOD, path shape) for every operation in the description."""
    return {
        (method.upper(), _shape(path))
        for path, item in description()["paths"].items()
        for method in METHODS
        if method in item
    }


def routed_operations(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, path shape) for every route of the app under /api/v1, HEAD and OPTIONS aside."""
    return {
        (method, _shape(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule == PREFIX or rule.rule.startswith(PREFIX + "/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


class ContractViolation(AssertionError):
    pass


def check_response(response: TestResponse) -> None:
    """Raise ContractViolation unless this /api/v1 answer is one the description allows."""
    request = response.request
    if not request.path.startswith(PREFIX + "/"):
        return
    try:
        # Only the method and address pick the operation; the sent body was consumed and is not needed.
        query = request.query_string.decode()
        bare = EnvironBuilder(method=request.method, path=request.path, query_string=query).get_request()
        # Other media (the workbook, this YAML) are checked by status and headers: the description gives them
        # no schema, and reading a streamed file here would leave it open behind the test's back.
        checked = response
        if response.mimetype != JSON:
            checked = Response(b"<bytes>", response.status, response.headers)
        openapi().validate_response(WerkzeugOpenAPIRequest(bare), WerkzeugOpenAPIResponse(checked))
    except (PathNotFound, OperationNotFound) as error:
        # A request the app has no route for: it must be refused (404/405) in the contract's error shape.
        body = response.get_json(silent=True) or {}
        if response.status_code in (404, 405) and set(body.get("error", {})) == set(ERROR_KEYS):
            return
        raise ContractViolation(f"{request.method} {request.path}: {error}") from None
    except Exception as error:  # openapi-core's validation errors share no narrower base
        details = getattr(error, "__cause__", None) or error
        raise ContractViolation(
            f"{request.method} {request.full_path} answered {response.status_code} "
            "outside docs/openapi.yaml: "
            f"{error}; {details}; body: {response.get_data(as_text=True)[:500]}"
        ) from None


class ContractClient(FlaskClient):
    """A test client that validates every /api/v1 answer against docs/openapi.yaml."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_response(response)
        return response
