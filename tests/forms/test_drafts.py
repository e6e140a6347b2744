"""Drafts ("später weitermachen"): stored server-side (SQLite here; PostgreSQL when DATABASE_URL
is set), offered again at the next session start, found by web session or by login."""

from __future__ import annotations

import asyncio
import time

from actions import drafts
from actions.dialogue import ActionCancelApplication
from buergerassistent import identity
from buergerassistent.drafts import DraftStore
from tests.chat_actions.conftest import make_tracker, slot_events, texts


def run(action, tracker, dispatcher):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def tracker_for(sender, **kwargs):
    t = make_tracker(**kwargs)
    t.sender_id = sender
    return t


def test_store_keeps_one_draft_per_citizen(draft_db, sender):
    store = DraftStore(draft_db)
    store.save(sender, None, "meldebescheinigung", {"vorname": "Erika"})
    store.save(sender, None, "sperrmuell", {"vorname": "Erika", "plz": "80331"})
    found = store.find(sender)
    assert found.procedure == "sperrmuell" and found.data == {"vorname": "Erika", "plz": "80331"}
    store.delete(sender)
    assert store.find(sender) is None


def test_old_drafts_expire(draft_db, sender, monkeypatch):
    store = DraftStore(draft_db)
    store.save(sender, None, "meldebescheinigung", {"vorname": "Erika"})
    monkeypatch.setattr(time, "time", lambda: 10**10)
    assert store.find(sender) is None


def test_save_then_offer_at_session_start_then_resume(draft_db, sender, dispatcher):
    slots = {"vorname": "Erika", "nachname": "Mustermann", "requested_slot": "geburtsdatum"}
    events = run(
        drafts.ActionSaveDraft(), tracker_for(sender, slots=slots, active_loop="meldebescheinigung_form"), dispatcher
    )
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert slot_events(events)["vorname"] is None  # the conversation forgets, the store keeps
    assert "gespeichert" in texts(dispatcher)

    dispatcher.messages.clear()
    events = run(drafts.ActionSessionStart(), tracker_for(sender), dispatcher)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    assert slot_events(events)["awaiting"] == "resume_draft"
    assert "2 von 8 Angaben" in texts(dispatcher)

    dispatcher.messages.clear()
    events = run(drafts.ActionResumeDraft(), tracker_for(sender), dispatcher)
    slots = slot_events(events)
    assert slots["vorname"] == "Erika" and slots["geburtsdatum"] is None
    assert events[-1] == {"event": "followup", "name": "meldebescheinigung_form", "timestamp": None}
    assert drafts.default_store().find(sender) is None


def test_a_logged_in_citizen_finds_the_draft_from_another_conversation(draft_db, sender, dispatcher):
    # Real identity module (buergerassistent/identity.py) with its own temporary database.
    ident = identity.Identity(level="substantiell", source="oidc", subject=f"bpk-{sender}")
    identity.store_identity(f"{sender}-laptop", ident)
    identity.store_identity(f"{sender}-phone", ident)
    run(
        drafts.ActionSaveDraft(),
        tracker_for(f"{sender}-laptop", slots={"vorname": "Erika"}, active_loop="meldebescheinigung_form"),
        dispatcher,
    )
    assert "Nutzerkonto" in texts(dispatcher)
    dispatcher.messages.clear()
    events = run(drafts.ActionSessionStart(), tracker_for(f"{sender}-phone"), dispatcher)
    assert slot_events(events)["procedure"] == "meldebescheinigung"


def test_no_draft_no_offer(draft_db, sender, dispatcher):
    events = run(drafts.ActionSessionStart(), tracker_for(sender), dispatcher)
    assert dispatcher.messages == [] and [e["event"] for e in events] == ["session_started", "action"]


def test_cancel_after_the_offer_deletes_the_draft(draft_db, sender, dispatcher):
    drafts.default_store().save(sender, None, "meldebescheinigung", {"vorname": "Erika"})
    tracker = tracker_for(sender, slots={"awaiting": "resume_draft", "procedure": "meldebescheinigung"})
    run(ActionCancelApplication(), tracker, dispatcher)
    assert "gelöscht" in texts(dispatcher)
    assert drafts.default_store().find(sender) is None
