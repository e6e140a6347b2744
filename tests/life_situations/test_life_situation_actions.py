"""The chat actions for life situations, run directly on trackers (no Rasa)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts

from actions.dialogue import ActionDiscoverProcedure
from actions.life_situations import step_payload
from buergerassistent.catalogue import default_catalogue
from buergerassistent.life_situations import checklist, default_life_situations


async def _run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher, events


def _after_checklist(situation_id: str, text: str, intent: str = "inform"):
    """A tracker whose last bot message with buttons is the checklist of ``situation_id``."""
    cl = checklist(default_life_situations().get(situation_id), default_catalogue())
    buttons = [{"title": f"{i.number}. {i.title}", "payload": step_payload(i.procedure)} for i in cl.items]
    events = [
        {"event": "user", "text": "…"},
        {"event": "bot", "text": "Liste", "data": {"buttons": buttons}},
        {"event": "user", "text": text},
    ]
    return make_tracker(text=text, intent=intent, events=events), cl


async def test_a_life_event_gets_the_checklist_with_one_button_per_step_in_order():
    dispatcher, events = await _run(
        ActionDiscoverProcedure(), make_tracker("wir bekommen ein Baby", "request_procedure")
    )
    (message,) = dispatcher.messages
    steps = default_life_situations().get("baby").steps
    assert [b["payload"] for b in message["buttons"]] == [step_payload(s.procedure) for s in steps]
    assert message["buttons"][0]["title"].startswith("1. ")
    assert "Herzlichen Glückwunsch" in message["text"]
    assert slot_events(events) == {"awaiting": None}


async def test_a_death_gets_a_word_of_sympathy_first():
    dispatcher, _ = await _run(ActionDiscoverProcedure(), make_tracker("mein Vater ist gestorben", "request_procedure"))
    assert "Beileid" in dispatcher.messages[0]["text"]
    assert "1. Sterbeurkunde beantragen" in dispatcher.messages[1]["text"]


def test_the_word_of_sympathy_is_said_once_per_turn():
    from actions.life_situations import show_checklist

    cl = checklist(default_life_situations().get("todesfall"), default_catalogue())
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text=cl.situation.sympathy)  # said already earlier in the turn
    show_checklist(dispatcher, cl)
    assert [m["text"] for m in dispatcher.messages].count(cl.situation.sympathy) == 1
    assert dispatcher.messages[-1]["buttons"]


async def test_a_named_procedure_is_presented_directly():
    dispatcher, events = await _run(
        ActionDiscoverProcedure(), make_tracker("Elterngeld beantragen", "request_procedure")
    )
    assert "Elterngeld" in texts(dispatcher)
    assert slot_events(events)["procedure"] == "elterngeld"
    assert not any(m.get("buttons") and "1. " in m["buttons"][0]["title"] for m in dispatcher.messages)


@pytest.mark.parametrize("intent", ["inform", "request_procedure", "nlu_fallback"])
async def test_das_erste_after_the_checklist_presents_the_first_step(intent):
    tracker, cl = _after_checklist("umzug", "das erste", intent)
    action = ActionDiscoverProcedure()
    dispatcher, events = await _run(action, tracker)
    first = cl.items[0].procedure
    assert slot_events(events)["procedure"] == first
    assert slot_events(events)["awaiting"] == "start_form"  # Halteverbot has a form: "hier im Chat beantragen?"
    assert "jetzt hier im Chat beantragen" in texts(dispatcher)


async def test_a_step_named_after_the_checklist_is_presented():
    tracker, _ = _after_checklist("selbststaendig", "die Reisegewerbekarte", "request_procedure")
    _, events = await _run(ActionDiscoverProcedure(), tracker)
    assert slot_events(events)["procedure"] == "muenchen_reisegewerbe_erlaubnis_beantragen"


async def test_an_answer_without_a_checklist_is_not_understood():
    dispatcher, events = await _run(ActionDiscoverProcedure(), make_tracker("das erste", "inform"))
    assert dispatcher.messages == [{**dispatcher.messages[0], "response": "utter_default"}]
    # Nothing chosen or awaited; only the insights record of a search that found nothing.
    assert [e for e in events if e.get("name") != "insights"] == []


async def test_after_another_list_of_buttons_the_checklist_is_no_longer_the_offer():
    tracker, _ = _after_checklist("umzug", "das erste")
    choice = [{"title": "Reisepass beantragen", "payload": step_payload("reisepass_beantragen")}]
    tracker.events.insert(-1, {"event": "bot", "text": "Welche Leistung?", "data": {"buttons": choice}})
    dispatcher, _ = await _run(ActionDiscoverProcedure(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_default"


async def test_yes_no_questions_after_the_checklist_keep_it_the_offer():
    tracker, cl = _after_checklist("umzug", "das zweite")
    yes_no = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}]
    for text in ("das erste", "Nein"):
        tracker.events.insert(-1, {"event": "user", "text": text})
        tracker.events.insert(-1, {"event": "bot", "text": "Möchten Sie …?", "data": {"buttons": yes_no}})
    _, events = await _run(ActionDiscoverProcedure(), tracker)
    assert slot_events(events)["procedure"] == cl.items[1].procedure


async def test_a_checklist_long_ago_is_no_longer_the_offer():
    tracker, _ = _after_checklist("umzug", "das erste")
    for _ in range(25):
        tracker.events.insert(-1, {"event": "user", "text": "…"})
    dispatcher, _ = await _run(ActionDiscoverProcedure(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_default"


@pytest.mark.parametrize("text", ["Ich bin umgezogen", "wir sind letzten Monat nach München gezogen"])
async def test_a_move_that_has_happened_starts_with_the_registration_and_its_deadline(text):
    dispatcher, _ = await _run(ActionDiscoverProcedure(), make_tracker(text, "request_procedure"))
    (message,) = dispatcher.messages
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == step_payload("wohnsitz_anmelden")
    assert step_payload("halteverbot_umzug") not in payloads  # the parking ban for the move day is past
    assert "Sie sind schon umgezogen" in message["text"] and "zwei Wochen" in message["text"]


async def test_a_move_ahead_still_starts_with_the_parking_ban():
    dispatcher, _ = await _run(
        ActionDiscoverProcedure(), make_tracker("Ich ziehe nächsten Monat um", "request_procedure")
    )
    (message,) = dispatcher.messages
    # the list in the order of time; the registration, which the words find best, may be named
    # first above it (Checklist.focus), but the parking ban stays step 1 and is offered
    steps = [line for line in message["text"].splitlines() if line[:1].isdigit()]
    assert steps[0].startswith("1. Halteverbot")
    assert step_payload("halteverbot_umzug") in [b["payload"] for b in message["buttons"]]


async def test_das_erste_after_the_checklist_for_a_past_move_chooses_the_registration():
    cl = checklist(default_life_situations().get("umzug"), default_catalogue(), done=True)
    buttons = [{"title": f"{i.number}. {i.title}", "payload": step_payload(i.procedure)} for i in cl.items]
    events = [
        {"event": "user", "text": "Ich bin umgezogen"},
        {"event": "bot", "text": "Liste", "data": {"buttons": buttons}},
        {"event": "user", "text": "das erste"},
    ]
    dispatcher, events = await _run(ActionDiscoverProcedure(), make_tracker("das erste", "inform", events=events))
    assert slot_events(events).get("procedure") == "wohnsitz_anmelden"


async def test_the_step_a_life_event_question_asks_about_is_named_above_the_list():
    # Elterngeld is step 3 of the baby's checklist; the question is about it
    text = "Mein Mann möchte nach der Geburt zwei Monate Elternzeit nehmen. Bekommt er in der Zeit Geld?"
    dispatcher, _ = await _run(ActionDiscoverProcedure(), make_tracker(text, "request_procedure"))
    (message,) = dispatcher.messages
    assert message["text"].startswith("Zu Ihrem Anliegen passt am ehesten Schritt 3: Elterngeld beantragen.")
    # the buttons keep the list's order, so "das dritte" and the third button are the same step
    assert [b["title"][:2] for b in message["buttons"]] == ["1.", "2.", "3.", "4."]
    assert message["buttons"][2]["payload"] == step_payload("elterngeld")
