"""A point of a Blue Card list corrected to „ja“ after the list got „nein“ (issue 21): the list
answer no longer holds, so the list reopens – its other points are asked one by one – and the
citizen is told what happens next, in the form and at the summary."""

from __future__ import annotations

import asyncio

from actions.dialogue import ActionChangeField
from actions.forms import CatalogueFormValidation
from buergerassistent import form_conditions
from buergerassistent.catalogue import default_catalogue

from .conftest import make_tracker, slot_events, texts

PROC = default_catalogue()["blaue_karte_eu"]
STATUS = [f.name for f in PROC.fields if f.ask_if and f.ask_if[0] == "aufenthalt_besonderheiten"]
SECURITY = [f.name for f in PROC.fields if f.ask_if and f.ask_if[0] == "sicherheitsfragen"]
# Everything answered, both lists „nein“ (their points „nein“ by that answer).
DONE = {f.name: ("nein" if f.type == "yes_no" else "x") for f in PROC.fields}


class ValidateBlueCard(CatalogueFormValidation):
    procedure_id = "blaue_karte_eu"


def followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


def test_a_point_corrected_to_yes_reopens_its_list_only():
    updates, reopened = form_conditions.after_change(PROC, DONE, {"duldung": "ja"})
    assert reopened == ["aufenthalt_besonderheiten"]
    assert updates["aufenthalt_besonderheiten"] == "ja"
    assert {n: updates[n] for n in STATUS if n != "duldung"} == dict.fromkeys(set(STATUS) - {"duldung"}, None)
    assert "duldung" not in updates and not set(SECURITY) & set(updates)
    # „nein“ to a point of a list answered „nein“ changes nothing; so does „ja“ when the list says „ja“.
    assert form_conditions.after_change(PROC, DONE, {"duldung": "nein"}) == ({}, [])
    yes_list = {**DONE, "aufenthalt_besonderheiten": "ja"}
    assert form_conditions.after_change(PROC, yes_list, {"duldung": "ja"}) == ({}, [])


def test_in_the_form_the_other_points_come_next_and_the_citizen_is_told(dispatcher):
    # „Duldung“ reopened by the change button, answered „ja“ now.
    slots = {**DONE, "duldung": "ja", "requested_slot": "duldung"}
    tracker = make_tracker(
        text="ja",
        slots=slots,
        active_loop="blaue_karte_eu_form",
        events=[{"event": "slot", "name": "duldung", "value": "ja"}],
    )
    events = slot_events(asyncio.run(ValidateBlueCard().run(dispatcher, tracker, {})))
    assert events["duldung"] == "ja" and events["aufenthalt_besonderheiten"] == "ja"
    assert all(events[n] is None for n in STATUS if n != "duldung")  # the form asks them next
    assert "Die anderen Punkte der Liste frage ich jetzt einzeln" in texts(dispatcher)


def test_at_the_summary_the_list_reopens_instead_of_the_summary(dispatcher):
    slots = {**DONE, "procedure": "blaue_karte_eu", "awaiting": "confirm_summary"}
    tracker = make_tracker(text="Duldung: ja", intent="change_field", slots=slots)
    events = asyncio.run(ActionChangeField().run(dispatcher, tracker, {}))
    slots_after = slot_events(events)
    assert slots_after["duldung"] == "ja" and slots_after["aufenthalt_besonderheiten"] == "ja"
    first_open = next(n for n in STATUS if n != "duldung")
    assert slots_after["requested_slot"] == first_open
    assert followups(events) == ["blaue_karte_eu_form"]
    shown = texts(dispatcher)
    assert "Die anderen Punkte der Liste frage ich jetzt einzeln" in shown
    assert "Danach zeige ich Ihnen alle Angaben noch einmal" in shown


def test_the_list_itself_corrected_to_yes_at_the_summary_asks_its_points(dispatcher):
    slots = {**DONE, "procedure": "blaue_karte_eu", "awaiting": "confirm_summary"}
    tracker = make_tracker(text="Aufenthalt Besonderheiten: ja", intent="change_field", slots=slots)
    events = asyncio.run(ActionChangeField().run(dispatcher, tracker, {}))
    slots_after = slot_events(events)
    assert all(slots_after[n] is None for n in STATUS)
    assert slots_after["requested_slot"] == STATUS[0] and followups(events) == ["blaue_karte_eu_form"]
    assert "Danach zeige ich Ihnen alle Angaben noch einmal" in texts(dispatcher)


def test_the_list_corrected_to_no_answers_its_points_no_and_shows_the_summary(dispatcher):
    slots = {**DONE, "procedure": "blaue_karte_eu", "awaiting": "confirm_summary"}
    # The list said „ja“ and „Duldung“ was the point that applies; now none applies.
    tracker_slots = {**slots, "aufenthalt_besonderheiten": "ja", "duldung": "ja"}
    tracker = make_tracker(text="Aufenthalt Besonderheiten: nein", intent="change_field", slots=tracker_slots)
    events = asyncio.run(ActionChangeField().run(dispatcher, tracker, {}))
    assert followups(events) == ["action_show_summary"]
    assert all(slot_events(events)[n] == "nein" for n in STATUS)


def test_the_form_reopened_on_the_same_message_does_not_report_the_change_twice(dispatcher):
    # Rasa runs the reopened form on the message that made the change („Duldung: ja“): the value
    # is already stored, so „geändert“ is not said again, and the next point is asked.
    first_open = next(n for n in STATUS if n != "duldung")
    slots = {**DONE, "duldung": "ja", "aufenthalt_besonderheiten": "ja", **dict.fromkeys(set(STATUS) - {"duldung"})}
    tracker = make_tracker(
        text="Duldung: ja",
        slots={**slots, first_open: "Duldung: ja", "requested_slot": first_open},
        active_loop="blaue_karte_eu_form",
        events=[{"event": "slot", "name": first_open, "value": "Duldung: ja"}],
    )
    events = slot_events(asyncio.run(ValidateBlueCard().run(dispatcher, tracker, {})))
    assert "geändert" not in texts(dispatcher)
    assert events.get(first_open) is None and events.get("duldung", "ja") == "ja"
