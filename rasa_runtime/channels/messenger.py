"""What every messenger channel shares (Telegram, Threema; Matrix may use it too).

* :class:`Conversations`: per conversation, the options of the assistant's last turn (a reply
  "2" or "die zweite" is sent to Rasa as that button's payload, ``messenger_format.match_option``)
  and short keys for buttons whose payload is too long for a messenger (Telegram's 64 bytes).
* :class:`ReplayGuard`: a webhook delivered twice (same update id / message id) is handled once.
* :class:`Limits`: message size, messages per sender and time (``WEBCHAT_RATE_LIMIT``), and new
  conversations per minute overall (a flood of unknown senders).
* :func:`render`: bot messages → ``RenderedMessage`` with links checked against the allow-list
  (``outbound.neutralise_message`` first, then the same list for every link drawn).
* The German texts a messenger citizen reads when a message cannot be handled.

State here is in this process (one Rasa process per messenger webhook; docs/messengers.md).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Optional

from rasa.core.channels.channel import OutputChannel

from buergerassistent import messenger_format
from buergerassistent.messenger_format import Option, RenderedMessage
from rasa_runtime.channels import outbound
from rasa_runtime.channels.redis_guard import RedisGuard
from rasa_runtime.channels.webchat.limits import RateLimiter
from rasa_runtime.channels.webchat.settings import WebChatSettings

NOT_TEXT = (
    "Ich kann leider nur Textnachrichten lesen, keine Sprachnachrichten, Bilder oder Sticker. "
    "Bitte schreiben Sie mir Ihr Anliegen in Worten."
)
TOO_LONG = "Ihre Nachricht ist zu lang. Bitte schreiben Sie höchstens {limit} Zeichen auf einmal."
TOO_FAST = (
    "Sie haben sehr viele Nachrichten kurz hintereinander geschickt. "
    "Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal."
)
BUSY = "Gerade schreiben mir sehr viele Menschen gleichzeitig. Bitte versuchen Sie es in einer Minute noch einmal."
GROUP = (
    "Ich beantworte Fragen nur im direkten Chat mit Ihnen, nicht in Gruppen: "
    "dort könnten andere Ihre persönlichen Daten lesen. Bitte schreiben Sie mir direkt."
)
EXPIRED_CHOICE = "Diese Auswahl ist nicht mehr gültig. Bitte schreiben Sie Ihre Antwort als Text."
FAILED = "Entschuldigung, da ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal."

logger = logging.getLogger(__name__)
MAX_RECEIPT_BYTES = 5 * 1024 * 1024

# New conversations per minute over all senders before newcomers are asked to wait.
NEW_CONVERSATIONS_PER_MINUTE = 120


class ReplayGuard:
    """Remembers the last ``size`` ids (update ids, message ids) and refuses a repeat."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: Any) -> bool:
        key = str(key)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


class Conversations:
    """The last turn's options per conversation and short keys for button payloads."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._options: OrderedDict[str, list[Option]] = OrderedDict()
        self._keys: OrderedDict[str, tuple[str, Option]] = OrderedDict()
        self._known: OrderedDict[str, float] = OrderedDict()

    def known(self, conversation_id: str) -> bool:
        return conversation_id in self._known

    def seen(self, conversation_id: str) -> None:
        self._known[conversation_id] = time.time()
        self._known.move_to_end(conversation_id)
        while len(self._known) > self.size:
            self._known.popitem(last=False)

    def offered(self, conversation_id: str, options: list[Option]) -> None:
        """The options of the assistant's latest message with options (replaces older ones)."""
        self._options[conversation_id] = list(options)
        self._options.move_to_end(conversation_id)
        while len(self._options) > self.size:
            self._options.popitem(last=False)

    def clear(self, conversation_id: str) -> None:
        self._options.pop(conversation_id, None)

    def options(self, conversation_id: str) -> list[Option]:
        return list(self._options.get(conversation_id) or [])

    def payload_for(self, conversation_id: str, text: str) -> Optional[Option]:
        """The option a typed reply chooses among the last offered ones, or None."""
        options = self.options(conversation_id)
        payload = messenger_format.match_option(text, options)
        return next((o for o in options if o.payload == payload), None) if payload is not None else None

    def key_for(self, conversation_id: str, option: Option) -> str:
        """A short random key (callback data) standing for ``option`` in ``conversation_id``."""
        key = secrets.token_urlsafe(9)
        self._keys[key] = (conversation_id, option)
        while len(self._keys) > self.size * 5:
            self._keys.popitem(last=False)
        return key

    def option_for_key(self, conversation_id: str, key: str) -> Optional[Option]:
        found = self._keys.get(key)
        if not found or found[0] != conversation_id:
            return None
        return found[1]


