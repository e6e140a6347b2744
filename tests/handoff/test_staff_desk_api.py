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


class _Rooms:
    queue_room = "!queue:test"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, room_id: str, text: str) -> None:
        self.sent.append((room_id, text))

    async def private_room(self, name: str, member: str) -> str:
        return f"!{name}:test"


class _Conversations:
    def __init__(self) -> None:
        self.triggered: list[tuple[str, str]] = []

    async def trigger(self, conversation_id, intent, entities=None) -> bool:
        self.triggered.append((conversation_id, intent))
        return True


async def test_a_reply_to_a_deleted_conversation_is_not_dropped_silently(tmp_path):
    # The citizen deleted the chat ("Gespräch löschen" deletes the case row): the member of staff
    # who writes on in the case room is told the message did not arrive.
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    rooms, conversations = _Rooms(), _Conversations()
    desk = Desk(store, rooms=rooms, conversations=conversations, agents={"@agent:test"}, timeout_s=60)
    case = await desk.open_case("wc-1", {"procedure": "meldebescheinigung"})
    assert await desk.take(case.case_id, "@agent:test")
    room = next(r for r, _ in reversed(rooms.sent) if r != rooms.queue_room)
    await desk.on_message(room, "@agent:test", "Guten Tag, wie kann ich helfen?")
    assert conversations.triggered == [("wc-1", "EXTERNAL_handoff_taken"), ("wc-1", "EXTERNAL_staff_message")]
    store.forget_conversation("wc-1")
    await desk.on_message(room, "@agent:test", "Sind Sie noch da?")
    assert conversations.triggered[-1] == ("wc-1", "EXTERNAL_staff_message") and len(conversations.triggered) == 2
    assert rooms.sent[-1] == (
        room,
        "Dieser Fall ist nicht mehr offen: Er wurde zurückgegeben, beendet oder von der Person gelöscht. Ihre Nachricht wurde nicht zugestellt.",
    )
    # Someone who is not staff gets nothing.
    count = len(rooms.sent)
    await desk.on_message(room, "@someone:test", "hallo")
    assert len(rooms.sent) == count


async def test_a_call_back_delivered_later_is_announced_by_case_number_and_read_as_the_authority(tmp_path):
    """A call-back request the delivery worker sends after the chat answered: the desk finds its
    case number in the outbox, announces only that, and shows the request (read from the real
    portal backend with the authority's token) to listed staff only, after logging the access.
    The desk reads no other application by its number."""
    from support.forms import MELDEBESCHEINIGUNG
    from support.portal_auth import API_TOKEN, AUTHORITY_TOKEN

    from buergerassistent.handoff import callback
    from buergerassistent.submission import delivery
    from buergerassistent.submission.backends import ReferencePortalBackend
    from buergerassistent.submission.outbox import Outbox
    from buergerassistent.submission.portal_client import PortalClient
    from portal_backend.app import create_app
    from staff_desk.portal import AuthorityPortal

    portal = TestServer(create_app(f"sqlite:///{tmp_path / 'portal.db'}"))
    await portal.start_server()
    base = str(portal.make_url("")).rstrip("/")
    try:
        store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
        outbox = Outbox.from_url(f"sqlite:///{tmp_path / 'outbox.db'}")
        rooms = _Rooms()
        desk = Desk(
            store,
            rooms=rooms,
            conversations=_Conversations(),
            agents={"@anna:test"},
            timeout_s=60,
            portal=AuthorityPortal(base, AUTHORITY_TOKEN),
            outbox=outbox,
        )
        slots = {
            "callback_name": "Erika Mustermann",
            "callback_contact": "erika@example.org",
            "callback_topic": "Frage zum Bescheid",
            "callback_consent": "ja",
        }
        outbox.enqueue("rueckrufbitte-1", callback.PROCEDURE_ID, callback.application(slots, "Hundesteuer"), "wc-1")
        store.note_callback("rueckrufbitte-1", "wc-1", "Hundesteuer", None)
        await desk.announce_callbacks()
        assert rooms.sent == []  # not delivered yet: no number to announce
        backend = ReferencePortalBackend(PortalClient(base_url=base, api_token=API_TOKEN))
        entry = await delivery.attempt(outbox, backend, "rueckrufbitte-1")
        assert entry.state == "delivered"
        number = entry.case_number
        await desk.announce_callbacks()
        assert rooms.sent == [
            (rooms.queue_room, f"Neue Rückrufbitte {number} zu „Hundesteuer“. Anzeigen: !rückruf {number}")
        ]
        await desk.announce_callbacks()
        assert len(rooms.sent) == 1  # announced once

        await desk.on_message(rooms.queue_room, "@mallory:test", f"!rückruf {number}")
        assert "Nur freigeschaltete" in rooms.sent[-1][1] and store.audit_for("wc-1") == []
        await desk.on_message(rooms.queue_room, "@anna:test", f"!rückruf {number}")
        room, details = rooms.sent[-1]
        assert room == f"!Rückrufbitte {number}:test"
        assert details.startswith(f"Rückrufbitte {number} vom ")
        assert "Name: Erika Mustermann" in details and "Erreichbar unter: erika@example.org" in details
        assert "Anliegen: Frage zum Bescheid" in details and "Leistung im Chat: Hundesteuer" in details
        assert [(e["staff"], e["what"], e["case_id"]) for e in store.audit_for("wc-1")] == [
            ("@anna:test", "read", number)
        ]

        # An ordinary application's number shows nothing: the desk reads only call-back requests.
        receipt = await PortalClient(base_url=base, api_token=API_TOKEN).submit(
            "meldebescheinigung",
            MELDEBESCHEINIGUNG,
            "antrag-1",
        )
        await desk.on_message(rooms.queue_room, "@anna:test", f"!rückruf {receipt.case_number}")
        assert rooms.sent[-1] == (rooms.queue_room, f"Rückrufbitte {receipt.case_number} gibt es nicht.")
    finally:
        await portal.close()


def test_staff_desk_refuses_to_start_in_production_without_a_shared_database(monkeypatch, capsys):
    """A desk on its default SQLite file in a container would lose open cases and the audit log."""
    from staff_desk.__main__ import main

    for name, value in {
        "BA_ENV": "production",
        "BA_SECRET_KEY": "0" * 64,
        "STAFF_DESK_TOKEN": "desk-token",
        "STAFF_MATRIX_HOMESERVER": "http://127.0.0.1:9",
        "STAFF_MATRIX_USER": "@desk:example.org",
        "STAFF_MATRIX_ACCESS_TOKEN": "matrix-token",
        "STAFF_MATRIX_QUEUE_ROOM": "!queue:example.org",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HANDOFF_DATABASE_URL", raising=False)
    assert main([]) == 2
    assert "HANDOFF_DATABASE_URL" in capsys.readouterr().err
