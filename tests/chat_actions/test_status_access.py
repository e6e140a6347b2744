"""Issue 13 item 7: the status action shows applications only to the conversation that
submitted them or to the logged-in citizen they belong to (tracker fixtures, no backend: a
recording fake client shows that a refused case number is never even looked up)."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from actions import submission_actions as chat_actions
from buergerassistent.submission.outbox import DELIVERED

from .conftest import make_tracker, slot_events, texts

MINE = "BA-2026-7F3K9Q2M"
THEIRS = "BA-2026-AB12CD34"
ACCOUNT = "BA-2026-ZZ99YY88"


def _entry(case_number: str) -> SimpleNamespace:
    return SimpleNamespace(
        state=DELIVERED,
        case_number=case_number,
        procedure="meldebescheinigung",
        confirmed_at=datetime.now(timezone.utc),
    )


class FakeOutbox:
    def __init__(self, by_conversation):
        self.by_conversation = by_conversation

    def for_conversation(self, conversation_id):
        return self.by_conversation.get(conversation_id, [])


class FakeClient:
    looked_up: list[str] = []
    listed_for: list[str] = []

    async def status_history(self, case_number):
        FakeClient.looked_up.append(case_number)
        return {
            "case_number": case_number,
            "procedure": "meldebescheinigung",
            "status": "abgelehnt",
            "history": [
                {"status": "eingegangen", "at": "2026-03-01T09:30:00Z", "note": None},
                {"status": "abgelehnt", "at": "2026-03-02T09:30:00Z", "note": "Geheimer Hinweis"},
            ],
        }

    async def list_applications(self, citizen):
        FakeClient.listed_for.append(citizen)
        return [{"case_number": ACCOUNT}] if citizen == "bPK2:mine" else []


@pytest.fixture
def world(monkeypatch):
    FakeClient.looked_up, FakeClient.listed_for = [], []
    outbox = FakeOutbox({"me": [_entry(MINE)], "victim": [_entry(THEIRS)]})
    monkeypatch.setattr(chat_actions, "outbox", lambda: outbox)
    monkeypatch.setattr(chat_actions, "PortalClient", FakeClient)
    logged_in = {}
    monkeypatch.setattr(
        chat_actions.login,
        "identity_for",
        lambda tracker: (
            (SimpleNamespace(subject=logged_in[tracker.sender_id]), "active")
            if tracker.sender_id in logged_in
            else (None, "none")
        ),
    )
    return logged_in


async def run(dispatcher, text, sender="me"):
    tracker = make_tracker(text=text, intent="ask_status", sender_id=sender)
    return await chat_actions.ActionApplicationStatus().run(dispatcher, tracker, {})


async def test_a_case_number_of_another_conversation_is_refused_and_never_looked_up(world, dispatcher):
    events = await run(dispatcher, f"Wie ist der Stand von {THEIRS}?")
    reply = texts(dispatcher)
    assert "Den Stand des Antrags BA-2026-AB12CD34 kann ich Ihnen hier nicht zeigen" in reply
    assert "zuständigen Stelle" in reply and "Geheimer Hinweis" not in reply
    assert FakeClient.looked_up == [] and events == []


async def test_a_case_number_in_the_case_number_slot_proves_nothing(world, dispatcher):
    tracker = make_tracker(
        text="Wie ist der Stand?", intent="ask_status", sender_id="stranger", slots={"case_number": THEIRS}
    )
    await chat_actions.ActionApplicationStatus().run(dispatcher, tracker, {})
    assert FakeClient.looked_up == [] and THEIRS not in texts(dispatcher)


async def test_own_case_number_typed_or_not(world, dispatcher):
    events = await run(dispatcher, f"Stand {MINE.lower()}")
    assert FakeClient.looked_up == [MINE] and MINE in texts(dispatcher)
    assert slot_events(events) == {"case_number": MINE}


async def test_mixed_own_and_foreign_shows_only_own(world, dispatcher):
    await run(dispatcher, f"Stand {MINE} und {THEIRS}")
    assert FakeClient.looked_up == [MINE]
    assert "Den Stand des Antrags BA-2026-AB12CD34 kann ich Ihnen hier nicht zeigen" in texts(dispatcher)


async def test_the_logged_in_citizens_own_applications_count_as_hers(world, dispatcher):
    world["me"] = "bPK2:mine"
    await run(dispatcher, f"Stand {ACCOUNT}")
    assert FakeClient.listed_for == ["bPK2:mine"] and FakeClient.looked_up == [ACCOUNT]
    # ... but another citizen's are still refused after login.
    world["intruder"] = "bPK2:intruder"
    FakeClient.looked_up = []
    await run(dispatcher, f"Stand {ACCOUNT}", sender="intruder")
    assert FakeClient.looked_up == []
