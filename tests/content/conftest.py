"""The real stack (portal backend, action server, Rasa with the cached model) on free ports,
with its own SQLite tracker store, for the review inbox and reload tests."""

from __future__ import annotations

import pytest

from bot.local_stack import RestChat, start_local_stack
from bot.training import ensure_model


@pytest.fixture(scope="session")
def model_path():
    # Trains only when the training data changed; otherwise the cached model is reused.
    return ensure_model(quiet=True)


@pytest.fixture(scope="module")
def content_stack(model_path, tmp_path_factory):
    stack = start_local_stack(model_path, tmp_path_factory.mktemp("content-stack"))
    yield stack
    stack.stop()


@pytest.fixture
def new_chat(content_stack):
    def make(sender: str) -> RestChat:
        return RestChat(content_stack.settings, sender=sender)

    return make
