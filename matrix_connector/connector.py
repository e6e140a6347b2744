"""The Matrix connector: a bot account (mautrix) with end-to-end encryption.

* Login: with ``MATRIX_ACCESS_TOKEN`` or ``MATRIX_PASSWORD``; the device id is kept in the
  store, so a restart logs in to the same device and keeps its keys.
* Keys: the Olm account, Olm and Megolm sessions and the sync position live in
  ``$MATRIX_STORE_DIR/crypto.db`` (mautrix ``PgCryptoStore`` on SQLite, pickled with
  ``MATRIX_PICKLE_KEY``), or with ``MATRIX_STORE_DATABASE_URL`` in PostgreSQL (a connection
  pool instead of SQLite's one connection); room state (members, encryption) in the same
  database. Megolm sessions are read from memory (``decryption.py``, written through).
* Invites: accepted, then the connector checks who is in the room: a direct chat (the citizen
  and the assistant) is one conversation; a room with anybody else gets ``GROUP_ROOM`` and is
  left, also when someone joins later.
* Messages: decrypted here (a message that cannot be decrypted gets ``UNDECRYPTABLE`` in the
  room, never silence); a reply that chooses one of the last numbered options becomes the
  option's payload; sent to Rasa's Matrix channel; the answer rendered with
  ``buergerassistent.messenger_format`` (HTML ``formatted_body`` and plain ``body``) and sent
  encrypted where the room is; the PDF receipt is downloaded and uploaded as ``m.file``
  (encrypted attachment in encrypted rooms).
* Reactions: a reaction on the assistant's latest question chooses an option (1️⃣ …, 👍/👎
  for yes/no; ``reactions.py``); one meant as a choice on an older message is not sent to the
  assistant, the citizen hears that it belongs to an earlier question.
* Proactive messages from Rasa arrive on ``POST /internal/send`` (``app.py``).

Nothing personal is logged: no message text, no Matrix ids, only event kinds and counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import aiohttp
from mautrix.client import Client
from mautrix.client.encryption_manager import DecryptionDispatcher
from mautrix.client.state_store.asyncpg import PgStateStore
from mautrix.crypto import OlmMachine, PgCryptoStore
from mautrix.crypto.attachments import encrypt_attachment
from mautrix.crypto.store.asyncpg import PgCryptoStateStore
from mautrix.errors import (
    DecryptionError,
    EncryptionError,
    MForbidden,
    MNotFound,
    SessionNotFound,
    SessionShareError,
)
from mautrix.types import (
    EncryptedEvent,
    EventType,
    Format,
    MediaMessageEventContent,
    Membership,
    MessageEvent,
    MessageType,
    ReactionEvent,
    RelationType,
    StateEvent,
    TextMessageEventContent,
)
from mautrix.types.event.message import FileInfo
from mautrix.types.filter import Filter
from mautrix.util.async_db import Database

from buergerassistent import metrics
from buergerassistent.messenger_format import RenderedMessage, last_options, match_option, render_messages
from matrix_connector import texts
from matrix_connector.decryption import CachedSessionsCryptoStore
from matrix_connector.reactions import is_choice_key, match_reaction, reaction_hint
from matrix_connector.store import RoomStore
from matrix_connector.timings import StageTimes

logger = logging.getLogger(__name__)

CONVERSATION_PREFIX = "mx-"
# How long a message waits for its Megolm session (the key often arrives in the same sync).
SESSION_WAIT_S = 5.0
MAX_RECEIPT_BYTES = 10 * 1024 * 1024
# Direct chats one Matrix user may open per window (an unknown sender's flood of invites).
INVITES_PER_USER = 5
INVITE_WINDOW_S = 600.0
# New direct chats per minute over all users (a flood from many accounts), as the other
# messengers' cap on new conversations (rasa_runtime/channels/messenger.py); beyond it the
# citizen is told to try again in a minute.
NEW_ROOMS_PER_MINUTE = 120
# The connector reads timelines and room state only: no typing notices, receipts, presence or
# account data (each of them would wake the sync loop; its own typing notices too).
# To-device messages and device lists (encryption) are not affected by this filter.
SYNC_FILTER = Filter.deserialize(
    {
        "presence": {"types": []},
        "account_data": {"types": []},
        "room": {"ephemeral": {"types": []}, "account_data": {"types": []}},
    }
)
# "is typing" only when Rasa takes longer than this: a quick answer needs no notice, and each
# notice costs two homeserver requests and wakes the citizen's client twice per message.
TYPING_AFTER_S = 0.5
# How often the event loop's lag is probed (``loop_lag`` in the stage times).
LAG_PROBE_S = 0.1
# After "too many messages" (Rasa's rate limit) the room hears it once per this many seconds.
RATE_NOTICE_S = 60.0
# A reaction the connector cannot take as an answer is explained once per message reacted to
# (a row of reactions must not become a row of notices); per room at most this many remembered.
REACTION_NOTICES_KEPT = 50


@dataclass(frozen=True)
class Sent:
    """One event sent: its id, when (``time.monotonic()``) it was handed to the homeserver and
    when the homeserver accepted it."""

    event_id: str
    handed_over: float
    accepted: float


@dataclass
class ConnectorConfig:
    homeserver_url: str
    user_id: str
    rasa_url: str
    channel_token: str
    store_dir: Path
    pickle_key: str
    password: Optional[str] = None
    access_token: Optional[str] = None
    device_name: str = "Bürgerassistent"
    # PostgreSQL for keys, sessions and room state (``postgresql://…``); None: SQLite in store_dir.
    store_database_url: Optional[str] = None


def _db_args(url: str) -> dict[str, Any]:
    if url.startswith(("postgres://", "postgresql://")):
        # A pool: decryption (under mautrix's one Megolm lock), encryption, the sync position
        # and room state each get a connection instead of queueing behind one another.
        return {"min_size": 2, "max_size": 10}
    return {}


def _link_allowed(url: str) -> bool:
    # Rasa's Matrix channel has already removed every link outside the allow-list
    # (rasa_runtime/channels/outbound.py); only web addresses remain.
    return url.lower().startswith(("https://", "http://"))


class MatrixConnector:
    def __init__(self, config: ConnectorConfig):
        self.config = config
        self.client: Optional[Client] = None
        self.crypto: Optional[OlmMachine] = None
        self.rooms: Optional[RoomStore] = None
        self._dbs: list[Database] = []
        self._http: Optional[aiohttp.ClientSession] = None
        self._room_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._sync_task: Optional[asyncio.Future] = None
        self.ready = asyncio.Event()
        self.started_at = 0.0
        self._invites: dict[str, list[float]] = defaultdict(list)
        self._new_rooms: deque[float] = deque()
        # Rooms declined for being busy: their invite comes again in the joined room's timeline.
        self._declined: deque[str] = deque(maxlen=1000)
        self._rate_notice: dict[str, float] = {}
        # The language of each room's conversation ("de"/"en"): the lang of Rasa's latest answer.
        self._language: dict[str, str] = {}
        self._reaction_notices: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._sharing_ahead: dict[str, asyncio.Future] = {}
        self._lag_task: Optional[asyncio.Future] = None
        self.timings = StageTimes()

    # --- start and stop ------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        cfg.store_dir.mkdir(parents=True, exist_ok=True)
        self.rooms = RoomStore(cfg.store_dir / "rooms.db", hashlib.sha256(b"rooms:" + cfg.pickle_key.encode()).digest())
        url = self.store_url
        crypto_db = Database.create(url, upgrade_table=PgCryptoStore.upgrade_table, db_args=_db_args(url))
        # One connection pool for both stores: mautrix runs state-store queries inside
        # crypto-store transactions (the connection travels in a context variable).
        state_db = Database.create(url, upgrade_table=PgStateStore.upgrade_table, db_args=_db_args(url))
        await crypto_db.start()
        self._dbs = [crypto_db]
        state_db.override_pool(crypto_db)  # after start: asyncpg's pool exists only then
        await state_db.start()
        self._dbs.append(state_db)
        state_store = PgCryptoStateStore(state_db)
        # Megolm sessions read from memory: one store query less under mautrix's decryption lock.
        crypto_store = CachedSessionsCryptoStore(account_id=cfg.user_id, pickle_key=cfg.pickle_key, db=crypto_db)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        client = Client(
            mxid=cfg.user_id,
            base_url=cfg.homeserver_url,
            state_store=state_store,
            sync_store=crypto_store,
        )
        self.client = client
        stored_device = await crypto_store.get_device_id()
        if cfg.access_token:
            client.api.token = cfg.access_token
            whoami = await client.whoami()
            client.device_id = whoami.device_id
        else:
            await client.login(
                identifier=cfg.user_id,
                password=cfg.password,
                device_id=stored_device or None,
                device_name=cfg.device_name,
            )
        if stored_device and stored_device != client.device_id:
            # Another device than the stored keys belong to: start afresh (old keys are useless).
            logger.warning("Matrix device changed; the stored encryption keys are discarded")
            await crypto_store.delete()
        # mautrix drops a room's outbound session when a member or a device there changes: share
        # the next one right away, not when the citizen's next answer is ready.
        crypto_store.outbound_removed = self._on_outbound_removed
        self.crypto = OlmMachine(client, crypto_store, state_store)
        client.crypto = self.crypto
        # Decrypt ourselves: mautrix's dispatcher drops a message it cannot decrypt silently.
        client.remove_dispatcher(DecryptionDispatcher)
        await self.crypto.load()
        await crypto_store.put_device_id(client.device_id)
        await self.crypto.share_keys()

        client.add_event_handler(EventType.ROOM_MEMBER, self._on_member)
        client.add_event_handler(EventType.ROOM_MESSAGE, self._on_message)
        client.add_event_handler(EventType.ROOM_ENCRYPTED, self._on_encrypted)
        client.add_event_handler(EventType.REACTION, self._on_reaction)
        self.started_at = time.time()
        self._sync_task = client.start(SYNC_FILTER)
        self._lag_task = asyncio.ensure_future(self._measure_loop_lag())
        self.ready.set()
        logger.info("Matrix connector syncing (device keys stored in %s)", cfg.store_dir)

    @property
    def store_url(self) -> str:
        if self.config.store_database_url:
            return self.config.store_database_url
        return f"sqlite:///{self.config.store_dir / 'crypto.db'}"

    @property
    def device_id(self) -> str:
        return str(self.client.device_id) if self.client else ""

    @property
    def identity_key(self) -> str:
        return str(self.crypto.account.identity_key) if self.crypto and self.crypto.account else ""

    async def stop(self) -> None:
        if self._lag_task:
            self._lag_task.cancel()
        if self.client:
            self.client.stop()
        if self._sync_task:
            try:
                await asyncio.wait_for(self._sync_task, 10)
            except (asyncio.CancelledError, asyncio.TimeoutError, Exception):  # noqa: BLE001 - shutting down
                pass
        if self.client:
            await self.client.api.session.close()
        if self._http:
            await self._http.close()
        for db in reversed(self._dbs):
            await db.stop()
        if self.rooms:
            self.rooms.close()

    # --- rooms ---------------------------------------------------------------------------------
    async def _others_in(self, room_id: str) -> set[str]:
        """Everyone but the assistant who is in the room or invited to it."""
        members = await self.client.get_members(room_id)
        return {
            str(m.state_key)
            for m in members
            if m.state_key != self.client.mxid and m.content.membership in (Membership.JOIN, Membership.INVITE)
        }

    async def _leave_group(self, room_id: str) -> None:
        logger.info("Matrix room with more than one other person: leaving")
        try:
            await self.client.send_message_event(
                room_id,
                EventType.ROOM_MESSAGE,
                TextMessageEventContent(msgtype=MessageType.NOTICE, body=texts.GROUP_ROOM),
            )
        finally:
            await self.client.leave_room(room_id)
            self.rooms.forget(room_id)

    async def _on_member(self, evt: StateEvent) -> None:
        if evt.sender == self.client.mxid and evt.state_key == self.client.mxid:
            return
        membership = evt.content.membership
        async with self._room_locks[evt.room_id]:
            if evt.state_key == self.client.mxid and membership == Membership.INVITE:
                # The invite comes once as an invite and again in the joined room's timeline.
                if not self.rooms.known(evt.room_id) and evt.room_id not in self._declined:
                    if not self._invite_allowed(str(evt.sender)):
                        logger.warning("Matrix invite rejected: too many direct chats from one user")
                        metrics.MATRIX_INVITES.labels(outcome="rejected_per_user").inc()
                        await self.client.leave_room(evt.room_id)
                    elif not self._new_room_allowed():
                        logger.warning("Matrix invite declined: too many new direct chats overall")
                        metrics.MATRIX_INVITES.labels(outcome="declined_busy").inc()
                        await self._decline_busy(evt.room_id)
                    else:
                        metrics.MATRIX_INVITES.labels(outcome="accepted").inc()
                        await self._accept_invite(evt.room_id)
                return
            if membership in (Membership.JOIN, Membership.INVITE) and evt.state_key != self.client.mxid:
                # Someone joined or was invited later: is it still a direct chat?
                try:
                    others = await self._others_in(evt.room_id)
                except (MForbidden, MNotFound):
                    return
                if len(others) > 1:
                    await self._leave_group(evt.room_id)

    def _invite_allowed(self, inviter: str, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._invites) > 10000:  # many users: forget those without a recent invite
            for user in [u for u, times in self._invites.items() if not times or now - times[-1] >= INVITE_WINDOW_S]:
                del self._invites[user]
        recent = [t for t in self._invites[inviter] if now - t < INVITE_WINDOW_S]
        allowed = len(recent) < INVITES_PER_USER
        if allowed:
            recent.append(now)
        self._invites[inviter] = recent
        return allowed

    def _new_room_allowed(self, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        while self._new_rooms and now - self._new_rooms[0] >= 60.0:
            self._new_rooms.popleft()
        if len(self._new_rooms) >= NEW_ROOMS_PER_MINUTE:
            return False
        self._new_rooms.append(now)
        return True

    async def _decline_busy(self, room_id: str) -> None:
        """Too many new chats at once: say so in the room (a silent decline looks broken), leave."""
        self._declined.append(room_id)
        try:
            await self.client.join_room(room_id)
            await self.send_text(room_id, texts.BUSY)
        except Exception as exc:  # noqa: BLE001 - leaving matters more than the notice
            logger.info("Matrix busy notice not sent (%s)", type(exc).__name__)
        finally:
            await self.client.leave_room(room_id)

    async def _accept_invite(self, room_id: str) -> None:
        try:
            await self.client.join_room(room_id)
        except (MForbidden, MNotFound):
            logger.info("Matrix invite could not be accepted")
            return
        others = await self._others_in(room_id)
        if len(others) > 1:
            await self._leave_group(room_id)
            return
        logger.info("Matrix direct chat accepted")
        self.rooms.room_key(room_id)
        await self.send_text(room_id, texts.welcome())

    # --- incoming messages ---------------------------------------------------------------------
    async def _on_encrypted(self, evt: EncryptedEvent) -> None:
        if evt.sender == self.client.mxid:
            return
        started = time.monotonic()
        self._homeserver_in(evt)
        self._share_ahead(evt.room_id)
        try:
            decrypted = await self.crypto.decrypt_megolm_event(evt)
        except SessionNotFound:
            # The room key travels as a to-device message, often in the same sync: wait for it.
            waiting = time.monotonic()
            arrived = await self.crypto.wait_for_session(evt.room_id, evt.content.session_id, timeout=SESSION_WAIT_S)
            self.timings.add("key_wait", time.monotonic() - waiting)
            if arrived:
                try:
                    decrypted = await self.crypto.decrypt_megolm_event(evt)
                except DecryptionError:
                    decrypted = None
            else:
                decrypted = None
        except DecryptionError:
            decrypted = None
        self.timings.add("decrypt", time.monotonic() - started)
        if decrypted is None:
            logger.warning("Matrix message could not be decrypted; the citizen is told")
            metrics.MATRIX_MESSAGES.labels(outcome="undecryptable").inc()
            await self.send_text(evt.room_id, texts.say("UNDECRYPTABLE", self.room_language(evt.room_id)))
            return
        if decrypted.type == EventType.ROOM_MESSAGE:
            await self._on_message(decrypted, started)
        elif decrypted.type == EventType.REACTION:
            await self._on_reaction(decrypted, started)

    async def _measure_loop_lag(self) -> None:
        """``loop_lag``: how late a 100 ms timer fires — every conversation waits that long when
        something blocks the event loop (sync parsing, key uploads, CPU-bound work)."""
        while True:
            planned = time.monotonic() + LAG_PROBE_S
            await asyncio.sleep(LAG_PROBE_S)
            self.timings.add("loop_lag", time.monotonic() - planned)

    def _on_outbound_removed(self, room_id: str) -> None:
        if self.rooms and self.rooms.known(room_id):
            self._share_ahead(room_id)

    def _share_ahead(self, room_id: str) -> None:
        """Share the room's outbound Megolm session now if it has none, while the message is
        decrypted and Rasa answers, not after: mautrix drops the session whenever a member or a
        device of the room changes (the citizen's first sync of a new room does both), and sharing
        takes a key query, a one-time-key claim and a to-device request to the homeserver. The
        answer waits only for what is left of it (``share_session``)."""
        if room_id in self._sharing_ahead:
            return
        task = asyncio.ensure_future(self._share_if_needed(room_id))
        self._sharing_ahead[room_id] = task
        task.add_done_callback(lambda _: self._sharing_ahead.pop(room_id, None))

    async def _share_if_needed(self, room_id: str) -> None:
        try:
            if await self.crypto.crypto_store.outbound_session_shared(room_id):
                return
            started = time.monotonic()
            await self.client.share_group_session(room_id)
            self.timings.add("share_ahead", time.monotonic() - started)
        except SessionShareError:
            pass  # shared meanwhile for an answer
        except Exception as exc:  # noqa: BLE001 - the answer shares it then
            logger.warning("Megolm session not shared ahead (%s); shared with the answer", type(exc).__name__)

    def _homeserver_in(self, evt: Any) -> None:
        if evt.timestamp:
            self.timings.add("homeserver_in", time.time() - evt.timestamp / 1000)

    async def _on_message(self, evt: MessageEvent, started: Optional[float] = None) -> None:
        if evt.sender == self.client.mxid:
            return
        if started is None:  # unencrypted: straight from the sync
            started = time.monotonic()
            self._homeserver_in(evt)
        queued = time.monotonic()
        async with self._room_locks[evt.room_id]:
            self.timings.add("queue", time.monotonic() - queued)
            if evt.content.msgtype == MessageType.NOTICE:
                return  # notices are what bots send: never answered (no loops between bots)
            if evt.content.msgtype not in (MessageType.TEXT, MessageType.EMOTE):
                await self.send_text(evt.room_id, texts.say("NOT_TEXT", self.room_language(evt.room_id)))
                return
            text = _strip_reply_fallback(evt.content.body or "")
            if not text.strip():
                return
            payload = match_option(text, self.rooms.options(evt.room_id))
            await self._answer(evt.room_id, payload or text, text if payload else None, started)

    async def _on_reaction(self, evt: ReactionEvent, started: Optional[float] = None) -> None:
        """A reaction on the latest question chooses its option; see ``reactions.py``."""
        if evt.sender == self.client.mxid:
            return
        relates = getattr(evt.content, "relates_to", None)
        if not relates or relates.rel_type != RelationType.ANNOTATION or not relates.event_id:
            return
        key = str(relates.key or "")
        if started is None:
            started = time.monotonic()
        async with self._room_locks[evt.room_id]:
            options = self.rooms.options(evt.room_id)
            if options and relates.event_id == self.rooms.options_event(evt.room_id):
                option = match_reaction(key, options)
                if option is not None:
                    logger.info("Matrix reaction chose an option")
                    await self._answer(evt.room_id, option.payload, option.title, started)
                else:
                    await self._reaction_notice_once(
                        evt.room_id, relates.event_id, texts.say("REACTION_UNKNOWN", self.room_language(evt.room_id))
                    )
            elif is_choice_key(key):
                # An older question's option: never sent blindly, the citizen hears why.
                logger.info("Matrix reaction on an older message: not taken as an answer")
                await self._reaction_notice_once(
                    evt.room_id, relates.event_id, texts.say("REACTION_OLD", self.room_language(evt.room_id))
                )
            # Any other reaction on an older message (a thank-you) needs no answer.

    async def _reaction_notice_once(self, room_id: str, event_id: str, text: str) -> None:
        said = self._reaction_notices[room_id]
        if (event_id, text) in said:
            return
        if len(said) >= REACTION_NOTICES_KEPT:
            said.clear()
        said.add((event_id, text))
        await self.send_text(room_id, text)

    async def _answer(self, room_id: str, message: str, display_text: Optional[str], started: float) -> None:
        """Ask Rasa (under the room's lock) and deliver its answer; time the stages."""
        # "is typing" while a slow answer is prepared (not awaited: it must not delay it).
        typing_started = asyncio.Event()

        async def typing_later() -> None:
            await asyncio.sleep(TYPING_AFTER_S)
            typing_started.set()
            await self._typing(room_id, True)

        typing = asyncio.ensure_future(typing_later())
        try:
            asked = time.monotonic()
            messages = await self.ask_rasa(room_id, message, display_text=display_text)
            answered = time.monotonic()
            first_sent = await self.deliver(room_id, messages)
            metrics.MATRIX_MESSAGES.labels(outcome="answered").inc()
            self.timings.add("rasa", answered - asked)
            self.timings.add("send_all", time.monotonic() - answered)
            if first_sent is not None:
                self.timings.add("adapter", (first_sent.handed_over - started) - (answered - asked))
                self.timings.add("homeserver_send", first_sent.accepted - first_sent.handed_over)
        finally:
            if typing_started.is_set():
                await typing
                await self._typing(room_id, False)
            else:
                typing.cancel()

    async def _typing(self, room_id: str, typing: bool) -> None:
        try:
            await self.client.set_typing(room_id, timeout=30000 if typing else 0)
        except Exception as exc:  # noqa: BLE001 - a typing notice is a courtesy, never a failure
            logger.debug("typing notice failed: %s", type(exc).__name__)

    async def ask_rasa(self, room_id: str, text: str, display_text: Optional[str] = None) -> list[dict[str, Any]]:
        """Rasa's Matrix channel: the bot messages for one citizen message (or its German error)."""
        body: dict[str, Any] = {"sender": self.rooms.room_key(room_id), "message": text}
        if display_text:
            body["metadata"] = {"display_text": display_text[:200]}
        url = f"{self.config.rasa_url.rstrip('/')}/webhooks/matrix/webhook"
        headers = {"Authorization": f"Bearer {self.config.channel_token}"}
        for attempt in range(30):
            try:
                async with self._http.post(url, json=body, headers=headers) as answer:
                    data = await answer.json(content_type=None)
                    if answer.status == 200 and isinstance(data, list):
                        return data
                    if isinstance(data, dict) and isinstance(data.get("message"), str):
                        logger.info("Rasa's Matrix channel answered HTTP %s (%s)", answer.status, data.get("error"))
                        if data.get("error") == "rate_limited":
                            metrics.MATRIX_MESSAGES.labels(outcome="rate_limited").inc()
                            # Say it once, not once per message of a flood.
                            last = self._rate_notice.get(room_id, float("-inf"))
                            if time.monotonic() - last < RATE_NOTICE_S:
                                return []
                            self._rate_notice[room_id] = time.monotonic()
                        return [{"text": data["message"]}]
                    logger.error("Rasa's Matrix channel answered HTTP %s", answer.status)
                    metrics.MATRIX_MESSAGES.labels(outcome="rasa_unavailable").inc()
                    return [{"text": texts.say("UNAVAILABLE", self.room_language(room_id))}]
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
                # Rasa still starting or restarting: try again for a while.
                logger.warning("Rasa not reachable (%s), attempt %s", type(exc).__name__, attempt + 1)
                await asyncio.sleep(2)
        metrics.MATRIX_MESSAGES.labels(outcome="rasa_unavailable").inc()
        return [{"text": texts.say("UNAVAILABLE", self.room_language(room_id))}]

    # --- outgoing messages ---------------------------------------------------------------------
    def room_language(self, room_id: str, messages: Sequence[dict[str, Any]] = ()) -> str:
        """The room's conversation language: the ``lang`` of the latest of ``messages`` that has
        one (Rasa's Matrix channel passes it on), else what the room spoke last (German first)."""
        for message in reversed(messages):
            lang = message.get("lang") if isinstance(message, dict) else None
            if lang in ("de", "en"):
                self._language[room_id] = lang
                break
        return self._language.get(room_id, "de")

    async def deliver(self, room_id: str, messages: list[dict[str, Any]]) -> Optional[Sent]:
        """Render and send the assistant's messages into the room; remember its options and the
        event that listed them (what a reaction may answer). Returns the first text event sent
        (None: none)."""
        lang = self.room_language(room_id, messages)
        rendered = render_messages(messages, _link_allowed, options_hint=lambda o: reaction_hint(o, lang))
        first_sent = None
        options_event = ""
        for message in rendered:
            sent = await self.send_rendered(room_id, message)
            if first_sent is None:
                first_sent = sent
            if message.options:
                options_event = sent.event_id if sent else ""
        self.rooms.set_options(room_id, last_options(rendered), options_event)
        return first_sent

    async def deliver_to_conversation(self, conversation_id: str, messages: list[dict[str, Any]]) -> bool:
        """Proactive messages for ``mx-<room key>`` (False: no such conversation here)."""
        if not conversation_id.startswith(CONVERSATION_PREFIX):
            return False
        room_id = self.rooms.room_id(conversation_id[len(CONVERSATION_PREFIX) :])
        if room_id is None:
            return False
        async with self._room_locks[room_id]:
            await self.deliver(room_id, messages)
        return True

    async def send_text(self, room_id: str, text: str) -> None:
        await self.client.send_message_event(
            room_id, EventType.ROOM_MESSAGE, TextMessageEventContent(msgtype=MessageType.TEXT, body=text)
        )

    async def _send_message(self, room_id: str, content: Any) -> Sent:
        """Encrypt (where the room is) and send one message."""
        event_type = EventType.ROOM_MESSAGE
        encrypted = await self.client.state_store.is_encrypted(room_id)
        if encrypted is None:
            # Unknown yet: mautrix looks it up and encrypts if needed.
            handed_over = time.monotonic()
            event_id = await self.client.send_message_event(room_id, event_type, content)
            return Sent(str(event_id), handed_over, time.monotonic())
        if encrypted:
            content = await self._encrypt(room_id, event_type, content)
            event_type = EventType.ROOM_ENCRYPTED
        handed_over = time.monotonic()
        event_id = await self.client.send_message_event(room_id, event_type, content, disable_encryption=True)
        return Sent(str(event_id), handed_over, time.monotonic())

    async def _encrypt(self, room_id: str, event_type: EventType, content: Any) -> Any:
        """Megolm-encrypt; without a shared outbound session, share one first (mautrix's
        ``Client.encrypt``) and time it (``share_session``: key query, claim, to-device;
        ``encrypt``: all of it)."""
        started = time.monotonic()
        try:
            encrypted = await self.crypto.encrypt_megolm_event(room_id, event_type, content)
        except EncryptionError:
            await self.client.share_group_session(room_id)
            self.timings.add("share_session", time.monotonic() - started)
            encrypted = await self.crypto.encrypt_megolm_event(room_id, event_type, content)
        self.timings.add("encrypt", time.monotonic() - started)
        return encrypted

    async def send_rendered(self, room_id: str, message: RenderedMessage) -> Optional[Sent]:
        sent = None
        if message.plain:
            content = TextMessageEventContent(msgtype=MessageType.TEXT, body=message.plain)
            if message.html and message.html != message.plain:
                content.format = Format.HTML
                content.formatted_body = message.html
            sent = await self._send_message(room_id, content)
        for file in message.files:
            try:
                await self.send_file(room_id, file.url, file.filename, file.mime_type)
            except Exception as exc:  # noqa: BLE001 - the link is there; say the file is missing
                logger.error("Receipt could not be sent as a file: %s", type(exc).__name__)
                await self.send_text(room_id, texts.say("RECEIPT_FAILED", self.room_language(room_id)))
        return sent

    async def send_file(self, room_id: str, url: str, filename: str, mime_type: str) -> None:
        async with self._http.get(url) as answer:
            answer.raise_for_status()
            data = await answer.content.read(MAX_RECEIPT_BYTES + 1)
        if len(data) > MAX_RECEIPT_BYTES:
            raise ValueError("receipt too large")
        content = MediaMessageEventContent(
            msgtype=MessageType.FILE, body=filename, info=FileInfo(mimetype=mime_type, size=len(data))
        )
        if await self.client.state_store.is_encrypted(room_id):
            ciphertext, encrypted_file = encrypt_attachment(data)
            encrypted_file.url = await self.client.upload_media(
                ciphertext, mime_type="application/octet-stream", filename=filename
            )
            content.file = encrypted_file
        else:
            content.url = await self.client.upload_media(data, mime_type=mime_type, filename=filename)
        await self.client.send_message_event(room_id, EventType.ROOM_MESSAGE, content)


def _strip_reply_fallback(body: str) -> str:
    """A reply in Element starts with the quoted message ("> …" lines, then a blank line)."""
    lines = body.split("\n")
    if lines and lines[0].startswith("> "):
        while lines and lines[0].startswith(">"):
            lines.pop(0)
        while lines and not lines[0].strip():
            lines.pop(0)
    return "\n".join(lines)
