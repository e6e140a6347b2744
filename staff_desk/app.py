"""HTTP API of the staff desk for the action server (Bearer ``STAFF_DESK_TOKEN``).

``POST /cases`` ``{"conversation_id", "card"}`` → ``{"case_id", "state"}``;
``POST /cases/{case_id}/messages`` ``{"text"}`` → ``{"status": forwarded|queued|closed}``;
``POST /conversations/{conversation_id}/close`` → ``{"case_id"}``; ``GET /health``.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from buergerassistent import metrics
from buergerassistent.http_security import security_headers_middleware
from staff_desk.desk import Desk

logger = logging.getLogger(__name__)

MAX_TEXT = 4000


def _authorised(request: web.Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text="JSON erwartet") from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="JSON-Objekt erwartet")
    return data


def make_app(desk: Desk, token: str) -> web.Application:
    @web.middleware
    async def auth(request: web.Request, handler):
        # /metrics checks BA_METRICS_TOKEN itself (buergerassistent/metrics.py), as in every service.
        if request.path not in ("/health", "/metrics") and not _authorised(request, token):
            raise web.HTTPUnauthorized(text="Token fehlt oder ist falsch")
        return await handler(request)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def open_case(request: web.Request) -> web.Response:
        data = await _json(request)
        conversation_id, card = data.get("conversation_id"), data.get("card")
        if not isinstance(conversation_id, str) or not conversation_id or not isinstance(card, dict):
            raise web.HTTPBadRequest(text="conversation_id und card erwartet")
        case = await desk.open_case(conversation_id, card)
        return web.json_response({"case_id": case.case_id, "state": case.state})

    async def message(request: web.Request) -> web.Response:
        data = await _json(request)
        text = data.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise web.HTTPBadRequest(text="text erwartet")
        status = await desk.citizen_message(request.match_info["case_id"], text.strip())
        return web.json_response({"status": status})

    async def close(request: web.Request) -> web.Response:
        case_id = await desk.close_for_conversation(request.match_info["conversation_id"])
        return web.json_response({"case_id": case_id})

    app = web.Application(middlewares=[security_headers_middleware, auth], client_max_size=64 * 1024)
    app.router.add_get("/health", health)
    app.router.add_post("/cases", open_case)
    app.router.add_post("/cases/{case_id}/messages", message)
    app.router.add_post("/conversations/{conversation_id}/close", close)
    metrics.aiohttp_route(app)  # GET /metrics with BA_METRICS_TOKEN
    return app