class Limits:
    def __init__(self, settings: Optional[WebChatSettings] = None) -> None:
        self.settings = settings or WebChatSettings()
        redis, guard = self.settings.redis_client(), RedisGuard()
        self.per_sender = RateLimiter(*self.settings.rate_limit, redis=redis, guard=guard)
        self.newcomers = RateLimiter(NEW_CONVERSATIONS_PER_MINUTE, 60, redis=redis, guard=guard)

    @property
    def max_chars(self) -> int:
        return self.settings.max_message_chars

    async def check(self, conversation_id: str, text: str, newcomer: bool) -> Optional[str]:
        """None when the message may go on, else the German answer to it."""
        if newcomer and not await self.newcomers.allow("messenger-newcomers"):
            return BUSY
        if len(text) > self.max_chars:
            return TOO_LONG.format(limit=self.max_chars)
        if not await self.per_sender.allow(conversation_id):
            return TOO_FAST
        return None


def render(
    messages: Iterable[dict[str, Any]],
    hosts: Optional[frozenset[str]] = None,
    *,
    numbered: bool = True,
    line_break: str = "<br>",
) -> list[RenderedMessage]:
    """Bot messages for a messenger, links only to allowed hosts (rasa_runtime/channels/outbound.py)."""
    hosts = hosts if hosts is not None else outbound.allowed_hosts()
    safe = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        message = outbound.neutralise_message(message, hosts)
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("rows"), list):
            # Summary values are the citizen's own words: no link in them either.
            rows = [
                {k: outbound.neutralise_links(str(v), hosts) for k, v in row.items()}
                for row in custom["rows"]
                if isinstance(row, dict)
            ]
            message["custom"] = {**custom, "rows": rows}
        safe.append(message)
    return messenger_format.render_messages(
        safe, lambda url: outbound.url_allowed(url, hosts), numbered=numbered, line_break=line_break
    )


class MessengerOutput(OutputChannel):
    """One Rasa message → the messenger's messages: rendered here, delivered by the channel
    (``channel.deliver(recipient_id, rendered)``, ``channel.link_hosts``). ``numbered``: buttons
    as numbered options in the text (messengers without buttons of their own)."""

    numbered = True

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        for rendered in render([message], self.channel.link_hosts, numbered=self.numbered, line_break="\n"):
            await self.channel.deliver(recipient_id, rendered)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


async def fetch_receipt(url: str) -> Optional[bytes]:
    """The receipt PDF behind a signed link of the portal (only called for links on the
    allow-list), to send it as a file; None when it cannot be had (then the link stays)."""
    import aiohttp

    try:
        timeout = aiohttp.ClientTimeout(total=20)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            if resp.status != 200 or resp.content_type != "application/pdf":
                logger.warning("receipt not fetched (HTTP %s)", resp.status)
                return None
            data = await resp.content.read(MAX_RECEIPT_BYTES + 1)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        logger.warning("receipt not fetched (%s)", type(exc).__name__)
        return None
    return data if len(data) <= MAX_RECEIPT_BYTES else None
