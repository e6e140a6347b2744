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
    assert "2 von 8 Fragen" in texts(dispatcher)

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


def _blue_card_answers_up_to(last: str) -> dict:
    """The Blue Card answers in the form's order up to ``last``, the first list answered „nein“
    (its points then hold „nein“ by that answer, as the form validation stores them)."""
    from buergerassistent import form_conditions
    from buergerassistent.catalogue import default_catalogue

    proc = default_catalogue()["blaue_karte_eu"]
    data: dict = {}
    for f in proc.fields:
        if f.ask_if:
            data[f.name] = None if form_conditions.asked(f, data) else f.otherwise
        else:
            data[f.name] = "nein" if f.type == "yes_no" else "x"
        if f.name == last:
            break
    return {k: v for k, v in data.items() if v is not None}


def test_a_resumed_blue_card_draft_counts_the_steps_the_questions_count(draft_db, sender, dispatcher):
    # The questions say „Schritt n von 27“; the offer counted fields („9 von 41“ after the list).
    from buergerassistent import form_conditions
    from buergerassistent.catalogue import default_catalogue

    proc = default_catalogue()["blaue_karte_eu"]
    numbers, total = form_conditions.steps(proc)
    data = _blue_card_answers_up_to("leiharbeit")  # the first list and its last point
    step_of_list = numbers[[f.name for f in proc.fields].index("aufenthalt_besonderheiten")]
    drafts.default_store().save(sender, None, "blaue_karte_eu", data)
    run(drafts.ActionSessionStart(), tracker_for(sender), dispatcher)
    offer = texts(dispatcher)
    assert f"({step_of_list} von {total} Fragen beantwortet)" in offer, offer
    assert total < len(proc.fields) and f"von {len(proc.fields)}" not in offer
    assert "{" not in offer  # no placeholder left


def test_a_list_answered_yes_counts_only_when_its_points_are_answered(draft_db, sender):
    from buergerassistent.catalogue import default_catalogue
    from buergerassistent.drafts import progress

    proc = default_catalogue()["blaue_karte_eu"]
    data = _blue_card_answers_up_to("krankenversichert")
    before, total = progress(proc, data)
    assert progress(proc, {**data, "aufenthalt_besonderheiten": "ja"}) == (before, total)  # points open
    points = {f.name: "nein" for f in proc.fields if f.ask_if and f.ask_if[0] == "aufenthalt_besonderheiten"}
    assert progress(proc, {**data, "aufenthalt_besonderheiten": "ja", **points}) == (before + 1, total)
