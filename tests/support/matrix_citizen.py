"""A citizen's Matrix client for the tests and the benchmark: a real client (mautrix, the same
library family Element's bridges use) with end-to-end encryption on, talking to the real
Synapse (``support.synapse``). It opens direct chats the way Element does (``is_direct``, and
``m.room.encryption`` in the initial state), sends and decrypts messages and downloads files.

The assistant's answer to one message is complete when the assistant stops typing (the
connector shows a typing notice while Rasa answers) and nothing follows for a moment.

``CitizenThread`` runs one event loop in a thread for synchronous tests:
``say_text("Hallo")`` returns the assistant's answer as text.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from mautrix.client import Client
from mautrix.client.state_store.asyncpg import PgStateStore
from mautrix.crypto import OlmMachine, PgCryptoStore
from mautrix.crypto.attachments import decrypt_attachment
from mautrix.crypto.store.asyncpg import PgCryptoStateStore
from mautrix.types import (
    EventType,
    MessageEvent,
    MessageType,
    RoomCreatePreset,
    TextMessageEventContent,
    TypingEvent,
)
from mautrix.util.async_db import Database

ENCRYPTION_STATE = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


@dataclass
class Received:
    at: float
    event: MessageEvent
    encrypted: bool

    @property
    def body(self) -> str:
        return self.event.content.body or ""

    @property
    def html(self) -> Optional[str]:
        return getattr(self.event.content, "formatted_body", None)

    @property
    def msgtype(self) -> str:
        return str(self.event.content.msgtype)


@dataclass
class RoomLog:
    messages: list[Received] = field(default_factory=list)
    typing: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class Citizen:
    """One citizen: a registered user with one encrypting device."""

    def __init__(self, base_url: str, user_id: str, access_token: str, device_id: str, store_dir: Path, bot_id: str):
        self.base_url, self.user_id, self.bot_id = base_url, user_id, bot_id
        self.access_token, self.device_id, self.store_dir = access_token, device_id, store_dir
        self.rooms: dict[str, RoomLog] = {}
        self.left: set[str] = set()

    async def start(self) -> Citizen:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.crypto_db = Database.create(
            f"sqlite:///{self.store_dir / 'crypto.db'}", upgrade_table=PgCryptoStore.upgrade_table
        )
        self.state_db = Database.create(
            f"sqlite:///{self.store_dir / 'crypto.db'}", upgrade_table=PgStateStore.upgrade_table
        )
        self.state_db.override_pool(self.crypto_db)  # one pool: see matrix_connector/connector.py
        await self.crypto_db.start()
        await self.state_db.start()
        state_store = PgCryptoStateStore(self.state_db)
        crypto_store = PgCryptoStore(self.user_id, "citizen-test-pickle", self.crypto_db)
        self.client = Client(
            mxid=self.user_id,
            device_id=self.device_id,
            base_url=self.base_url,
            token=self.access_token,
            state_store=state_store,
            sync_store=crypto_store,
        )
        self.crypto = OlmMachine(self.client, crypto_store, state_store)
        self.client.crypto = self.crypto
        await self.crypto.load()
        await crypto_store.put_device_id(self.device_id)
        await self.crypto.share_keys()
        self.client.add_event_handler(EventType.ROOM_MESSAGE, self._on_message)
        self.client.add_event_handler(EventType.TYPING, self._on_typing)
        self.client.add_event_handler(EventType.ROOM_MEMBER, self._on_member)
        self._sync = self.client.start(None)
        return self

    async def stop(self) -> None:
        self.client.stop()
        try:
            await asyncio.wait_for(self._sync, 10)
        except BaseException:  # noqa: BLE001 - shutting down
            pass
        await self.client.api.session.close()
        await self.crypto_db.stop()
        await self.state_db.stop()

    def _log(self, room_id: str) -> RoomLog:
        return self.rooms.setdefault(str(room_id), RoomLog())

    async def _on_message(self, evt: MessageEvent) -> None:
        if evt.sender != self.bot_id:
            return
        log = self._log(evt.room_id)
        # mautrix marks an event it decrypted (crypto/decrypt_megolm.py).
        try:
            encrypted = bool(evt["mautrix"]["was_encrypted"])
        except (KeyError, TypeError):
            encrypted = False
        log.messages.append(Received(time.monotonic(), evt, encrypted))
        log.changed.set()

    async def _on_typing(self, evt: TypingEvent) -> None:
        log = self._log(evt.room_id)
        log.typing = self.bot_id in (evt.content.user_ids or [])
        log.changed.set()

    async def _on_member(self, evt: Any) -> None:
        if evt.state_key == self.bot_id and str(evt.content.membership) == "leave":
            self.left.add(str(evt.room_id))
            self._log(evt.room_id).changed.set()

    # --- actions -------------------------------------------------------------------------------
    async def open_direct_chat(self, encrypted: bool = True, invite: tuple[str, ...] = ()) -> str:
        """A direct chat with the assistant as Element creates it; waits for the assistant's greeting."""
        room_id = await self.client.create_room(
            preset=RoomCreatePreset.TRUSTED_PRIVATE,
            invitees=[self.bot_id, *invite],
            is_direct=not invite,
            initial_state=[ENCRYPTION_STATE] if encrypted else [],
        )
        return str(room_id)

    async def wait_for(self, room_id: str, predicate, timeout: float = 60) -> None:
        log = self._log(room_id)
        deadline = time.monotonic() + timeout
        while not predicate(log):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"Keine Antwort im Raum nach {timeout} s: {[m.body for m in log.messages][-3:]}")
            log.changed.clear()
            try:
                await asyncio.wait_for(log.changed.wait(), min(remaining, 1.0))
            except asyncio.TimeoutError:
                pass

    async def send(self, room_id: str, text: str) -> int:
        """Send ``text``; returns the mark (number of messages before it)."""
        mark = len(self._log(room_id).messages)
        await self.client.send_message(room_id, TextMessageEventContent(msgtype=MessageType.TEXT, body=text))
        return mark

    async def react(self, room_id: str, event_id: str, key: str) -> int:
        """React with ``key`` to the assistant's event (as Element does; encrypted where the room
        is); returns the mark (number of messages before it)."""
        mark = len(self._log(room_id).messages)
        await self.client.react(room_id, event_id, key)
        return mark

    async def answer(self, room_id: str, mark: int, timeout: float = 90, settle: float = 0.4) -> list[Received]:
        """The assistant's messages after ``mark``, once it has stopped typing and answered."""
        log = self._log(room_id)
        await self.wait_for(room_id, lambda lg: len(lg.messages) > mark, timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = len(log.messages)
            await self.wait_for(room_id, lambda lg: not lg.typing, timeout)
            await asyncio.sleep(settle)
            if len(log.messages) == count and not log.typing:
                break
        return log.messages[mark:]

    async def say(self, room_id: str, text: str, timeout: float = 90) -> list[Received]:
        return await self.answer(room_id, await self.send(room_id, text), timeout)

    async def download(self, received: Received) -> bytes:
        content = received.event.content
        if getattr(content, "file", None):
            data = await self.client.download_media(content.file.url)
            return decrypt_attachment(data, content.file.key.key, content.file.hashes["sha256"], content.file.iv)
        return await self.client.download_media(content.url)


async def new_citizen(synapse, bot_id: str, store_root: Optional[Path] = None) -> Citizen:
    user = synapse.register_user()
    root = store_root or Path(tempfile.mkdtemp(prefix="citizen-"))
    return await Citizen(
        synapse.base_url, user.user_id, user.access_token, user.device_id, root / user.localpart, bot_id
    ).start()


class CitizenThread:
    """A ``Citizen`` for synchronous tests: its event loop runs in a thread of its own."""

    def __init__(self, synapse, bot_id: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.citizen: Citizen = self.run(new_citizen(synapse, bot_id))
        self.room_id: Optional[str] = None

    def run(self, coro, timeout: float = 180):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def open(self, encrypted: bool = True) -> list[Received]:
        """Open a direct chat; returns the assistant's greeting."""
        self.room_id = self.run(self.citizen.open_direct_chat(encrypted))
        return self.run(self.citizen.answer(self.room_id, 0))

    def say(self, text: str) -> list[Received]:
        return self.run(self.citizen.say(self.room_id, text))

    def react(self, message: Received, key: str, timeout: float = 90) -> list[Received]:
        """React to one of the assistant's messages; returns its answer."""
        citizen = self.citizen
        mark = self.run(citizen.react(self.room_id, str(message.event.event_id), key))
        return self.run(citizen.answer(self.room_id, mark, timeout))

    def say_text(self, text: str) -> str:
        return "\n".join(m.body for m in self.say(text))

    def close(self) -> None:
        try:
            self.run(self.citizen.stop(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
