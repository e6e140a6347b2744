"""Telegram: the assistant as a Telegram bot (webhook), built on aiogram 2.15 (pinned by Rasa).

    POST /webhooks/telegram/webhook
    X-Telegram-Bot-Api-Secret-Token: $TELEGRAM_WEBHOOK_SECRET
    <a Telegram Update as JSON>  ->  200 (answers go out through the Bot API)

Switched on by ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_WEBHOOK_SECRET`` (``bot/settings.py:
credentials``). Unlike Rasa's stock ``telegram`` channel it makes **no network call at start-up**
(the webhook is registered once by the operator, ``docs/messengers.md``), and:

* every update must carry the secret header (compared in constant time), else 401;
* the body is read only up to a bound; an update id seen before is ignored (Telegram repeats
  updates it thinks were not delivered);
* only private chats: in a group the bot says why it does not answer there (no citizen data in
  groups); conversation id ``tg-<chat id>``;
* voice, photo, sticker, document …: a polite German answer, nothing reaches Rasa;
* buttons become an inline keyboard; a pressed button (callback query) is answered
  (``answerCallbackQuery``) and sent to Rasa as that button's payload; typed "2" / "die
  zweite" / the title choose the same way (``messenger_format.match_option``); a button whose
  payload is a web address (the login) becomes a URL button;
* links only to allowed hosts (``outbound.py``); the receipt PDF is fetched from the portal and
  sent as a document;
* the web chat's limits (``WEBCHAT_MAX_MESSAGE_CHARS``, ``WEBCHAT_RATE_LIMIT`` per chat) and a cap
  on new conversations per minute;
* a typed login code confirms a login for this chat only (``login_confirmation``);
* proactive messages (delivery results, status changes: ``trigger_intent`` with
  ``output_channel=latest``) reach the chat through :meth:`get_output_channel`.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from aiogram import Bot, types
from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from buergerassistent.messenger_format import RenderedMessage
from buergerassistent.settings import get_settings
from rasa_runtime.channels import login_confirmation, messenger, outbound, request_body

logger = logging.getLogger(__name__)

SENDER_PREFIX = "tg-"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT = 4096  # Telegram's limit per message
# Message kinds that are not text (aiogram content types).
_NOT_TEXT_HINT = "Bitte schreiben Sie mir Ihr Anliegen in Worten."


def conversation_id(chat_id: int) -> str:
    return f"{SENDER_PREFIX}{chat_id}"


def chat_id_of(recipient_id: str) -> int:
    if not recipient_id.startswith(SENDER_PREFIX):
        raise ValueError("not a Telegram conversation")
    return int(recipient_id[len(SENDER_PREFIX) :])


def secret_matches(given: Optional[str], secret: str) -> bool:
    return bool(given) and bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


class TelegramOutput(messenger.MessengerOutput):
    """Sends the assistant's messages to one Telegram chat through the Bot API: one Rasa message
    is one Telegram message (text with its buttons as an inline keyboard)."""

    numbered = False

    @classmethod
    def name(cls) -> str:
        return "telegram"


class TelegramChannel(InputChannel):
    """Registered as ``rasa_runtime.channels.telegram.channel.TelegramChannel``."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(
        self,
        token: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        api_url: Optional[str] = None,
        limits: Optional[messenger.Limits] = None,
    ) -> None:
        settings = get_settings()
        self.token = token if token is not None else (settings.telegram_bot_token or "")
        self.webhook_secret = webhook_secret if webhook_secret is not None else (settings.telegram_webhook_secret or "")
        if not self.token or not self.webhook_secret:
            raise ValueError("TELEGRAM_BOT_TOKEN und TELEGRAM_WEBHOOK_SECRET fehlen: der Telegram-Kanal braucht beide")
        self.api_url = (api_url or settings.telegram_api_url).rstrip("/")
        # aiogram checks the token's form here; it opens its HTTP session only on the first call.
        try:
            self.bot = Bot(self.token, server=TelegramAPIServer.from_base(self.api_url))
        except Exception as exc:  # aiogram's ValidationError: not "<digits>:<letters>"
            raise ValueError("TELEGRAM_BOT_TOKEN hat nicht die Form <Zahl>:<Zeichen> (von @BotFather)") from exc
        self.limits = limits or messenger.Limits()
        self.replays = messenger.ReplayGuard()
        self.conversations = messenger.Conversations()
        self.link_hosts = outbound.allowed_hosts()
        self.agent: Any = None

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self)

    # ------------------------------------------------------------------ output

    async def deliver(self, recipient_id: str, rendered: RenderedMessage) -> None:
        chat_id = chat_id_of(recipient_id)
        rows = [
            [types.InlineKeyboardButton(text=o.title[:64], callback_data=self.conversations.key_for(recipient_id, o))]
            for o in rendered.options
        ]
        rows += [[types.InlineKeyboardButton(text=link.title[:64], url=link.url)] for link in rendered.links]
        markup = types.InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
        if rendered.options:
            self.conversations.offered(recipient_id, rendered.options)
        text = rendered.html or "…"
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 1] + "…"
        await self.bot.send_message(
            chat_id, text, parse_mode="HTML", reply_markup=markup, disable_web_page_preview=True
        )
        for file in rendered.files:
            await self._send_receipt(chat_id, file.url, file.filename)

    async def _send_receipt(self, chat_id: int, url: str, filename: str) -> None:
        """The receipt PDF as a document (Telegram could not fetch our portal's link itself)."""
        data = await messenger.fetch_receipt(url)
        if data is not None:
            await self.bot.send_document(chat_id, types.InputFile(io.BytesIO(data), filename=filename))

    async def _say(self, recipient_id: str, text: str) -> None:
        try:
            await self.get_output_channel().send_text_message(recipient_id, text)
        except Exception as exc:  # noqa: BLE001 - the Bot API may be down; nothing else to do
            logger.warning("Telegram: answer not sent (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ input

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("telegram_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return bp

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not secret_matches(request.headers.get(SECRET_HEADER.lower()), self.webhook_secret):
            return response.json({"error": "unauthorized"}, status=401)
        body = await request_body.read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return response.json({"error": "too_large"}, status=413)
        try:
            update = types.Update(**json.loads(body))
        except (ValueError, TypeError, UnicodeDecodeError):
            return response.json({"error": "invalid_update"}, status=400)
        if update.update_id is None:
            return response.json({"error": "invalid_update"}, status=400)
        if not self.replays.first_time(update.update_id):
            # Telegram repeats an update it thinks was not delivered: handled once only.
            return response.json({"status": "duplicate"})
        self.agent = getattr(request.app.ctx, "agent", None)
        try:
            if update.callback_query:
                await self._callback(update.callback_query, on_new_message)
            elif update.message:
                await self._message(update.message, on_new_message)
        except asyncio.CancelledError:
            logger.warning("Telegram update not completed: cancelled")
            raise
        except Exception as exc:  # noqa: BLE001 - a reason code, never the message
            logger.error("Telegram update failed: %s", type(exc).__name__)
        # Always 200 for an authentic update: else Telegram sends it again and again.
        return response.json({"status": "ok"})

    async def _message(self, message: types.Message, on_new_message: Callable) -> None:
        chat = message.chat
        recipient = conversation_id(chat.id)
        if chat.type != "private":
            await self._say(recipient, messenger.GROUP)
            return
        if message.content_type != types.ContentType.TEXT or not message.text:
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
        if text.strip() == "/start":
            text = "Hallo"  # Telegram's first message of every chat
        await self._to_rasa(text, output, recipient, metadata, on_new_message)

    async def _callback(self, query: types.CallbackQuery, on_new_message: Callable) -> None:
        message = query.message
        # Answered at once: the citizen's client shows a spinner until then.
        try:
            await self.bot.answer_callback_query(query.id)
        except Exception as exc:  # noqa: BLE001
            logger.warning("Telegram: callback not answered (%s)", type(exc).__name__)
        if message is None or message.chat.type != "private":
            return
        recipient = conversation_id(message.chat.id)
        option = self.conversations.option_for_key(recipient, query.data or "")
        if option is None:
            await self._say(recipient, messenger.EXPIRED_CHOICE)
            return
        refusal = await self.limits.check(recipient, option.payload, False)
        if refusal:
            await self._say(recipient, refusal)
            return
        await self._to_rasa(
            option.payload, self.get_output_channel(), recipient, {"display_text": option.title[:200]}, on_new_message
        )

    async def _to_rasa(
        self, text: str, output: OutputChannel, recipient: str, metadata: dict, on_new_message: Callable
    ) -> None:
        # A new turn: the options of the previous one no longer apply.
        self.conversations.clear(recipient)
        try:
            await on_new_message(UserMessage(text, output, recipient, input_channel=self.name(), metadata=metadata))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a reason code, never the message
            logger.error("Telegram message failed: %s", type(exc).__name__)
            await self._say(recipient, messenger.FAILED)
