"""Metrics inside the Rasa process (buergerassistent/metrics.py lists them all).

``install`` (rasa_runtime/process.py) counts NLU results around ``MessageProcessor.parse_message``;
messages, latency and store outages are counted in rasa_runtime/outage.py. ``MetricsChannel``
serves them at ``GET /webhooks/metrics/`` with ``Authorization: Bearer $BA_METRICS_TOKEN``;
bot/settings.py ``credentials()`` registers it only when the token is set.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from buergerassistent import metrics
from buergerassistent.settings import get_settings

FALLBACK_INTENT = "nlu_fallback"


def install() -> None:
    """Idempotent: wrap ``parse_message`` once."""
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.parse_message
    if getattr(original, "_ba_metrics", False):
        return

    @functools.wraps(original)
    async def parse_message(self: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        parsed = await original(self, message, *args, **kwargs)
        name = ((parsed or {}).get("intent") or {}).get("name")
        metrics.NLU_MESSAGES.labels(result="fallback" if name == FALLBACK_INTENT else "intent").inc()
        return parsed

    parse_message._ba_metrics = True  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message


class MetricsChannel(InputChannel):
    """Registered as ``rasa_runtime.metrics.MetricsChannel``; URL ``/webhooks/metrics/``."""

    @classmethod
    def name(cls) -> str:
        return "metrics"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token if token is not None else get_settings().ba_metrics_token
        if not self.token:
            raise ValueError("BA_METRICS_TOKEN fehlt: /metrics bleibt ohne Token aus")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("ba_metrics", __name__)

        @bp.route("/", methods=["GET"])
        async def scrape(request: Request) -> HTTPResponse:
            if not metrics.authorized(request.headers.get("authorization"), self.token):
                return response.empty(status=401, headers={"WWW-Authenticate": "Bearer"})
            body, content_type = metrics.exposition()
            return response.raw(body, content_type=content_type)

        return bp
