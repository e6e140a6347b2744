"""mautrix's crypto store with the citizens' Megolm sessions kept in memory (written through).

mautrix's ``OlmMachine.decrypt_megolm_event`` holds one ``asyncio.Lock`` for every room across
three store queries per message: read the session (and unpickle it), record the message index
against replays, write the ratcheted session back. On the store's one SQLite connection every
decryption of 50 conversations at once waited for the others' queries (measured with
``python -m benchmarks.bench_matrix --decrypt-only``, docs/matrix.md). Reading the session from
memory takes one query of three out of that lock.

The cache is written through: every write of a session goes to the database first, then here;
every redaction empties the cache (they are rare: expired or used-up sessions), so a redacted
session is never served from memory. Bounded: the least recently used sessions leave first.

It also knows, without a query, which rooms have a shared outbound session (the assistant's own
Megolm session; mautrix drops it when a member or a device of the room changes): the connector
shares a new one while Rasa prepares the answer instead of after (``connector.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Optional

from mautrix.crypto import PgCryptoStore
from mautrix.crypto.sessions import InboundGroupSession, OutboundGroupSession
from mautrix.types import IdentityKey, RoomID, SessionID

MAX_CACHED_SESSIONS = 20000


class CachedSessionsCryptoStore(PgCryptoStore):
    def __init__(self, *args: Any, max_sessions: int = MAX_CACHED_SESSIONS, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._sessions: OrderedDict[tuple[str, str], InboundGroupSession] = OrderedDict()
        self._max_sessions = max_sessions
        # Rooms whose outbound session is shared (a room not in it: unknown, ask the database).
        self._outbound_shared: set[str] = set()
        # Told (room id) when mautrix drops a room's outbound session: the connector shares a new
        # one at once instead of with the next answer.
        self.outbound_removed: Optional[Callable[[str], None]] = None

    @property
    def cached_sessions(self) -> int:
        return len(self._sessions)

    def _remember(self, room_id: str, session_id: str, session: InboundGroupSession) -> None:
        self._sessions[(room_id, session_id)] = session
        self._sessions.move_to_end((room_id, session_id))
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)

    async def get_group_session(self, room_id: RoomID, session_id: SessionID) -> Optional[InboundGroupSession]:
        key = (str(room_id), str(session_id))
        session = self._sessions.get(key)
        if session is not None:
            self._sessions.move_to_end(key)
            return session
        session = await super().get_group_session(room_id, session_id)
        if session is not None:
            self._remember(*key, session)
        return session

    async def put_group_session(
        self, room_id: RoomID, sender_key: IdentityKey, session_id: SessionID, session: InboundGroupSession
    ) -> None:
        self._sessions.pop((str(room_id), str(session_id)), None)
        await super().put_group_session(room_id, sender_key, session_id, session)
        self._remember(str(room_id), str(session_id), session)

    async def redact_group_session(self, *args: Any, **kwargs: Any) -> None:
        self._sessions.clear()
        try:
            await super().redact_group_session(*args, **kwargs)
        finally:
            self._sessions.clear()

    async def redact_group_sessions(self, *args: Any, **kwargs: Any) -> Any:
        self._sessions.clear()
        try:
            return await super().redact_group_sessions(*args, **kwargs)
        finally:
            self._sessions.clear()

    async def redact_expired_group_sessions(self) -> Any:
        self._sessions.clear()
        try:
            return await super().redact_expired_group_sessions()
        finally:
            self._sessions.clear()

    async def redact_outdated_group_sessions(self) -> Any:
        self._sessions.clear()
        try:
            return await super().redact_outdated_group_sessions()
        finally:
            self._sessions.clear()

    async def delete(self) -> None:
        self._sessions.clear()
        self._outbound_shared.clear()
        await super().delete()

    # --- the assistant's outbound sessions: which rooms have one shared --------------------------
    async def outbound_session_shared(self, room_id: RoomID) -> bool:
        """Whether the room has a shared, unexpired outbound session (from memory once known)."""
        if str(room_id) in self._outbound_shared:
            return True
        session = await self.get_outbound_group_session(room_id)
        shared = bool(session and session.shared and not session.expired)
        if shared:
            self._outbound_shared.add(str(room_id))
        return shared

    async def add_outbound_group_session(self, session: OutboundGroupSession) -> None:
        self._outbound_shared.discard(str(session.room_id))
        await super().add_outbound_group_session(session)
        if session.shared:
            self._outbound_shared.add(str(session.room_id))

    async def update_outbound_group_session(self, session: OutboundGroupSession) -> None:
        await super().update_outbound_group_session(session)
        if session.expired:  # used up: the next answer needs a new one
            self._outbound_shared.discard(str(session.room_id))

    async def remove_outbound_group_session(self, room_id: RoomID) -> None:
        await self.remove_outbound_group_sessions([room_id])

    async def remove_outbound_group_sessions(self, rooms: list[RoomID]) -> None:
        for room_id in rooms:
            self._outbound_shared.discard(str(room_id))
        if len(rooms) == 1:
            await super().remove_outbound_group_session(rooms[0])
        elif rooms:
            await super().remove_outbound_group_sessions(rooms)
        if self.outbound_removed:
            for room_id in rooms:
                self.outbound_removed(str(room_id))
