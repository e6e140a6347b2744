"""openapi.yaml itself: well-formed, complete, and in step with the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from portal_backend import create_app
from portal_backend.validation import parse_submission, validate_against_catalogue


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_version_and_info(openapi):
    doc = openapi.document
    assert str(doc["openapi"]).startswith("3.0.")
    assert doc["info"]["title"] and doc["info"]["version"]


def test_all_refs_resolve(openapi):
    refs = set(_refs(openapi.document))
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        openapi.resolve({"$ref": ref})  # KeyError if dangling


@pytest.mark.parametrize("name", ["CaseNumber", "FormData", "ApplicationRequest", "Application", "Error", "Health"])
def test_schemas_are_valid_json_schema(openapi, name):
    jsonschema.Draft4Validator.check_schema(openapi.components["schemas"][name])


def test_routes_match_documented_operations(openapi, tmp_path):
    app = create_app(f"sqlite:///{tmp_path}/unused.db")
    implemented = {
        (route.resource.canonical, route.method.lower()) for route in app.router.routes() if route.method != "HEAD"
    }
    documented = {
        (path, method)
        for path, item in openapi.document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert implemented == documented


def test_request_example_is_valid(openapi, test_catalogue):
    operation = openapi.document["paths"]["/api/v1/applications"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    example = content["example"]
    errors = list(openapi.validator(content["schema"]).iter_errors(example))
    assert not errors, errors
    # ... and accepted by the backend (meldebescheinigung as shipped)
    validate_against_catalogue(parse_submission(example), test_catalogue)


def test_request_schema_rejects_what_the_backend_rejects(openapi):
    validator = openapi.validator(
        openapi.document["paths"]["/api/v1/applications"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]
    )
    good = {"procedure": "p", "data": {"a": "b", "c": None}, "idempotency_key": "k"}
    assert validator.is_valid(good)
    assert validator.is_valid(dict(good, citizen=None))
    assert not validator.is_valid(dict(good, extra=1))
    assert not validator.is_valid({k: v for k, v in good.items() if k != "idempotency_key"})
    assert not validator.is_valid(dict(good, data={"a": "x" * 501}))
    assert not validator.is_valid(dict(good, data={"a": 1}))
    assert not validator.is_valid(dict(good, idempotency_key=""))


def test_security_is_documented_for_every_operation(openapi):
    doc = openapi.document
    schemes = doc["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"bearer"}
    assert doc["security"] == [{"assistantToken": []}]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            security = operation.get("security", doc["security"])
            if path.startswith("/api/"):
                assert security, f"{method} {path} must require a token"
                assert "401" in operation["responses"], f"{method} {path}: 401 not documented"
            else:
                assert security == [], f"{method} {path} is public and must say so"
    status = doc["paths"]["/api/v1/applications/{case_number}/status"]["post"]
    assert status["security"] == [{"authorityToken": []}]
    assert "/api/v1/receipts/{token}" not in doc["paths"] and "/receipts/{token}" in doc["paths"]
    headers = {p["name"] for p in doc["components"]["parameters"].values() if p["in"] == "header"}
    assert headers == {"X-Citizen-Assertion"}
