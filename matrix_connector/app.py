"""The connector's HTTP side: ``GET /health`` and ``POST /internal/send`` (proactive messages
from Rasa's Matrix channel, ``Authorization: Bearer $MATRIX_CHANNEL_TOKEN``).

    POST /internal/send  {"conversation_id": "mx-…", "messages": [bot messages as Rasa sends them]}
    -> 200 {"status": "sent"} | 401 | 400 | 404 (no such Matrix conversation)
    GET /internal/stats[?reset=1]  (same token) -> 200 {"stages": {stage: {count, p50_ms, p95_ms, mean_ms}}}
                                    where the connector's time goes per message (``timings.py``)
    GET /metrics  (``Authorization: Bearer $BA_METRICS_TOKEN``, like every service; without the
                  setting no route) -> Prometheus text: messages, invites, stage histograms
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from buergerassistent import metrics
from matrix_connector.connector import MatrixConnector

logger = logging.getLogger(__name__)
MAX_BODY = 256 * 1024


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def make_app(connector: MatrixConnector, token: str) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        if not connector.ready.is_set():
            return web.json_response({"status": "starting"}, status=503)
        return web.json_response({"status": "ok"})

    def authorised(request: web.Request) -> bool:
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

    async def stats(request: web.Request) -> web.Response:
        if not authorised(request):
            return _error(401, "unauthorized", "Bitte mit dem Token des Matrix-Kanals anmelden.")
        summary = connector.timings.summary()
        if request.query.get("reset") == "1":
            connector.timings.reset()
        return web.json_response({"stages": summary})

    async def send(request: web.Request) -> web.Response:
        if not authorised(request):
            return _error(401, "unauthorized", "Bitte mit dem Token des Matrix-Kanals anmelden.")
        if request.content_length and request.content_length > MAX_BODY:
            return _error(413, "too_large", "Die Anfrage ist zu groß.")
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _error(400, "invalid_json", "Die Anfrage ist kein gültiges JSON-Objekt.")
        if not isinstance(data, dict) or not isinstance(data.get("conversation_id"), str):
            return _error(400, "invalid_request", "conversation_id fehlt.")
        messages = data.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return _error(400, "invalid_request", "messages muss eine Liste von Nachrichten sein.")
        if not await connector.deliver_to_conversation(data["conversation_id"], messages):
            return _error(404, "unknown_conversation", "Dieses Gespräch gibt es im Matrix-Kanal nicht.")
        return web.json_response({"status": "sent"})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/health", health)
    app.router.add_post("/internal/send", send)
    app.router.add_get("/internal/stats", stats)
    metrics.aiohttp_route(app)  # GET /metrics with BA_METRICS_TOKEN (not the channel token)
    return app
