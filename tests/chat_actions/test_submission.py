"""Submitting from the chat to the real reference portal backend (in-process, SQLite)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from support.databases import closed_port_url
from support.forms import MELDEBESCHEINIGUNG
from support.portal_auth import ASSISTANT, AUTHORITY

from actions.dialogue import ActionHandleAffirm, ActionShowSummary, ActionSubmitApplication
from portal_backend.app import create_app

from .conftest import make_tracker, slot_events, texts

FILLED = {"procedure": "meldebescheinigung", **MELDEBESCHEINIGUNG}


@pytest.fixture(autouse=True)
def outbox_database(tmp_path, monkeypatch):
    # Submissions go through the outbox (buergerassistent/submission): one SQLite file per test.
    monkeypatch.setenv("OUTBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'outbox.db'}")
    monkeypatch.setenv("SUBMISSION_INLINE_BUDGET_S", "3")


@pytest.fixture
async def backend(tmp_path, monkeypatch):
    server = TestServer(create_app(f"sqlite:///{tmp_path / 'portal.db'}"))
    await server.start_server()
    monkeypatch.setenv("PORTAL_BACKEND_URL", str(server.make_url("")))
    yield server
    await server.close()


async def test_summary_sets_an_idempotency_key_and_asks_to_confirm(dispatcher):
    events = await ActionShowSummary().run(dispatcher, make_tracker(slots=FILLED), {})
    slots = slot_events(events)
    assert slots["awaiting"] == "confirm_summary"
    assert len(slots["application_id"]) >= 32
    assert "Erika" in texts(dispatcher)


async def test_affirm_after_summary_submits(dispatcher, monkeypatch):
    monkeypatch.setenv("BA_LOGIN_REQUIRED", "0")  # the path without login (local demo)
    tracker = make_tracker(slots={**FILLED, "awaiting": "confirm_summary", "application_id": "k1"})
    events = await ActionHandleAffirm().run(dispatcher, tracker, {})
    assert events == [{"event": "followup", "name": "action_submit_application", "timestamp": None}]


async def test_submit_returns_the_backends_case_number(backend, dispatcher):
    tracker = make_tracker(slots={**FILLED, "application_id": "key-1"})
    events = await ActionSubmitApplication().run(dispatcher, tracker, {})
    case_number = slot_events(events)["case_number"]
    assert case_number and case_number in texts(dispatcher)
    # Form data is cleared from the conversation once the backend holds it.
    assert slot_events(events)["vorname"] is None
    async with backend_client(backend, AUTHORITY) as session:
        async with session.get(f"/api/v1/applications/{case_number}") as resp:
            stored = await resp.json()
    assert stored["data"]["geburtsdatum"] == "1964-08-12"


async def test_the_same_application_submitted_twice_is_stored_once(backend, dispatcher):
    tracker = make_tracker(slots={**FILLED, "application_id": "key-twice"})
    first = slot_events(await ActionSubmitApplication().run(dispatcher, tracker, {}))
    second = slot_events(await ActionSubmitApplication().run(dispatcher, tracker, {}))
    assert first["case_number"] == second["case_number"]


async def test_backend_down_saves_the_application_and_says_so(monkeypatch, dispatcher):
    # The outbox holds it (tests/submission covers the later delivery); the chat says so.
    monkeypatch.setenv("PORTAL_BACKEND_URL", closed_port_url())
    tracker = make_tracker(slots={**FILLED, "application_id": "key-down"})
    events = await ActionSubmitApplication().run(dispatcher, tracker, {})
    slots = slot_events(events)
    # Saved: the citizen is asked whether to hear about status changes (issue 17).
    assert slots["awaiting"] == "status_consent" and "case_number" not in slots
    assert "nicht erreichbar" in texts(dispatcher)
    assert "gespeichert" in texts(dispatcher)


async def test_backend_rejection_reopens_the_form_at_the_bad_field(backend, dispatcher):
    tracker = make_tracker(slots={**FILLED, "art_meldebescheinigung": "beglaubigt", "application_id": "key-bad"})
    events = await ActionSubmitApplication().run(dispatcher, tracker, {})
    slots = slot_events(events)
    assert slots["art_meldebescheinigung"] is None
    assert "vorname" not in slots
    assert any(e.get("event") == "followup" and e["name"] == "meldebescheinigung_form" for e in events)
    assert "Art der Bescheinigung" in texts(dispatcher)


def backend_client(server: TestServer, headers=ASSISTANT):
    import aiohttp

    # As the assistant by default: the backend's API needs the service token.
    return aiohttp.ClientSession(base_url=str(server.make_url("")), headers=headers)
