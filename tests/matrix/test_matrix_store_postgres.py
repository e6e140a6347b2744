"""MATRIX_STORE_DATABASE_URL: the connector's keys, sessions and room state in PostgreSQL.

The whole stack (Rasa, actions, connector) against the real Synapse of the session and the local
PostgreSQL (``MATRIX_TEST_POSTGRES``, default ``postgresql://postgres@127.0.0.1:5432/test``): a
fresh database is created for this module and dropped afterwards. Nothing is a double here."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from support.matrix_citizen import CitizenThread
from support.stacks import running_stack

ADMIN_URL = os.environ.get("MATRIX_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(sql: str, *args):
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def store_url():
    name = f"matrix_store_test_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def pg_stack(synapse, store_url, tmp_path_factory):
    bot = synapse.register_user(f"assistent-pg-{secrets.token_hex(3)}")
    var_dir = tmp_path_factory.mktemp("matrix-pg-stack")
    # The stack hands its own environment on to the connector.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MATRIX_STORE_DATABASE_URL", store_url)
        with running_stack(
            var_dir,
            matrix_homeserver_url=synapse.base_url,
            matrix_user_id=bot.user_id,
            matrix_password=bot.password,
        ) as stack:
            yield stack, bot, var_dir


async def _stored(store_url: str) -> tuple[str, int]:
    conn = await asyncpg.connect(store_url)
    try:
        device = await conn.fetchval("SELECT device_id FROM crypto_account")
        sessions = await conn.fetchval("SELECT count(*) FROM crypto_megolm_inbound_session")
        return device, sessions
    finally:
        await conn.close()


async def _bot_devices(citizen) -> dict:
    client = citizen.citizen.client
    answer = await client.query_keys([citizen.citizen.bot_id])
    return {str(d): str(k.keys) for d, k in answer.device_keys[citizen.citizen.bot_id].items()}


def test_device_and_keys_survive_a_restart_on_postgresql(synapse, pg_stack, store_url):
    stack, bot, var_dir = pg_stack
    citizen = CitizenThread(synapse, bot.user_id)
    try:
        assert citizen.open(encrypted=True)
        answer = citizen.say("Was kostet ein Personalausweis?")
        assert answer and all(m.encrypted for m in answer)
        device = citizen.run(_bot_devices(citizen))
        stored_device, sessions = asyncio.run(_stored(store_url))
        # The keys are in PostgreSQL (the citizen's room key too), not in a SQLite file.
        assert list(device) == [stored_device] and sessions >= 1
        assert not list(var_dir.rglob("crypto.db"))

        stack.service("matrix-connector").restart()
        time.sleep(1)
        # The same device (same identity key), and the encrypted conversation goes on with the
        # room key stored before the restart.
        assert citizen.run(_bot_devices(citizen)) == device
        answer = citizen.say("Ich brauche eine Meldebescheinigung")
        assert answer and all(m.encrypted for m in answer)
        assert any(m.body.strip() for m in answer)
    finally:
        citizen.close()
