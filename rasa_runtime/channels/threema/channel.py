"""Threema: the assistant behind a Threema Gateway ID in end-to-end mode (PyPI ``threema.gateway``).

    POST /webhooks/threema/callback          (the gateway calls it, form-encoded)
    from, to, messageId, date, nonce, box, mac [, nickname]   ->   200

Switched on by ``THREEMA_GATEWAY_ID``, ``THREEMA_API_SECRET`` and ``THREEMA_PRIVATE_KEY``
(``bot/settings.py: credentials``). Per the gateway's documentation (https://gateway.threema.ch/
en/developer/api):

* ``mac`` = HMAC-SHA256 over ``from to messageId date nonce box`` (concatenated) with the API
  secret, hex; compared in constant time, a wrong or missing MAC gets 401 and nothing is read;
  ``to`` must be our Gateway ID;
* ``box`` is decrypted by the library (``threema.gateway.e2e.Message.receive``: our private key
  and the sender's public key, fetched from the gateway's ``/pubkeys`` and cached);
* replies are encrypted to the sender's public key and sent with ``/send_e2e``
  (``threema.gateway.e2e.TextMessage``);
* a messageId seen before is acknowledged and not handled again (the gateway retries callbacks);
* conversation id ``th-<Threema ID>``; buttons become numbered options ("1. Ja") the citizen
  answers with the number, an ordinal or the words (``messenger_format``); links as plain
  addresses, only to allowed hosts; bold as Threema's ``*bold*``; the receipt PDF as an encrypted
  file message;
* images, files, voice, location: a polite German answer; delivery receipts are ignored;
* the web chat's limits, a cap on new conversations, login codes confirmed like in REST.
No network call at start-up: the gateway connection is opened with the first message.
"""

from __future__ import annotations

import asyncio
import binascii
import datetime
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Optional
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from buergerassistent.messenger_format import RenderedMessage
from buergerassistent.settings import get_settings
from rasa_runtime.channels import login_confirmation, messenger, outbound, request_body

logger = logging.getLogger(__name__)

SENDER_PREFIX = "th-"
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT = 3500  # Threema's limit for a text message (bytes of UTF-8; we cut characters conservatively)
MAC_FIELDS = ("from", "to", "messageId", "date", "nonce", "box")
_THREEMA_ID = re.compile(r"^[0-9A-Z*][0-9A-Z]{7}$")


def conversation_id(threema_id: str) -> str:
    return f"{SENDER_PREFIX}{threema_id}"


def threema_id_of(recipient_id: str) -> str:
    if not recipient_id.startswith(SENDER_PREFIX):
        raise ValueError("not a Threema conversation")
    return recipient_id[len(SENDER_PREFIX) :]


def callback_mac(secret: str, fields: dict[str, str]) -> str:
    """The MAC the gateway puts on a callback (documented: HMAC-SHA256 with the API secret)."""
    message = "".join(fields[name] for name in MAC_FIELDS).encode("ascii")
    return hmac.new(secret.encode("ascii"), message, hashlib.sha256).hexdigest()


def mac_valid(secret: str, fields: dict[str, str]) -> bool:
    try:
        expected = callback_mac(secret, fields)
    except (KeyError, UnicodeError):
        return False
    return hmac.compare_digest(expected.encode(), str(fields.get("mac") or "").lower().encode())


def threema_text(rendered: RenderedMessage) -> str:
    """Plain text with Threema's own markup for bold (``*word*``)."""
    text = rendered.plain
    if rendered.case_number and rendered.case_number in text:
        text = text.replace(rendered.case_number, f"*{rendered.case_number}*", 1)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text


class ThreemaOutput(messenger.MessengerOutput):
    """Sends the assistant's messages to one Threema ID, encrypted; buttons as numbered options."""

    @classmethod
    def name(cls) -> str:
        return "threema"


