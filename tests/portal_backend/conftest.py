"""Fixtures for the portal backend tests.

Every database test runs against SQLite (a file in ``tmp_path``) and, when ``DATABASE_URL``
is a PostgreSQL URL, against PostgreSQL too, each test in a fresh schema that is dropped
afterwards. Every response that goes through the ``api`` fixture is checked against
``portal_backend/openapi.yaml``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any, Optional

import jsonschema
import pytest
import pytest_asyncio
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url
from support.databases import postgres_schema
from support.forms import meldebescheinigung
from support.keys import secret_key
from support.portal_auth import ASSISTANT, AUTHORITY, citizen

from buergerassistent.catalogue import PROCEDURES_DIR, Catalogue, load_file, parse_procedure
from portal_backend.app import OPENAPI_PATH, STORE, create_app

POSTGRES_ENV = "DATABASE_URL"


# --------------------------------------------------------------------------- databases


def _postgres_url_or_skip():
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL variant skipped: {POSTGRES_ENV} is not set "
            f"(e.g. {POSTGRES_ENV}=postgresql://postgres@127.0.0.1:5432/test)"
        )
    u = make_url(url)
    if u.drivername == "postgres":
        u = u.set(drivername="postgresql")
    if u.get_backend_name() != "postgresql":
        pytest.skip(f"PostgreSQL variant skipped: {POSTGRES_ENV} is not a PostgreSQL URL (driver {u.drivername!r})")
    return u


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A database URL for one test; the PostgreSQL one points at a fresh schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.db'}"
        return
    with postgres_schema(_postgres_url_or_skip(), "portal_test") as url:
        yield url


# --------------------------------------------------------------------------- catalogue


def _field(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "type": "text", "prompt": f"{name}?", **extra}


@pytest.fixture(scope="session")
def test_catalogue() -> Catalogue:
    """Built in the test (never a file in catalogue/): the shipped meldebescheinigung (only
    that file, so that others' catalogue work in progress cannot break these tests) plus a
    procedure with optional fields and one without a form."""
    testantrag = parse_procedure(
        {
            "id": "testantrag",
            "name": "Testantrag",
            "description": "Nur für Tests.",
            "form": {
                "fields": [
                    _field("titel"),
                    _field("bemerkung", required=False),
                    _field(
                        "zustellung",
                        type="choice",
                        required=False,
                        choices=[{"value": "post"}, {"value": "email", "label": "E-Mail"}],
                    ),
                ]
            },
        }
    )
    info_only = parse_procedure({"id": "nur_info", "name": "Nur Information", "description": "Ohne Formular."})
    return Catalogue([load_file(PROCEDURES_DIR / "meldebescheinigung.yaml"), testantrag, info_only])


# --------------------------------------------------------------------------- OpenAPI


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects → JSON Schema (draft 4): ``nullable`` becomes a type union."""
    if isinstance(node, list):
        return [_openapi_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and "type" in node:
        out["type"] = [node["type"], "null"]
    return out


class OpenApi:
    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.components = _openapi_to_json_schema(copy.deepcopy(document.get("components", {})))
        self._paths = [
            (template, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"))
            for template in document["paths"]
        ]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def template_for(self, path: str) -> Optional[str]:
        for template, pattern in self._paths:
            if pattern.match(path.split("?")[0]):
                return template
        return None

    def validator(self, schema: dict[str, Any]) -> jsonschema.Draft4Validator:
        # Embedding the components lets "#/components/schemas/…" refs resolve.
        root = dict(_openapi_to_json_schema(schema), components=self.components)
        return jsonschema.Draft4Validator(root, format_checker=jsonschema.FormatChecker())

    def check_response(self, method: str, path: str, status: int, content_type: str, body: Any) -> None:
        template = self.template_for(path)
        assert template is not None, f"{path} is not documented in openapi.yaml"
        operation = self.document["paths"][template].get(method.lower())
        assert operation is not None, f"{method} {template} is not documented"
        responses = operation["responses"]
        assert str(status) in responses, f"{method} {template} → {status} is not documented"
        response = self.resolve(responses[str(status)])
        content = response.get("content", {})
        assert content_type in content, f"{method} {template} → {status}: content type {content_type} not documented"
        errors = sorted(self.validator(content[content_type]["schema"]).iter_errors(body), key=str)
        assert not errors, f"{method} {template} → {status} violates openapi.yaml: " + "; ".join(
            f"{list(e.path)}: {e.message}" for e in errors
        )


@pytest.fixture(scope="session")
def openapi() -> OpenApi:
    with OPENAPI_PATH.open(encoding="utf-8") as fh:
        return OpenApi(yaml.safe_load(fh))


# --------------------------------------------------------------------------- client


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any
    content_type: str


class Api:
    """A test client whose every response is checked against openapi.yaml. It calls as the
    assistant (``PORTAL_API_TOKEN``); ``api.authority`` as the authority, ``api.anonymous``
    without credentials."""

    def __init__(self, client: TestClient, spec: OpenApi, headers: Optional[dict] = None):
        self.client = client
        self.spec = spec
        self.app = client.server.app
        self.headers = ASSISTANT if headers is None else headers

    @property
    def authority(self) -> Api:
        return Api(self.client, self.spec, AUTHORITY)

    @property
    def anonymous(self) -> Api:
        return Api(self.client, self.spec, {})

    @property
    def store(self):
        return self.app[STORE]

    async def request(self, method: str, path: str, *, check: bool = True, **kwargs) -> Reply:
        kwargs["headers"] = {**self.headers, **(kwargs.get("headers") or {})}
        async with self.client.request(method, path, **kwargs) as resp:
            raw = await resp.read()
            content_type = resp.content_type
            status, headers = resp.status, resp.headers
        if content_type == "application/json":
            body = json.loads(raw)
        else:
            body = raw.decode("utf-8")
        if check:
            self.spec.check_response(method, path, status, content_type, body)
        return Reply(status, body, headers, content_type)

    async def post(self, path: str, **kwargs) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def get(self, path: str, **kwargs) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def submit(self, payload: Any, **kwargs) -> Reply:
        """POST an application; like the assistant, with a citizen assertion for a body's
        ``citizen`` (pass ``headers`` to send something else)."""
        if (
            "headers" not in kwargs
            and isinstance(payload, dict)
            and isinstance(payload.get("citizen"), str)
            and payload["citizen"]
        ):
            kwargs["headers"] = citizen(payload["citizen"])
        return await self.post("/api/v1/applications", json=payload, **kwargs)

    async def count(self) -> int:
        return await asyncio.to_thread(self.store.count)


@pytest.fixture
def app_factory(database_url, test_catalogue):
    def make(**kwargs):
        kwargs.setdefault("catalogue", test_catalogue)
        return create_app(database_url, **kwargs)

    return make


@pytest_asyncio.fixture
async def make_api(app_factory, openapi):
    clients: list[TestClient] = []

    async def make(**kwargs) -> Api:
        client = TestClient(TestServer(app_factory(**kwargs)))
        await client.start_server()
        clients.append(client)
        return Api(client, openapi)

    yield make
    for client in clients:
        await client.close()


@pytest_asyncio.fixture
async def api(make_api) -> Api:
    return await make_api()


# --------------------------------------------------------------------------- payloads


@pytest.fixture
def meldebescheinigung_data() -> dict[str, str]:
    return meldebescheinigung()


@pytest.fixture
def secret(monkeypatch):
    """The signing key of receipt links."""
    with secret_key(monkeypatch, "portal-test-secret-0123456789abcdefghijklmnop"):
        yield


@pytest.fixture
def payload(meldebescheinigung_data):
    def make(key: Optional[str] = None, **overrides: Any) -> dict[str, Any]:
        body = {
            "procedure": "meldebescheinigung",
            "data": dict(meldebescheinigung_data),
            "idempotency_key": key or str(uuid.uuid4()),
        }
        body.update(overrides)
        return body

    return make
