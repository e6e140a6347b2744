"""Fixtures for the form tests: a draft store in a temporary database (SQLite, or PostgreSQL
when DATABASE_URL is set), and the identity database next to it."""

from __future__ import annotations

import os
import uuid

import pytest

from buergerassistent import drafts


@pytest.fixture
def draft_db(tmp_path, monkeypatch):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'drafts.db'}"
    monkeypatch.setenv("BA_DRAFTS_DATABASE_URL", url)
    monkeypatch.setenv("BA_IDENTITY_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")
    drafts.default_store.cache_clear()
    yield url
    drafts.default_store.cache_clear()


@pytest.fixture
def sender() -> str:
    # Unique per test, so a shared PostgreSQL database needs no cleaning between tests.
    return f"forms-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()
