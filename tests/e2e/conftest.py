"""The whole stack on free ports (tests/support/stacks.py), shared by the e2e tests."""

from __future__ import annotations

import pytest
from support.chat import RestChat


@pytest.fixture(scope="session")
def stack(default_stack):
    return default_stack


@pytest.fixture
def chat(stack, request):
    return RestChat(stack.settings, sender=f"e2e-{request.node.name}")
