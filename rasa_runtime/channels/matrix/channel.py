"""Rasa's side of the Matrix channel: the Matrix connector (``python -m matrix_connector``) talks
to the homeserver (sync, decryption, invites, rendering, media) and hands each citizen message
to this channel; Rasa's answer goes back in the HTTP response.

    POST /webhooks/matrix/webhook
    Authorization: Bearer $MATRIX_CHANNEL_TOKEN
    {"sender": "<room key>", "message": "Hallo"}   ->   [{"recipient_id": "mx-<room key>", "text": …}, …]

It is the REST channel (``rasa_runtime/channels/rest``) with its own token and prefix, so it has
the same limits (size, rate per conversation), the same login-code confirmation
(``login_confirmation.intercept_text``), the same error answers and the same link filter. The
``sender`` is the connector's key of the Matrix room (one room = one conversation), never a
Matrix user id; the conversation is ``mx-<room key>``.

Proactive messages (``trigger_intent`` with ``output_channel=latest``: the delivery worker's
submission update, a failed login) use ``MatrixOutput``: it posts the bot messages to the
connector's internal endpoint ``POST $MATRIX_CONNECTOR_URL/internal/send`` with the same token.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from buergerassistent.settings import get_settings
from rasa_runtime.channels import outbound
from rasa_runtime.channels.rest.channel import RestChannel, RestCollector
from rasa_runtime.channels.webchat.settings import WebChatSettings

logger = logging.getLogger(__name__)

SENDER_PREFIX = "mx-"


class MatrixCollector(RestCollector):
    """The REST shape plus each message's language (``lang``: an action's ``utter_message(lang=…)``
    or a response's ``metadata: {lang: …}``): the connector says its own hints and notices in the
    conversation's language (issue 20)."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        before = len(self.messages)
        await super().send_response(recipient_id, message)
        nested = message.get("metadata")
        lang = message.get("lang") or (nested.get("lang") if isinstance(nested, dict) else None)
        if lang in ("de", "en"):
            for sent in self.messages[before:]:
                sent["lang"] = lang


class MatrixOutput(OutputChannel):
    """Bot messages outside a request: posted to the Matrix connector, which renders and sends
    them into the conversation's room."""

    def __init__(self, connector_url: str, token: str, link_hosts: Any) -> None:
        self.connector_url = connector_url.rstrip("/")
        self.token = token
        self.link_hosts = link_hosts

    @classmethod
    def name(cls) -> str:
        return "matrix"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        collector = MatrixCollector()
        await collector.send_response(recipient_id, message)
        messages = [outbound.neutralise_message(m, self.link_hosts) for m in collector.messages]
        await self.post(recipient_id, messages)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def post(self, recipient_id: str, messages: list[dict]) -> None:
        timeout = aiohttp.ClientTimeout(total=30)
        headers = {"Authorization": f"Bearer {self.token}"}
        body = {"conversation_id": recipient_id, "messages": messages}
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(f"{self.connector_url}/internal/send", json=body, headers=headers) as answer:
                if answer.status != 200:
                    # No conversation id, no text in the log.
                    logger.error("Matrix connector refused a proactive message: HTTP %s", answer.status)


class MatrixChannel(RestChannel):
    """Registered as ``rasa_runtime.channels.matrix.channel.MatrixChannel``; URL ``/webhooks/matrix/webhook``."""

    sender_prefix = SENDER_PREFIX
    collector_class = MatrixCollector

    @classmethod
    def name(cls) -> str:
        return "matrix"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(self, token: Optional[str] = None, settings: Optional[WebChatSettings] = None) -> None:
        token = token if token is not None else (get_settings().matrix_channel_token or "")
        if not token:
            raise ValueError("MATRIX_CHANNEL_TOKEN fehlt: der Matrix-Kanal braucht ein Token")
        super().__init__(token=token, settings=settings)
        self.connector_url = get_settings().matrix_connector_url

    def get_output_channel(self) -> Optional[OutputChannel]:
        if not self.connector_url:
            return None
        return MatrixOutput(self.connector_url, self.token, self.link_hosts)

    def blueprint(self, on_new_message: Any) -> Blueprint:
        bp = Blueprint("matrix_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return bp


__all__ = ["MatrixChannel", "MatrixCollector", "MatrixOutput", "UserMessage"]
