"""The whole stack on free ports (tests/support/stacks.py), shared by the e2e tests."""

from __future__ import annotations

import pytest
from support.chat import RestChat
from support.stacks import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack-var")) as stack:
        yield stack


@pytest.fixture
def chat(stack, request):
    return RestChat(stack.settings, sender=f"e2e-{request.node.name}")
