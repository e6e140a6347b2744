"""Units of the Matrix channel and connector, without processes: the Rasa channel's token and
prefix, its output channel posting to the connector's real HTTP app, the room store, the
launcher starting the connector only with its settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from channels.test_channel_guards import Rasa, body_of, request

from bot.settings import MATRIX_CHANNEL, Settings, credentials
from buergerassistent.messenger_format import Option
from matrix_connector.app import make_app
from matrix_connector.store import RoomStore
from rasa_runtime.channels.matrix.channel import MatrixChannel, MatrixOutput
from rasa_runtime.channels.webchat.settings import WebChatSettings

TOKEN = "matrix-token-" + "y" * 20


def test_matrix_channel_never_exists_without_a_token(monkeypatch):
    monkeypatch.delenv("MATRIX_CHANNEL_TOKEN", raising=False)
    with pytest.raises(ValueError):
        MatrixChannel.from_credentials(None)
    monkeypatch.setenv("MATRIX_CHANNEL_TOKEN", TOKEN)
    assert MatrixChannel.from_credentials(None).token == TOKEN


async def test_matrix_conversations_are_prefixed_mx_and_need_the_matrix_token():
    channel = MatrixChannel(token=TOKEN, settings=WebChatSettings(rate_limit=(3, 60)))
    rasa = Rasa()
    refused = await channel.receive(request({"sender": "ab" * 16, "message": "Hallo"}, "rest-token"), rasa)
    assert refused.status == 401 and rasa.messages == []
    resp = await channel.receive(request({"sender": "ab" * 16, "message": "Hallo"}, TOKEN), rasa)
    assert resp.status == 200
    assert body_of(resp) == [{"recipient_id": "mx-" + "ab" * 16, "text": "Guten Tag!"}]
    (message,) = rasa.messages
    assert message.sender_id == "mx-" + "ab" * 16 and message.input_channel == "matrix"


async def test_matrix_channel_has_the_rate_limit_with_a_german_message():
    channel = MatrixChannel(token=TOKEN, settings=WebChatSettings(rate_limit=(2, 60)))
    rasa = Rasa()
    for _ in range(2):
        assert (await channel.receive(request({"sender": "cd" * 16, "message": "Hallo"}, TOKEN), rasa)).status == 200
    resp = await channel.receive(request({"sender": "cd" * 16, "message": "Hallo"}, TOKEN), rasa)
    assert resp.status == 429 and "Nachrichten" in body_of(resp)["message"]


class RecordingConnector:
    """The connector's delivery, recorded (the HTTP app in front of it is the real one)."""

    def __init__(self):
        import asyncio

        self.ready = asyncio.Event()
        self.ready.set()
        self.delivered: list[tuple[str, list]] = []

    async def deliver_to_conversation(self, conversation_id, messages):
        if conversation_id != "mx-" + "ef" * 16:
            return False
        self.delivered.append((conversation_id, messages))
        return True


