"""Structured logs with a request id that follows a message (issue 18).

* The Rasa process gives every citizen message a request id (``rasa_runtime/outage.py``, stored
  in the message's metadata, so it is in the tracker Rasa sends to the action server).
* The action server takes it from the tracker (``actions/server.py``), the portal client sends it
  as ``X-Request-ID`` (``buergerassistent/submission/portal_client.py``), the portal backend takes
  it from there. ``REQUEST_ID`` holds it for the code that runs for that request.
* ``BA_LOG_FORMAT=json``: one JSON object per line (``time``, ``level``, ``logger``, ``message``,
  ``request_id``, ``service``, and ``error`` = the exception's type). Never personal data: only
  what our log calls write (which never name citizens' texts or conversation ids), and of an
  exception only its type, not its message or traceback locals.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Optional

from aiohttp import web

REQUEST_ID: ContextVar[Optional[str]] = ContextVar("ba_request_id", default=None)
HEADER = "X-Request-ID"
METADATA_KEY = "request_id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid(value: object) -> Optional[str]:
    """``value`` if it is a well-formed request id (from outside: never trusted further)."""
    return value if isinstance(value, str) and _VALID.match(value) else None


def headers() -> dict[str, str]:
    """The header for outgoing calls in this request, if there is a request id."""
    request_id = REQUEST_ID.get()
    return {HEADER: request_id} if request_id else {}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
            "service": self.service,
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure(service: str) -> None:
    """Every handler of the root logger gets the request id; with ``BA_LOG_FORMAT=json`` JSON lines."""
    from buergerassistent.settings import get_settings

    root = logging.getLogger()
    as_json = get_settings().ba_log_format == "json"
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if as_json:
            handler.setFormatter(JsonFormatter(service))


@web.middleware
async def request_id_middleware(request: web.Request, handler):  # noqa: ANN001 - aiohttp handler
    """aiohttp services: the caller's ``X-Request-ID`` (well-formed only) for this request's logs."""
    token = REQUEST_ID.set(valid(request.headers.get(HEADER)))
    try:
        return await handler(request)
    finally:
        REQUEST_ID.reset(token)
