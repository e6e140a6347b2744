"""The whole stack on free ports (tests/support/stacks.py), with its own SQLite tracker store,
for the review inbox and reload tests."""

from __future__ import annotations

import pytest
from support.chat import RestChat
from support.stacks import running_stack


@pytest.fixture(scope="module")
def content_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("content-stack")) as stack:
        yield stack


@pytest.fixture
def new_chat(content_stack):
    def make(sender: str) -> RestChat:
        return RestChat(content_stack.settings, sender=sender)

    return make
