"""The staff desk's HTTP API authenticates its caller (the action server, Bearer
STAFF_DESK_TOKEN) and refuses malformed requests before anything reaches Matrix or the store.
The desk behind it is not reached in these cases (it has no rooms here); the flows with a real
Synapse are in test_handoff_e2e.py."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from buergerassistent.handoff.store import HandoffStore
from staff_desk.app import make_app
from staff_desk.desk import Desk

TOKEN = "desk-token-" + "x" * 20


async def _client(tmp_path) -> TestClient:
    desk = Desk(
        HandoffStore(f"sqlite:///{tmp_path / 'h.db'}"), rooms=None, conversations=None, agents=set(), timeout_s=60
    )
    client = TestClient(TestServer(make_app(desk, TOKEN)))
    await client.start_server()
    return client


async def test_every_route_but_health_needs_the_token(tmp_path):
    client = await _client(tmp_path)
    try:
        assert (await client.get("/health")).status == 200
        body = {"conversation_id": "c1", "card": {}}
        for headers in ({}, {"Authorization": "Bearer falsch"}, {"Authorization": TOKEN}):
            assert (await client.post("/cases", json=body, headers=headers)).status == 401
            assert (await client.post("/cases/H-1/messages", json={"text": "x"}, headers=headers)).status == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.post("/cases", data="kein json", headers=auth)).status == 400
        assert (await client.post("/cases", json={"conversation_id": "", "card": {}}, headers=auth)).status == 400
        assert (await client.post("/cases/H-1/messages", json={"text": "  "}, headers=auth)).status == 400
        unknown = await client.post("/cases/H-UNBEKANNT/messages", json={"text": "Hallo"}, headers=auth)
        assert unknown.status == 200 and (await unknown.json()) == {"status": "closed"}
    finally:
        await client.close()