async def test_proactive_messages_reach_the_connector_only_with_the_token():
    connector = RecordingConnector()
    async with TestClient(TestServer(make_app(connector, TOKEN))) as client:
        url = str(client.make_url("")).rstrip("/")
        output = MatrixOutput(url, TOKEN, ["portal.example.de"])
        await output.send_response(
            "mx-" + "ef" * 16,
            {
                "text": "Ihr Antrag ist da. [Beleg](https://evil.example/x)",
                "buttons": [{"title": "Ja", "payload": "/affirm"}],
            },
        )
        ((conversation, messages),) = connector.delivered
        assert conversation == "mx-" + "ef" * 16
        assert "evil.example" not in json.dumps(messages)  # the channel's link filter ran
        assert messages[0]["buttons"][0]["payload"] == "/affirm"
        wrong = await client.post("/internal/send", json={"conversation_id": "x", "messages": []})
        assert wrong.status == 401
        unknown = await client.post(
            "/internal/send",
            json={"conversation_id": "mx-00", "messages": []},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert unknown.status == 404 and (await unknown.json())["error"] == "unknown_conversation"


def test_room_store_keeps_options_and_never_shows_the_room_id(tmp_path):
    store = RoomStore(tmp_path / "rooms.db", b"k" * 32)
    key = store.room_key("!abc:example.de")
    assert len(key) == 32 and "abc" not in key
    store.set_options("!abc:example.de", [Option(1, "Ja", "/affirm"), Option(2, "Nein", "/deny")])
    store.close()
    again = RoomStore(tmp_path / "rooms.db", b"k" * 32)
    assert again.room_id(key) == "!abc:example.de"
    assert [o.payload for o in again.options("!abc:example.de")] == ["/affirm", "/deny"]


def test_the_matrix_channel_is_started_only_with_the_matrix_settings(tmp_path):
    plain = Settings(var_dir=tmp_path, matrix_homeserver_url=None, matrix_user_id=None, matrix_password=None)
    assert not plain.matrix_enabled and MATRIX_CHANNEL not in credentials(plain)
    configured = Settings(
        var_dir=tmp_path,
        matrix_homeserver_url="https://matrix.example.de",
        matrix_user_id="@assistent:example.de",
        matrix_password="secret",
    )
    assert configured.matrix_enabled and configured.matrix_channel_token
    assert MATRIX_CHANNEL in credentials(configured)


def test_one_user_can_open_only_a_few_direct_chats_per_window():
    from matrix_connector.connector import INVITE_WINDOW_S, INVITES_PER_USER, ConnectorConfig, MatrixConnector

    connector = MatrixConnector(ConnectorConfig("http://hs", "@bot:hs", "http://rasa", "t", Path("/nonexistent"), "k"))
    assert all(connector._invite_allowed("@flood:hs", now=float(i)) for i in range(INVITES_PER_USER))
    assert not connector._invite_allowed("@flood:hs", now=float(INVITES_PER_USER))
    assert connector._invite_allowed("@someone-else:hs", now=float(INVITES_PER_USER))
    assert connector._invite_allowed("@flood:hs", now=INVITE_WINDOW_S + INVITES_PER_USER)


def test_new_direct_chats_over_all_users_are_capped_per_minute():
    from matrix_connector.connector import NEW_ROOMS_PER_MINUTE, ConnectorConfig, MatrixConnector

    connector = MatrixConnector(ConnectorConfig("http://hs", "@bot:hs", "http://rasa", "t", Path("/nonexistent"), "k"))
    assert all(connector._new_room_allowed(now=i / 1000) for i in range(NEW_ROOMS_PER_MINUTE))
    assert not connector._new_room_allowed(now=1.0)
    assert connector._new_room_allowed(now=60.0)  # the first of the minute has left the window


def test_room_store_reads_from_memory_and_writes_only_changes(tmp_path):
    store = RoomStore(tmp_path / "rooms.db", b"k" * 32)
    options = [Option(1, "Ja", "/affirm")]
    store.set_options("!abc:example.de", options)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert store.known("!abc:example.de") and store.options("!abc:example.de") == options
    store.set_options("!abc:example.de", options)  # unchanged: nothing written
    assert statements == []
    store.set_options("!abc:example.de", [])
    assert any(s.startswith("UPDATE") for s in statements)
    store.forget("!abc:example.de")
    assert not store.known("!abc:example.de") and store.options("!abc:example.de") == []


async def test_connector_stage_times_need_the_token_and_hold_durations_only():
    from matrix_connector.timings import StageTimes

    connector = RecordingConnector()
    connector.timings = StageTimes()
    for ms in (10, 20, 30, 40):
        connector.timings.add("adapter", ms / 1000)
    async with TestClient(TestServer(make_app(connector, TOKEN))) as client:
        assert (await client.get("/internal/stats")).status == 401
        answer = await client.get("/internal/stats?reset=1", headers={"Authorization": f"Bearer {TOKEN}"})
        stages = (await answer.json())["stages"]
        assert stages["adapter"]["count"] == 4 and stages["adapter"]["p50_ms"] in (20.0, 30.0)
        again = await client.get("/internal/stats", headers={"Authorization": f"Bearer {TOKEN}"})
        assert (await again.json())["stages"] == {}
