"""Replies to a list of choices, to "Meinen Sie …?" and to "Möchten Sie … beantragen?" (issue 15),
in wordings of our own: each test reproduces one cause the blind conversation sets showed."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts

from actions.dialogue import ActionDiscoverProcedure, ActionStartApplication
from actions.forms import FROM_OFFER, PENDING_SLOT, ValidateHundesteuerAnmeldenForm, first_answer
from buergerassistent import form_questions
from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import Option, match_choice, meant_after_offer
from buergerassistent.procedure_finder import discovery
from buergerassistent.repair import read_message
from buergerassistent.validation.choices import match_choice as match_field_choice

CATALOGUE = default_catalogue()
STANDESAMT = [
    "geburtsurkunde",
    "sterbeurkunde",
    "eheschliessung_anmelden",
    "meldebescheinigung",
    "wohngeld",
    "briefwahl",
]


def options(ids):
    return [Option(i, CATALOGUE[i].name) for i in ids]


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


# -- a list of procedures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply,meant",
    [
        ("das sechste", "briefwahl"),  # beyond the fifth place
        ("Nummer 6", "briefwahl"),
        ("ich nehm die zweite", "sterbeurkunde"),
        ("die Sterbeurkunnde bitte", "sterbeurkunde"),  # a typo in the title
        ("Meldebescheinigng", "meldebescheinigung"),
        ("Geburtsurkunde", "geburtsurkunde"),
    ],
)
def test_a_reply_to_a_list_of_procedures_chooses(reply, meant):
    assert match_choice(reply, options(STANDESAMT)) == meant


@pytest.mark.parametrize("reply", ["das siebte", "nicht die zweite", "was ist der Unterschied?", "Urkunde"])
def test_no_choice_is_guessed(reply):
    assert match_choice(reply, options(STANDESAMT)) is None


def test_a_reply_to_meinen_sie_that_says_more_finds_what_is_meant():
    # "Parken vor der Tür" – "Meinen Sie „Bewohnerparkausweis beantragen“?" – "wir ziehen doch um"
    meant = meant_after_offer(
        "Parkplatz vorm Haus", "wir brauchen ihn für den Umzug", options(["bewohnerparkausweis"]), discovery()
    )
    assert meant == "halteverbot_umzug"


@pytest.mark.parametrize("reply", ["das erste", "nein, das meine ich nicht", "was kostet das?", ""])
def test_positions_rejections_and_questions_are_left_to_their_own_handling(reply):
    assert meant_after_offer("Parken vor der Haustür", reply, options(["bewohnerparkausweis"]), discovery()) is None


def test_the_discovery_action_presents_the_procedure_instead_of_the_move_checklist():
    tracker = make_tracker(
        text="wir brauchen ihn für den Umzug",
        slots={"awaiting": "choose_procedure", "offered_procedures": ["bewohnerparkausweis"]},
        events=[
            {"event": "user", "text": "Parkplatz vorm Haus"},
            {"event": "bot", "text": "Meinen Sie „Bewohnerparkausweis beantragen“?"},
            {"event": "user", "text": "wir brauchen ihn für den Umzug"},
        ],
    )
    dispatcher, events = run(ActionDiscoverProcedure(), tracker)
    assert slot_events(events)["procedure"] == "halteverbot_umzug"
    assert "wichtigsten Schritte" not in texts(dispatcher)  # not the checklist of a move


# -- a list of choices inside a form ---------------------------------------------------------------


@pytest.mark.parametrize(
    "proc_id,field_name,reply,value",
    [
        ("gewerbe_anmelden", "rechtsform", "den zweiten", "gbr"),
        ("gewerbe_anmelden", "rechtsform", "ich nehme die erste", "einzelunternehmen"),
        ("gewerbe_anmelden", "rechtsform", "die letzte", "sonstige"),
        ("gewerbe_anmelden", "rechtsform", "Zweitens", "gbr"),
        ("gewerbe_anmelden", "rechtsform", "KG", "sonstige"),  # a legal form the list does not name
        ("gewerbe_anmelden", "rechtsform", "Aktiengesellschaft", "sonstige"),
        ("bewohnerparkausweis", "laufzeit", "oa Jahr", "12"),  # Bavarian number words
        ("bewohnerparkausweis", "fahrzeughalter", "der ghört mia", "selbst"),
        ("bewohnerparkausweis", "fahrzeughalter", "auf meine Freundin", "andere_person"),
    ],
)
def test_a_reply_to_a_choice_field_is_read_as_the_choice(proc_id, field_name, reply, value):
    r = read_message(CATALOGUE[proc_id], field_name, reply, {})
    assert r.values == {field_name: value}, r


def test_a_position_beyond_the_list_is_no_choice():
    assert match_field_choice("die sechste", CATALOGUE["gewerbe_anmelden"].field("rechtsform").choices) is None


def test_a_question_about_the_options_explains_them_from_the_catalogue():
    proc = CATALOGUE["meldebescheinigung"]
    field = proc.field("art_meldebescheinigung")
    # NLU often reads it as "ask_why_field": the why-text does not answer it, the help does.
    reply = form_questions.answer(
        proc, field, "Worin unterscheiden sich denn einfach und erweitert? Was ist der Unterschied", "ask_why_field"
    )
    assert field.help in reply and "1. Einfach" in reply and field.why not in reply


def test_without_a_description_of_the_options_it_says_so_and_where_to_ask():
    proc = CATALOGUE["gewerbe_anmelden"]
    field = proc.field("rechtsform")
    reply = form_questions.answer(proc, field, "was ist da der Unterschied zwischen GmbH und UG", "ask_why_field")
    assert "weiß ich leider nicht sicher" in reply and "115" in reply and proc.authority in reply
    assert "1. Einzelunternehmen" in reply


def test_a_question_about_documents_in_a_choice_field_still_gets_the_documents():
    proc = CATALOGUE["gewerbe_anmelden"]
    reply = form_questions.answer(proc, proc.field("rechtsform"), "was für Unterlagen brauche ich?")
    assert proc.documents[0] in reply


# -- "Möchten Sie … beantragen?" answered with the first answer ------------------------------------


def offer_tracker(text, intent="inform"):
    return make_tracker(text=text, intent=intent, slots={"awaiting": "start_form", "procedure": "hundesteuer_anmelden"})


def test_a_name_read_as_yes_by_nlu_starts_the_form_with_it(monkeypatch):
    # NLU reads "Jonas" as "jo": the yes path starts the form, with the name as the first answer.
    from actions.dialogue import ActionHandleAffirm

    monkeypatch.setenv("BA_LOGIN_REQUIRED", "0")
    tracker = offer_tracker("Jonas", intent="affirm")
    _, events = run(ActionHandleAffirm(), tracker)
    assert events == [FollowupAction("action_start_application")]
    _, events = run(ActionStartApplication(), tracker)
    assert slot_events(events)["vorname"] == "Jonas"


@pytest.mark.parametrize("text", ["Lena Beispielfrau", "Jonas"])
def test_a_name_instead_of_yes_starts_the_form_with_it(text, monkeypatch):
    monkeypatch.setenv("BA_LOGIN_REQUIRED", "0")  # the path without login (local demo)
    tracker = offer_tracker(text)
    assert first_answer(tracker) == text
    _, events = run(ActionDiscoverProcedure(), tracker)
    assert events == [FollowupAction("action_start_application")]
    dispatcher, events = run(ActionStartApplication(), tracker)
    slots = slot_events(events)
    assert slots["vorname"] == text and slots["requested_slot"] == "vorname"
    assert slots[PENDING_SLOT] == {FROM_OFFER: True}


@pytest.mark.parametrize(
    "text,intent",
    [
        ("ja", "affirm"),
        ("jo passt", "affirm"),
        ("nein danke", "deny"),
        ("was kostet das?", "inform"),
        ("Reisepass", "inform"),  # a need, not a name
        ("ich habe keine Zeit gerade", "inform"),  # a sentence, not a name
        ("12345", "inform"),
    ],
)
def test_other_replies_to_the_offer_are_no_form_data(text, intent):
    assert first_answer(offer_tracker(text, intent)) is None


def test_the_first_answer_from_the_offer_is_echoed_before_it_is_stored():
    # On activation Rasa validates the filled first field: even one value waits for "Ja".
    tracker = make_tracker(
        text="Jonas",
        slots={"requested_slot": "vorname", "vorname": "Jonas", PENDING_SLOT: {FROM_OFFER: True}},
        active_loop="hundesteuer_anmelden_form",
        events=[{"event": "slot", "name": "vorname", "value": "Jonas"}],
    )
    dispatcher, events = run(ValidateHundesteuerAnmeldenForm(), tracker)
    slots = slot_events(events)
    assert slots["vorname"] is None and slots["requested_slot"] == "form_confirm"
    assert slots[PENDING_SLOT] == {"values": {"vorname": "Jonas"}, "ask": "vorname"}
    assert "Vorname Jonas" in texts(dispatcher)


# -- a question about a fact is answered, not turned into a checklist ------------------------------


def test_a_fact_question_naming_one_procedure_gets_the_answer_not_the_checklist():
    tracker = make_tracker(text="Was für Unterlagen muss ich mitbringen, um mein gebrauchtes Auto zuzulassen?")
    dispatcher, events = run(ActionDiscoverProcedure(), tracker)
    proc = CATALOGUE["kfz_zulassen"]
    assert slot_events(events)["procedure"] == proc.id
    assert proc.documents[0] in texts(dispatcher) and "wichtigsten Schritte" not in texts(dispatcher)


def test_a_life_event_without_a_question_about_a_fact_still_gets_the_checklist():
    tracker = make_tracker(text="Ich habe mir ein gebrauchtes Auto gekauft")
    dispatcher, _ = run(ActionDiscoverProcedure(), tracker)
    assert "wichtigsten Schritte" in texts(dispatcher)


def test_yes_to_a_procedure_just_presented_asks_what_to_know_about_it_not_the_help_text():
    from actions.dialogue import ActionHandleAffirm

    tracker = make_tracker(
        text="ja genau",
        intent="affirm",
        slots={"procedure": "briefwahl"},
        events=[
            {"event": "user", "text": "Am Wahltag bin ich verreist"},
            {"event": "slot", "name": "procedure", "value": "briefwahl"},
            {"event": "user", "text": "ja genau"},
        ],
    )
    dispatcher, _ = run(ActionHandleAffirm(), tracker)
    assert CATALOGUE["briefwahl"].name in texts(dispatcher) and "Unterlagen" in texts(dispatcher)
    assert not any(m.get("response") == "utter_help" for m in dispatcher.messages)


def test_yes_with_nothing_proposed_still_gets_the_help():
    from actions.dialogue import ActionHandleAffirm

    tracker = make_tracker(text="ja", intent="affirm", events=[{"event": "user", "text": "ja"}])
    dispatcher, _ = run(ActionHandleAffirm(), tracker)
    assert any(m.get("response") == "utter_help" for m in dispatcher.messages)


@pytest.mark.parametrize("reply", ["passt scho", "jawoi", "ok", "ja genau den mein ich", "klar"])
def test_yes_in_other_words_to_a_single_suggestion_chooses_it(reply):
    assert match_choice(reply, options(["bewohnerparkausweis"])) == "bewohnerparkausweis"


@pytest.mark.parametrize("reply", ["ok", "ja", "passt scho"])
def test_yes_to_several_suggestions_chooses_none(reply):
    assert match_choice(reply, options(["kfz_zulassen", "kfz_abmelden"])) is None


def _rejecting(text, previous, offered):
    return make_tracker(
        text=text,
        intent="deny",
        slots={"awaiting": "choose_procedure", "offered_procedures": offered},
        events=[
            {"event": "user", "text": previous},
            {"event": "bot", "text": "Meinen Sie …?"},
            {"event": "user", "text": text},
        ],
    )


def test_no_with_a_word_more_is_read_together_with_the_first_message():
    from actions.dialogue import ActionHandleDeny

    # "Wohnort" – "Meinen Sie „Wohnsitz anmelden oder ummelden“?" – "nein, abmelden"
    dispatcher, events = run(ActionHandleDeny(), _rejecting("nein, abmelden", "Wohnort", ["wohnsitz_anmelden"]))
    assert events == [FollowupAction("action_recover_procedure")]
    from actions.context import ActionRecoverProcedure

    dispatcher, events = run(ActionRecoverProcedure(), _rejecting("nein, abmelden", "Wohnort", ["wohnsitz_anmelden"]))
    assert slot_events(events).get("procedure") == "wohnsitz_abmelden", texts(dispatcher)


def test_a_plain_rejection_offers_other_candidates_not_the_same_again():
    from actions.context import ActionRecoverProcedure

    dispatcher, events = run(
        ActionRecoverProcedure(), _rejecting("nein, das meine ich nicht", "Wohnort", ["wohnsitz_anmelden"])
    )
    assert slot_events(events).get("procedure") is None


@pytest.mark.parametrize("intent", ["inform", "ask_why_field", "ask_documents", "nlu_fallback"])
def test_a_question_about_the_offered_procedures_describes_each_and_offers_them_again(intent):
    from actions.questions import ActionAnswerInfo, ActionExplainField

    action = {"ask_why_field": ActionExplainField(), "ask_documents": ActionAnswerInfo()}.get(
        intent, ActionDiscoverProcedure()
    )
    offered = ["kfz_zulassen", "kfz_abmelden"]
    tracker = make_tracker(
        text="Was ist da der Unterschied zwischen den beiden?",
        intent=intent,
        slots={"awaiting": "choose_procedure", "offered_procedures": offered},
    )
    dispatcher, events = run(action, tracker)
    said = texts(dispatcher)
    for proc_id in offered:
        proc = CATALOGUE[proc_id]
        assert proc.description.split(".")[0] in said
    assert slot_events(events)["offered_procedures"] == offered
    assert [b["title"] for m in dispatcher.messages for b in m.get("buttons") or []] == [
        CATALOGUE[i].name for i in offered
    ]


def test_a_question_about_the_options_read_as_a_status_request_is_answered_in_the_form():
    from actions.submission_actions import ActionApplicationStatus

    tracker = make_tracker(
        text="Und was ist der Unterschied zwischen den beiden Arten?",
        intent="ask_status",
        slots={"requested_slot": "art_meldebescheinigung", "procedure": "meldebescheinigung"},
        active_loop="meldebescheinigung_form",
    )
    dispatcher, events = run(ActionApplicationStatus(), tracker)
    field = CATALOGUE["meldebescheinigung"].field("art_meldebescheinigung")
    assert field.help in texts(dispatcher) and "Aktenzeichen" not in texts(dispatcher)
    assert not slot_events(events).get("art_meldebescheinigung")
