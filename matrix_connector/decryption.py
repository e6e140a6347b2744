"""Megolm decryption with one lock per session instead of mautrix's one lock for all rooms.

mautrix's ``OlmMachine.decrypt_megolm_event`` holds a single ``asyncio.Lock`` across three store
queries per message (read the session, record the message index against replays, write the
ratcheted session). With 50 conversations at once every decryption waited for the others' queries:
measured with ``python -m benchmarks.bench_matrix --decrypt-only`` (docs/matrix.md).

The lock protects one session's ratchet state and message indices; messages of different
sessions (different citizens or rooms) touch different rows. So the machine's lock is replaced by
a no-op here and each session gets its own lock: two messages of one session are still decrypted
one after the other, the rest overlap.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mautrix.crypto import OlmMachine
from mautrix.types import EncryptedEvent, Event


class _NoLock:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: Any) -> bool:
        return False


class SessionLockedDecryption:
    def __init__(self, machine: OlmMachine):
        if not isinstance(getattr(machine, "_megolm_decrypt_lock", None), asyncio.Lock):
            # mautrix changed: better slow than unsafe, keep its lock.
            raise RuntimeError("mautrix OlmMachine has no _megolm_decrypt_lock to replace")
        machine._megolm_decrypt_lock = _NoLock()
        self.machine = machine
        self._locks: dict[tuple[str, str, str], tuple[asyncio.Lock, int]] = {}

    @property
    def sessions_in_use(self) -> int:
        return len(self._locks)

    async def decrypt(self, evt: EncryptedEvent) -> Event:
        key = (str(evt.room_id), str(evt.content.sender_key), str(evt.content.session_id))
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await self.machine.decrypt_megolm_event(evt)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
