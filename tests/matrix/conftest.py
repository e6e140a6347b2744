"""A whole stack with the Matrix connector against the real Synapse of the session
(``support.synapse``), and citizens with encrypting Matrix clients (``support.matrix_citizen``)."""

from __future__ import annotations

import secrets

import pytest
from support.matrix_citizen import CitizenThread
from support.stacks import running_stack


@pytest.fixture(scope="module")
def bot_account(synapse):
    return synapse.register_user(f"assistent-{secrets.token_hex(3)}")


@pytest.fixture(scope="module")
def matrix_stack(synapse, bot_account, tmp_path_factory):
    with running_stack(
        tmp_path_factory.mktemp("matrix-stack"),
        matrix_homeserver_url=synapse.base_url,
        matrix_user_id=bot_account.user_id,
        matrix_password=bot_account.password,
    ) as stack:
        yield stack


@pytest.fixture
def citizen(synapse, bot_account, matrix_stack):
    person = CitizenThread(synapse, bot_account.user_id)
    yield person
    person.close()
