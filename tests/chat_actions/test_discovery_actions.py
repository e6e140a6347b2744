"""The chat's discovery at the start of a conversation: the decision of procedure_finder.decide,
also for messages NLU took for "abmelden" (logout) or "abbrechen" (cancel) when there is nothing
to log out or cancel."""

from __future__ import annotations

from support.trackers import make_tracker, slot_events, texts

from actions.dialogue import ActionCancelApplication, ActionDiscoverProcedure
from actions.login import ActionLogout


def choice_ids(dispatcher) -> list[str]:
    # Choice buttons carry /choose_procedure{"procedure": "<id>"}; "Nein" (/deny) carries none.
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    return [p.split('"')[3] for p in payloads if p.startswith("/choose_procedure")]


async def test_a_clear_request_is_answered(dispatcher):
    tracker = make_tracker("Ich brauche eine Meldebescheinigung", intent="request_procedure")
    events = await ActionDiscoverProcedure().run(dispatcher, tracker, {})
    assert slot_events(events)["procedure"] == "meldebescheinigung"


async def test_nothing_fits_says_so_with_115(dispatcher):
    tracker = make_tracker("xqzt vlorp wubbeldu", intent="request_procedure")
    await ActionDiscoverProcedure().run(dispatcher, tracker, {})
    assert "115" in texts(dispatcher)


async def test_cancel_with_nothing_running_looks_for_the_procedure(dispatcher):
    tracker = make_tracker("Ich finde meinen Personalausweis nicht mehr", intent="cancel")
    await ActionCancelApplication().run(dispatcher, tracker, {})
    assert "ausweis_verlust_melden" in choice_ids(dispatcher)
    assert "kein Antrag" not in texts(dispatcher)


async def test_cancel_with_nothing_running_and_nothing_found_says_so(dispatcher):
    tracker = make_tracker("abbrechen", intent="cancel")
    await ActionCancelApplication().run(dispatcher, tracker, {})
    assert "Es läuft gerade kein Antrag." in texts(dispatcher)


async def test_logout_without_login_hands_over_to_discovery(dispatcher):
    tracker = make_tracker("Motorrad abmelden", intent="logout", sender_id="never-logged-in")
    events = await ActionLogout().run(dispatcher, tracker, {})
    assert any(e.get("event") == "followup" and e.get("name") == "action_discover_procedure" for e in events)
    assert dispatcher.messages == []
    follow = await ActionDiscoverProcedure().run(dispatcher, tracker, {})
    assert "kfz_abmelden" in choice_ids(dispatcher) or slot_events(follow).get("procedure") == "kfz_abmelden"


async def test_logout_without_login_and_no_procedure_says_not_logged_in(dispatcher):
    tracker = make_tracker("abmelden bitte", intent="logout", sender_id="never-logged-in")
    await ActionDiscoverProcedure().run(dispatcher, tracker, {})
    text = texts(dispatcher)
    assert "nicht angemeldet" in text or "Leistungen" in text
