"""Structured logs and the request id (buergerassistent/logs.py): the Rasa side tags each message,
the portal client passes it on, the portal backend takes only a well-formed one, and a JSON line
carries it with an exception's type only. End to end (Rasa → action server → portal backend, JSON
log files): tests/ops/test_store_outages.py."""

from __future__ import annotations

import json
import logging
import sys

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from buergerassistent import logs
from buergerassistent.submission.portal_client import PortalClient
from rasa_runtime.outage import tag_request


def test_each_message_gets_a_request_id_kept_in_its_metadata():
    message = UserMessage("Hallo", CollectingOutputChannel(), "erika", metadata=None)
    request_id = tag_request(message)
    assert message.metadata[logs.METADATA_KEY] == request_id == logs.REQUEST_ID.get()
    forged = UserMessage("Hallo", CollectingOutputChannel(), "erika", metadata={"request_id": "x\n{evil}"})
    assert tag_request(forged) != "x\n{evil}"  # not well-formed: replaced
    given = UserMessage("Hallo", CollectingOutputChannel(), "erika", metadata={"request_id": "abc-123"})
    assert tag_request(given) == "abc-123"


def test_json_line_has_the_request_id_and_only_the_exception_type():
    formatter = logs.JsonFormatter("test")
    token = logs.REQUEST_ID.set("r-1")
    try:
        try:
            raise ValueError("Erika Mustermann, Marienplatz 8")
        except ValueError:
            record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed: %s", ("kind",), None)
            record.exc_info = sys.exc_info()
        entry = json.loads(formatter.format(record))
    finally:
        logs.REQUEST_ID.reset(token)
    assert entry["request_id"] == "r-1" and entry["message"] == "failed: kind" and entry["error"] == "ValueError"
    assert "Erika" not in json.dumps(entry)


async def test_portal_client_sends_it_and_the_backend_middleware_takes_it():
    seen = {}

    async def handler(request: web.Request) -> web.Response:
        seen["header"] = request.headers.get(logs.HEADER)
        seen["context"] = logs.REQUEST_ID.get()
        return web.json_response({"items": []})

    app = web.Application(middlewares=[logs.request_id_middleware])
    app.router.add_get("/api/v1/applications", handler)
    async with TestClient(TestServer(app)) as client:
        portal = PortalClient(base_url=str(client.make_url("")), api_token="t", attempts=1)
        token = logs.REQUEST_ID.set("abc-123")
        try:
            await portal._request("GET", "/api/v1/applications")
        finally:
            logs.REQUEST_ID.reset(token)
        assert seen == {"header": "abc-123", "context": "abc-123"}
        await client.get("/api/v1/applications", headers={logs.HEADER: "bad id with spaces"})
        assert seen["context"] is None
