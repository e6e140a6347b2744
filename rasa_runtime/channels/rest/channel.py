"""Rasa's REST channel, made safe for development and tests.

    POST /webhooks/rest/webhook
    Authorization: Bearer $REST_CHANNEL_TOKEN
    {"sender": "erika", "message": "Hallo"}   ->   [{"recipient_id": "rest-erika", "text": "…"}, …]

Differences from Rasa's ``rest`` channel (which has none of this):
  * exists only when ``REST_CHANNEL_TOKEN`` is set (bot/settings.py ``credentials()``), and every
    request must carry that token (compared in constant time);
  * every sender is prefixed with ``rest-``, so a REST caller can never write into a web chat
    conversation (``wc-…``) or any other channel's;
  * the web chat's limits: message size (``WEBCHAT_MAX_MESSAGE_CHARS``), messages per sender and
    time (``WEBCHAT_RATE_LIMIT``); the request body is read only up to a bound;
  * bad input gets a JSON error with a German message: ``{"error": code, "message": text}``;
  * a message that fails is logged with the exception type only, never with its text (Rasa's
    channel logs the text, and in JSON logging the traceback with its local variables);
  * ``input_channel`` and ``metadata`` are not taken from the caller (only the web chat's
    ``display_text`` and ``lang``); no streaming;
  * an optional ``message_id`` (1 to 64 of ``A-Z a-z 0-9 _ -``, the same when the client sends
    the message again) makes a resend after a lost reply safe: a message whose id the
    conversation already holds is answered with that turn's saved answer and not processed again
    (rasa_runtime/idempotency.py). Without it a resend is a new message.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from buergerassistent.settings import get_settings
from rasa_runtime import idempotency
from rasa_runtime.channels import login_confirmation, outbound, request_body
from rasa_runtime.channels.webchat.limits import RateLimiter
from rasa_runtime.channels.webchat.settings import WebChatSettings

logger = logging.getLogger(__name__)

SENDER_PREFIX = "rest-"
MAX_SENDER_CHARS = 128
# Metadata a caller may pass (as the web chat widget does): key -> longest value.
METADATA_KEYS = {"display_text": 200, "lang": 8}

UNAUTHORIZED = "Bitte melden Sie sich mit dem Token des REST-Kanals an (Kopfzeile „Authorization: Bearer …“)."
INVALID_JSON = "Die Anfrage ist kein gültiges JSON-Objekt."
INVALID_SENDER = f"Bitte geben Sie unter „sender“ eine Kennung mit 1 bis {MAX_SENDER_CHARS} Zeichen an."
INVALID_MESSAGE = "Bitte geben Sie unter „message“ einen Text an."
INVALID_MESSAGE_ID = idempotency.INVALID_MESSAGE_ID
TOO_LONG = "Ihre Nachricht ist zu lang. Bitte schreiben Sie höchstens {limit} Zeichen auf einmal."
TOO_LARGE = "Die Anfrage ist zu groß."
TOO_FAST = (
    "Sie haben sehr viele Nachrichten kurz hintereinander geschickt. "
    "Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal."
)
FAILED = "Entschuldigung, da ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal."


def _error(status: int, code: str, message: str, headers: Optional[dict] = None) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status, headers=headers)


def token_matches(header: Optional[str], token: str) -> bool:
    if not header or not token:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _valid_sender(sender: Any) -> bool:
    return (
        isinstance(sender, str)
        and 0 < len(sender) <= MAX_SENDER_CHARS
        and sender.isprintable()
        and not sender.isspace()
    )


def _clean_metadata(raw: Any) -> dict:
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if k in METADATA_KEYS and isinstance(v, str) and len(v) <= METADATA_KEYS[k]}


class RestCollector(CollectingOutputChannel):
    """One bot message = one JSON object: a structured part (``custom``: summary table, case
    number) stays with its text instead of arriving as a second, text-less message."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if message.get("custom") and message.get("text"):
            await self._persist_message(
                self._message(
                    recipient_id,
                    text=message["text"],
                    buttons=message.get("buttons") or message.get("quick_replies"),
                    custom=message["custom"],
                )
            )
            return
        await super().send_response(recipient_id, message)


class RestChannel(RestInput):
    """Registered as ``rasa_runtime.channels.rest.channel.RestChannel``; URL ``/webhooks/rest/webhook``."""

    # Every conversation of this channel is "<prefix><sender>" (subclasses take their own prefix).
    sender_prefix = SENDER_PREFIX
    collector_class = RestCollector  # the Matrix channel keeps each message's language

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(self, token: Optional[str] = None, settings: Optional[WebChatSettings] = None) -> None:
        token = token if token is not None else (get_settings().rest_channel_token or "")
        if not token:
            # Never an open channel: without a token it must not be registered at all.
            raise ValueError("REST_CHANNEL_TOKEN fehlt: der REST-Kanal braucht ein Token")
        self.token = token
        self.settings = settings or WebChatSettings()
        self.limiter = RateLimiter(*self.settings.rate_limit, redis=self.settings.redis_client())
        # Links in answers only to the portal's own and the catalogue's hosts (rasa_runtime/channels/outbound.py).
        self.link_hosts = outbound.allowed_hosts()

    def _answer(self, collector: CollectingOutputChannel) -> HTTPResponse:
        return response.json([outbound.neutralise_message(m, self.link_hosts) for m in collector.messages])

    @property
    def max_body_bytes(self) -> int:
        # JSON may escape every character as \uXXXX (6 bytes); plus sender and metadata.
        return self.settings.max_message_chars * 6 + 4096

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("rest_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return bp

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not token_matches(request.headers.get("authorization"), self.token):
            return _error(401, "unauthorized", UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
        body = await request_body.read_limited(request, self.max_body_bytes)
        if body is None:
            return _error(413, "too_large", TOO_LARGE)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "invalid_json", INVALID_JSON)
        if not isinstance(data, dict):
            return _error(400, "invalid_json", INVALID_JSON)
        sender, text = data.get("sender"), data.get("message")
        if not _valid_sender(sender):
            return _error(400, "invalid_sender", INVALID_SENDER)
        if not isinstance(text, str) or not text.strip():
            return _error(400, "invalid_message", INVALID_MESSAGE)
        try:
            message_id = idempotency.client_message_id(data.get("message_id"))
        except ValueError:
            return _error(400, "invalid_message_id", INVALID_MESSAGE_ID)
        limit = self.settings.max_message_chars
        if len(text) > limit:
            return _error(413, "message_too_long", TOO_LONG.format(limit=limit))
        sender_id = self.sender_prefix + sender
        if not await self.limiter.allow(sender_id):
            return _error(429, "rate_limited", TOO_FAST, {"Retry-After": str(self.settings.rate_limit[1])})
        collector = self.collector_class()
        # A login code typed here confirms a login for this conversation only (as in the web chat).
        agent = getattr(request.app.ctx, "agent", None)
        if await login_confirmation.intercept_text(agent, sender_id, text, collector):
            return self._answer(collector)
        message = UserMessage(
            text,
            collector,
            sender_id,
            input_channel=self.name(),
            message_id=message_id,  # None: Rasa makes one
            metadata=_clean_metadata(data.get("metadata")),
        )
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            # The caller went away or the server stops: no text, no locals in the log.
            logger.warning("REST message not completed: cancelled")
            raise
        except Exception as exc:  # noqa: BLE001 - any failure: a reason code, never the message
            logger.error("REST message failed: %s", type(exc).__name__)
            return _error(500, "processing_failed", FAILED)
        return self._answer(collector)
