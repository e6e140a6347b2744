"""Root of the test suite. Its presence puts ``tests/`` on the import path, so every test package
can use the shared helper modules here (the package ``support``)."""

import pytest
from support.portal_auth import ENV as PORTAL_ENV
from support.synapse import synapse  # noqa: F401 - session fixture: a real Matrix homeserver

from buergerassistent.settings import get_settings


# Settings are read from the environment once and cached (buergerassistent/settings.py). Tests
# change the environment all the time: every monkeypatch.setenv/delenv forgets the cached
# settings, and so does every test's start and end (for fixtures that write os.environ directly).
def _forgetting(method):
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            get_settings.cache_clear()

    wrapper.__wrapped__ = method
    return wrapper


for _name in ("setenv", "delenv", "undo"):
    setattr(pytest.MonkeyPatch, _name, _forgetting(getattr(pytest.MonkeyPatch, _name)))


@pytest.fixture(autouse=True)
def fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


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


@pytest.fixture(scope="session")
def default_stack(tmp_path_factory):
    """The whole stack with the default options, started once for every test that needs nothing
    else (e2e, discovery, message ids): each stack start costs a minute of the suite. Tests on it
    use senders of their own."""
    from support.stacks import running_stack

    with running_stack(tmp_path_factory.mktemp("default-stack")) as stack:
        yield stack


def pytest_addoption(parser):
    # `make screenshots`: the browser tests save their pictures into docs/screenshots.
    parser.addoption("--screenshots", action="store_true", help="browser tests write docs/screenshots/*.png")
