"""The connector's crypto store with cached Megolm sessions (matrix_connector/decryption.py) with
mautrix's real OlmMachine, libolm and the SQLite database the connector uses — no homeserver
needed, as the citizens' Megolm sessions are made here with libolm."""

from __future__ import annotations

import asyncio
import json
import time

import olm
import pytest
from mautrix.client import Client
from mautrix.client.state_store.asyncpg import PgStateStore
from mautrix.crypto import OlmMachine, PgCryptoStore
from mautrix.crypto.sessions import InboundGroupSession
from mautrix.crypto.store.asyncpg import PgCryptoStateStore
from mautrix.errors import DecryptionError, GroupSessionWithheldError
from mautrix.types import DeviceIdentity, EncryptedEvent, TrustState
from mautrix.util.async_db import Database

from matrix_connector.decryption import CachedSessionsCryptoStore

BOT = "@assistent:test.invalid"


async def _machine(path):
    db = Database.create(f"sqlite:///{path}", upgrade_table=PgCryptoStore.upgrade_table)
    state_db = Database.create(f"sqlite:///{path}", upgrade_table=PgStateStore.upgrade_table)
    await db.start()
    state_db.override_pool(db)
    await state_db.start()
    store = CachedSessionsCryptoStore(account_id=BOT, pickle_key="test", db=db)
    state = PgCryptoStateStore(state_db)
    client = Client(mxid=BOT, base_url="http://127.0.0.1:9", state_store=state, sync_store=store)
    client.device_id = "BOTDEVICE"
    machine = OlmMachine(client, store, state)
    await machine.load()
    return machine, client, db


async def _citizen(machine, n: int):
    """A citizen's device and Megolm session in room n, its room key already received."""
    sender, device, room = f"@buerger{n}:test.invalid", f"DEV{n}", f"!room{n}:test.invalid"
    keys = olm.Account().identity_keys
    outbound = olm.OutboundGroupSession()
    inbound = InboundGroupSession(outbound.session_key, keys["ed25519"], keys["curve25519"], room)
    await machine.crypto_store.put_group_session(room, keys["curve25519"], outbound.id, inbound)
    identity = DeviceIdentity(sender, device, keys["curve25519"], keys["ed25519"], TrustState.UNVERIFIED, False, "")
    await machine.crypto_store.put_devices(sender, {device: identity})
    machine._cs_fetch_attempted.add(sender)  # no homeserver: no cross-signing keys to fetch

    def event(body: str, event_id: str, ciphertext: str | None = None) -> EncryptedEvent:
        plain = json.dumps({"room_id": room, "type": "m.room.message", "content": {"msgtype": "m.text", "body": body}})
        return EncryptedEvent.deserialize(
            {
                "type": "m.room.encrypted",
                "room_id": room,
                "event_id": event_id,
                "sender": sender,
                "origin_server_ts": int(time.time() * 1000),
                "content": {
                    "algorithm": "m.megolm.v1.aes-sha2",
                    "ciphertext": ciphertext or outbound.encrypt(plain),
                    "sender_key": keys["curve25519"],
                    "device_id": device,
                    "session_id": outbound.id,
                },
            }
        )

    return event


def test_many_sessions_decrypt_at_once_from_the_cache_and_a_replay_is_still_refused(tmp_path):
    async def scenario():
        machine, client, db = await _machine(tmp_path / "crypto.db")
        store = machine.crypto_store
        try:
            makers = [await _citizen(machine, n) for n in range(20)]
            events = [
                make(f"Nachricht {i} aus Raum {n}", f"$r{n}m{i}") for n, make in enumerate(makers) for i in range(3)
            ]
            decrypted = await asyncio.gather(*(machine.decrypt_megolm_event(e) for e in events))
            assert [d.content.body for d in decrypted] == [
                f"Nachricht {i} aus Raum {n}" for n in range(20) for i in range(3)
            ]
            assert store.cached_sessions == 20

            # Written through: a fresh store on the same file (a restart) sees each session's
            # ratchet record as the cache has it.
            plain = PgCryptoStore(account_id=BOT, pickle_key="test", db=db)
            on_disk = await plain.get_group_session(events[0].room_id, events[0].content.session_id)
            assert on_disk.ratchet_safety.next_index == 3

            # The same ciphertext again under another event id: refused (a replay).
            replay = makers[0]("", "$replay", ciphertext=events[1].content.ciphertext)
            with pytest.raises(DecryptionError):
                await machine.decrypt_megolm_event(replay)

            # A redacted session is not served from memory any more.
            await store.redact_group_session(events[0].room_id, events[0].content.session_id, "test")
            assert store.cached_sessions == 0
            with pytest.raises(GroupSessionWithheldError):
                await machine.decrypt_megolm_event(makers[0]("Noch eine", "$after-redaction"))
            assert (await machine.decrypt_megolm_event(makers[1]("Weiter", "$other-room"))).content.body == "Weiter"
        finally:
            await client.api.session.close()
            await db.stop()

    asyncio.run(scenario())


def test_the_cache_keeps_at_most_its_size(tmp_path):
    async def scenario():
        machine, client, db = await _machine(tmp_path / "crypto.db")
        machine.crypto_store._max_sessions = 5
        try:
            makers = [await _citizen(machine, n) for n in range(8)]
            for n, make in enumerate(makers):
                evt = make("Hallo", f"$m{n}")
                assert (await machine.decrypt_megolm_event(evt)).content.body == "Hallo"
            assert machine.crypto_store.cached_sessions == 5
        finally:
            await client.api.session.close()
            await db.stop()

    asyncio.run(scenario())


def test_the_store_knows_which_rooms_have_a_shared_outbound_session(tmp_path):
    from mautrix.crypto.sessions import OutboundGroupSession

    async def run():
        machine, client, db = await _machine(tmp_path / "crypto.db")
        store = machine.crypto_store
        try:
            room = "!room:test.invalid"
            assert not await store.outbound_session_shared(room)
            session = OutboundGroupSession(room)
            session.shared = True
            await store.add_outbound_group_session(session)
            statements = []
            real_fetchrow = db.fetchrow

            async def counting(*args, **kwargs):
                statements.append(args[0])
                return await real_fetchrow(*args, **kwargs)

            db.fetchrow = counting
            assert await store.outbound_session_shared(room)
            assert statements == []  # from memory
            # mautrix drops it when a member or a device of the room changes: known at once, and
            # the connector is told (it shares a new one right away).
            removed = []
            store.outbound_removed = removed.append
            await store.remove_outbound_group_sessions([room])
            assert not await store.outbound_session_shared(room)
            await store.add_outbound_group_session(session)
            await store.remove_outbound_group_session(room)
            assert not await store.outbound_session_shared(room)
            assert removed == [room, room]
            # A fresh store (a restart) asks the database once.
            await store.add_outbound_group_session(session)
            fresh = CachedSessionsCryptoStore(account_id=BOT, pickle_key="test", db=db)
            statements.clear()
            assert await fresh.outbound_session_shared(room) and await fresh.outbound_session_shared(room)
            assert len(statements) == 1
        finally:
            await client.api.session.close()
            await db.stop()

    asyncio.run(run())
