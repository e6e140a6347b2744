"""Root of the test suite. Its presence puts ``tests/`` on the import path, so every test package
can use the shared helper modules here (the package ``support``)."""

import pytest
from support.portal_auth import ENV as PORTAL_ENV


@pytest.fixture(autouse=True)
def portal_credentials(monkeypatch):
    """Every test has the portal backend's credentials in its environment (the backend refuses
    to start without them; the client and the delivery worker send them). Stacks started by
    tests generate their own (``Stack.secret``)."""
    for name, value in PORTAL_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def model_path():
    """The trained model (trains only when the training data changed; else the cached one)."""
    from bot.training import ensure_model

    return ensure_model(quiet=True)
