"""The signing key of a test: set ``BA_SECRET_KEY`` and drop the cached key around it."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from buergerassistent import signing


@contextmanager
def secret_key(monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("BA_SECRET_KEY", value)
    signing.secret_key.cache_clear()
    try:
        yield value
    finally:
        signing.secret_key.cache_clear()
