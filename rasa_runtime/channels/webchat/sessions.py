"""Server-issued chat sessions: the session id a browser holds is a signed token.

The conversation id (Rasa's sender id) is random and only ever named inside a token we signed, so
a client cannot pick, guess or borrow someone else's conversation. A deleted conversation is
revoked until its tokens would have expired anyway: in a SQL table that survives restarts
(``buergerassistent.privacy.RevocationStore``, read once at start and written on each revocation), in this
process's memory, and in Redis when several replicas share the load.

Redis is the fast path only: while it cannot be reached (issue 18), a revocation is still written
to the table and this process's memory, and ``is_revoked`` asks the table instead. A revoked
conversation is never resumed because Redis is down, and a citizen's chat does not stop with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Optional

from buergerassistent.privacy import digest
from buergerassistent.signing import InvalidToken, sign, verify
from rasa_runtime.channels.redis_guard import RedisGuard

PURPOSE = "webchat-session"
# Renew a token when less than this share of its lifetime is left, so active users keep their chat.
_RENEW_FRACTION = 0.5

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Session:
    conversation_id: str
    token: str


class SessionIssuer:
    def __init__(
        self,
        ttl_seconds: int,
        redis=None,
        store=None,
        clock: Callable[[], float] = time.time,
        guard: Optional[RedisGuard] = None,
    ) -> None:
        self.ttl = ttl_seconds
        self.clock = clock  # the time in seconds (tests pass their own instead of waiting)
        self._redis = redis  # redis.asyncio client or None
        self._guard = guard or RedisGuard()  # shared with the channel's other Redis users
        # buergerassistent.privacy.RevocationStore or None (memory only: unit tests)
        self._store = store
        # digest of the conversation id → until; the persisted revocations are loaded at start.
        self._revoked: dict[str, float] = store.active() if store is not None else {}

    def new(self) -> Session:
        conversation_id = f"wc-{uuid.uuid4().hex}"
        return Session(conversation_id, sign({"sub": conversation_id}, PURPOSE, self.ttl, now=self.clock()))

    async def resume(self, token: object) -> Optional[Session]:
        """The session a token names, or None when it is forged, expired or revoked."""
        if not isinstance(token, str) or len(token) > 2048:
            return None
        try:
            now = self.clock()
            claims = verify(token, PURPOSE, now=now)
        except InvalidToken:
            return None
        conversation_id = claims.get("sub")
        if not isinstance(conversation_id, str) or await self.is_revoked(conversation_id):
            return None
        # A session is resumed once per connection: ask the table itself too (another replica or
        # process may have revoked it since this one started).
        if self._store is not None and await asyncio.to_thread(self._store.is_revoked, conversation_id):
            return None
        if claims["exp"] - now < self.ttl * _RENEW_FRACTION:
            token = sign({"sub": conversation_id}, PURPOSE, self.ttl, now=now)
        return Session(conversation_id, token)

    async def revoke(self, conversation_id: str) -> None:
        until = self.clock() + self.ttl
        key = digest(conversation_id)
        self._revoked[key] = until
        if self._store is not None:
            await asyncio.to_thread(self._store.revoke, conversation_id, until)
        if self._redis is not None:
            from redis.exceptions import RedisError

            try:
                # Not skipped while Redis hangs: a deletion is rare and worth the wait.
                await self._redis.set(f"webchat:revoked:{key}", "1", ex=self.ttl)
            except RedisError as error:
                self._guard.failed(error)
                # Written to the table above, which every replica asks while Redis is down.
                logger.warning("Widerruf nicht in Redis gespeichert (%s), nur in der Tabelle", type(error).__name__)

    async def is_revoked(self, conversation_id: str) -> bool:
        now = self.clock()
        for old in [c for c, until in self._revoked.items() if until < now]:
            del self._revoked[old]
        key = digest(conversation_id)
        if key in self._revoked:
            return True
        if self._redis is not None:
            from redis.exceptions import RedisError

            if not self._guard.skip():
                try:
                    revoked = bool(await self._redis.exists(f"webchat:revoked:{key}"))
                except RedisError as error:
                    self._guard.failed(error)
                    logger.warning("Widerrufe: Redis nicht erreichbar (%s), frage die Tabelle", type(error).__name__)
                else:
                    self._guard.answered()
                    return revoked
            if self._store is not None:
                return await asyncio.to_thread(self._store.is_revoked, conversation_id)
        return False
