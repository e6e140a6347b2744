"""The whole stack on free ports: portal backend, action server, Rasa (real processes)."""

from __future__ import annotations

import pytest

from bot.local_stack import RestChat, start_local_stack
from bot.training import ensure_model


@pytest.fixture(scope="session")
def model_path():
    # Trains only when the training data changed; otherwise the cached model is reused.
    return ensure_model(quiet=True)


@pytest.fixture(scope="session")
def stack(model_path, tmp_path_factory):
    stack = start_local_stack(model_path, tmp_path_factory.mktemp("stack-var"))
    yield stack
    stack.stop()


@pytest.fixture
def chat(stack, request):
    return RestChat(stack.settings, sender=f"e2e-{request.node.name}")
