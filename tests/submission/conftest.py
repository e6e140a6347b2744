"""Fixtures for the submission tests: outbox databases (SQLite; PostgreSQL too when
DATABASE_URL is set), the real reference portal backend in-process, trackers."""

from __future__ import annotations

import dataclasses
import os
import uuid

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url
from support.databases import closed_port_url, postgres_schema  # noqa: F401 (closed_port_url: used by tests)
from support.forms import MELDEBESCHEINIGUNG
from support.keys import secret_key
from support.trackers import make_tracker, slot_events, texts  # noqa: F401 (shared helpers)

from buergerassistent.catalogue import PROCEDURES_DIR, Catalogue, load_file
from buergerassistent.submission.outbox import Outbox
from portal_backend.app import create_app

FILLED = MELDEBESCHEINIGUNG  # the filled form (tests/support/forms.py)


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox.db'}"
        return
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL variant skipped: DATABASE_URL is not set")
    base = make_url(url)
    if base.drivername == "postgres":
        base = base.set(drivername="postgresql")
    with postgres_schema(base, "outbox_test") as schema_url:
        yield schema_url


@pytest.fixture
def outbox(outbox_url) -> Outbox:
    store = Outbox.from_url(outbox_url)
    yield store
    store.dispose()


@pytest.fixture
def chat_env(tmp_path, monkeypatch):
    """The environment the action server reads: its own outbox file, secret key, short budget."""
    monkeypatch.setenv("OUTBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'chat-outbox.db'}")
    monkeypatch.setenv("SUBMISSION_INLINE_BUDGET_S", "3")
    monkeypatch.setenv("PORTAL_ATTEMPTS", "1")
    with secret_key(monkeypatch, "test-secret-" + uuid.uuid4().hex):
        yield


@pytest.fixture(scope="session")
def withdrawable_catalogue() -> Catalogue:
    """The shipped Meldebescheinigung, once as shipped and once marked withdrawable (built
    here: the catalogue files belong to the catalogue editors)."""
    shipped = load_file(PROCEDURES_DIR / "meldebescheinigung.yaml")
    copy = dataclasses.replace(shipped, id="meldebescheinigung_widerruflich", withdrawable=True)
    return Catalogue([shipped, copy])


@pytest.fixture
async def backend(tmp_path, monkeypatch, withdrawable_catalogue):
    """The real reference portal backend on a free port, as PORTAL_BACKEND_URL."""
    server = TestServer(create_app(f"sqlite:///{tmp_path / 'portal.db'}", catalogue=withdrawable_catalogue))
    await server.start_server()
    monkeypatch.setenv("PORTAL_BACKEND_URL", str(server.make_url("")).rstrip("/"))
    yield server
    await server.close()