class ThreemaChannel(InputChannel):
    """Registered as ``rasa_runtime.channels.threema.channel.ThreemaChannel``."""

    @classmethod
    def name(cls) -> str:
        return "threema"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(
        self,
        gateway_id: Optional[str] = None,
        api_secret: Optional[str] = None,
        private_key: Optional[str] = None,
        api_url: Optional[str] = None,
        limits: Optional[messenger.Limits] = None,
    ) -> None:
        settings = get_settings()
        self.gateway_id = gateway_id if gateway_id is not None else (settings.threema_gateway_id or "")
        self.api_secret = api_secret if api_secret is not None else (settings.threema_api_secret or "")
        self.private_key = private_key if private_key is not None else (settings.threema_private_key or "")
        if not (self.gateway_id and self.api_secret and self.private_key):
            raise ValueError(
                "THREEMA_GATEWAY_ID, THREEMA_API_SECRET und THREEMA_PRIVATE_KEY fehlen: "
                "der Threema-Kanal braucht alle drei"
            )
        from threema.gateway.key import Key

        # Checked now (a wrong key stops Rasa at start, with the variable's name), used later.
        try:
            Key.decode(self.private_key, Key.Type.private)
        except Exception as exc:
            raise ValueError("THREEMA_PRIVATE_KEY ist kein privater Schlüssel (private:<64 Hex-Zeichen>)") from exc
        self.api_url = (api_url or settings.threema_api_url).rstrip("/")
        self.limits = limits or messenger.Limits()
        self.replays = messenger.ReplayGuard()
        self.conversations = messenger.Conversations()
        self.link_hosts = outbound.allowed_hosts()
        self._connection: Any = None
        self.agent: Any = None

    def get_output_channel(self) -> OutputChannel:
        return ThreemaOutput(self)

    def connection(self) -> Any:
        """The gateway connection, created on first use (inside the running event loop)."""
        if self._connection is None:
            from threema.gateway import Connection

            conn = Connection(self.gateway_id, self.api_secret, key=self.private_key)
            # The library's addresses are fixed to msgapi.threema.ch; THREEMA_API_URL replaces the base.
            conn.urls = {
                name: url.replace("https://msgapi.threema.ch", self.api_url) for name, url in conn.urls.items()
            }
            self._connection = conn
        return self._connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    # ------------------------------------------------------------------ output

    async def deliver(self, recipient_id: str, rendered: RenderedMessage) -> None:
        from threema.gateway import e2e

        if rendered.options:
            self.conversations.offered(recipient_id, rendered.options)
        text = threema_text(rendered)
        if not text:
            return
        message = e2e.TextMessage(self.connection(), to_id=threema_id_of(recipient_id), text=text)
        await message.send()
        for file in rendered.files:
            await self._send_file(recipient_id, file.url, file.filename)

    async def _send_file(self, recipient_id: str, url: str, filename: str) -> None:
        """The receipt PDF as an end-to-end encrypted file message (blob uploaded encrypted);
        where that fails the link in the text stays the way to it."""
        from threema.gateway import e2e
        from threema.gateway.exception import GatewayError

        data = await messenger.fetch_receipt(url)
        if data is None:
            return
        message = e2e.FileMessage(
            self.connection(),
            to_id=threema_id_of(recipient_id),
            file_content=data,
            mime_type="application/pdf",
            file_name=filename,
            caption="Eingangsbestätigung",
        )
        try:
            await message.send()
        except GatewayError as exc:  # e.g. the app cannot receive files
            logger.warning("Threema: receipt not sent as a file (%s)", type(exc).__name__)

    async def _say(self, recipient_id: str, text: str) -> None:
        try:
            await self.get_output_channel().send_text_message(recipient_id, text)
        except Exception as exc:  # noqa: BLE001 - the gateway may be down; nothing else to do
            logger.warning("Threema: answer not sent (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ input

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("threema_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/callback", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return bp

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        body = await request_body.read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return response.text("too large", status=413)
        try:
            parsed = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            return response.text("bad request", status=400)
        fields = {k: v[0] for k, v in parsed.items() if len(v) == 1}
        if not mac_valid(self.api_secret, fields):
            return response.text("unauthorized", status=401)
        if fields.get("to") != self.gateway_id or not _THREEMA_ID.match(fields.get("from") or ""):
            return response.text("bad request", status=400)
        if not self.replays.first_time(f"{fields['from']}:{fields['messageId']}"):
            return response.text("")  # the gateway's retry of a callback we handled
        self.agent = getattr(request.app.ctx, "agent", None)
        try:
            await self._handle(fields, on_new_message)
        except asyncio.CancelledError:
            logger.warning("Threema callback not completed: cancelled")
            raise
        except Exception as exc:  # noqa: BLE001 - a reason code, never the message
            logger.error("Threema callback failed: %s", type(exc).__name__)
        return response.text("")

    async def _decrypt(self, fields: dict[str, str]) -> Any:
        from threema.gateway import e2e
        from threema.gateway.exception import MessageError

        try:
            parameters = {
                "from_id": fields["from"],
                "message_id": binascii.unhexlify(fields["messageId"]),
                "date": datetime.datetime.fromtimestamp(float(fields["date"])),
            }
            nonce, box = binascii.unhexlify(fields["nonce"]), binascii.unhexlify(fields["box"])
        except (binascii.Error, ValueError, KeyError):
            return None
        try:
            return await e2e.Message.receive(self.connection(), parameters, nonce, box)
        except MessageError as exc:
            # Also message types the library does not know (e.g. newer ones): not text.
            logger.info("Threema message not read: %s", type(exc).__name__)
            return False

    async def _handle(self, fields: dict[str, str], on_new_message: Callable) -> None:
        from threema.gateway import e2e

        recipient = conversation_id(fields["from"])
        message = await self._decrypt(fields)
        if message is None:
            return
        # (The library's classes are wrapped by a proxy: compare the message type, not the class.)
        kind = getattr(message, "type", None)
        if kind == e2e.Message.Type.delivery_receipt:
            return  # "received"/"read" of our own messages: nothing to answer
        if kind != e2e.Message.Type.text_message or not (getattr(message, "text", "") or "").strip():
            await self._say(recipient, messenger.NOT_TEXT)
            return
        text = message.text
        newcomer = not self.conversations.known(recipient)
        refusal = await self.limits.check(recipient, text, newcomer)
        if refusal:
            await self._say(recipient, refusal)
            return
        self.conversations.seen(recipient)
        output = self.get_output_channel()
        if await login_confirmation.intercept_text(self.agent, recipient, text, output):
            return
        metadata: dict[str, str] = {}
        chosen = self.conversations.payload_for(recipient, text)
        if chosen is not None:
            text, metadata = chosen.payload, {"display_text": chosen.title[:200]}
        self.conversations.clear(recipient)
        try:
            await on_new_message(UserMessage(text, output, recipient, input_channel=self.name(), metadata=metadata))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            logger.error("Threema message failed: %s", type(exc).__name__)
            await self._say(recipient, messenger.FAILED)
