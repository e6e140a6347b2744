"""Rasa's Redis lock store, honest about outages (issue 18).

Configured in endpoints as ``type: rasa_runtime.lock_store.RedisLockStore`` with the keys of
Rasa's ``redis`` type (``url`` = host, ``port``, ``db``, ``password``, ``key_prefix``).

* Redis unreachable while the conversation's lock is taken: ``StoreUnavailable`` (the citizen
  is asked to send the message again, rasa_runtime/outage.py) instead of a generic failure.
* Redis unreachable when the lock is released, after the turn was processed and saved: logged
  only. The turn is complete; telling the citizen to send it again would apply it twice. The
  lock expires by itself (Rasa's lock lifetime).
* Rasa's client is synchronous. Each call runs in a thread, so a Redis that hangs (3 s socket
  timeout) does not stop the event loop: health checks, sockets and other conversations go on
  (a blocked loop made probes fail and pods restart during an outage). After a timeout the next
  messages skip Redis for a few seconds (``RedisGuard``) and get the notice at once instead of
  each waiting 3 s in the thread pool's queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore

from rasa_runtime.channels.redis_guard import RedisGuard
from rasa_runtime.outage import LOCK_STORE, StoreUnavailable

logger = logging.getLogger(__name__)


class RedisLockStore(RasaRedisLockStore):
    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {**endpoint_config.kwargs, **kwargs}
            kwargs.setdefault("host", endpoint_config.url or "localhost")
        kwargs.pop("type", None)
        # Rasa's default waits 10 s on a silent network before giving up; the citizen waits too.
        kwargs.setdefault("socket_timeout", 3)
        super().__init__(**kwargs)
        self.guard = RedisGuard()
        # Rasa reads, changes and writes a conversation's lock without a Redis transaction; on the
        # event loop's thread that could not interleave within the process. In threads it can (a
        # release and the next message's ticket overwrote each other), so calls for the same
        # conversation keep their order here: one asyncio lock per stripe of conversations.
        self._stripes = [asyncio.Lock() for _ in range(64)]

    async def _in_thread(self, conversation_id: str, call: Any, *args: Any) -> Any:
        async with self._stripes[hash(conversation_id) % len(self._stripes)]:
            return await asyncio.to_thread(call, *args)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        import redis

        if self.guard.skip():
            raise StoreUnavailable(LOCK_STORE)
        try:
            ticket = await self._in_thread(conversation_id, self.issue_ticket, conversation_id, lock_lifetime)
        except LockError as error:
            if isinstance(error.__context__, redis.exceptions.RedisError):
                self.guard.failed(error.__context__)
                raise StoreUnavailable(LOCK_STORE) from error.__context__
            raise
        try:
            try:
                lock = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            except redis.exceptions.RedisError as error:
                self.guard.failed(error)
                raise StoreUnavailable(LOCK_STORE) from error
            self.guard.answered()
            yield lock
        finally:
            try:
                await self._in_thread(conversation_id, self.cleanup, conversation_id, ticket)
            except redis.exceptions.RedisError as error:
                self.guard.failed(error)
                logger.warning("Sperre nicht freigegeben (läuft von selbst ab): %s", type(error).__name__)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Rasa's loop (wait until this ticket is served), each Redis call in a thread."""
        while True:
            lock = await self._in_thread(conversation_id, self.get_lock, conversation_id)
            if not lock:  # expired meanwhile
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            await self._in_thread(conversation_id, self.update_lock, conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
