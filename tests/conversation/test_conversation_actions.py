"""The Rasa side of issue 15: the guard in the Rasa process rewrites the NLU reading, and the
actions ask, carry out, go back, and answer (run directly, without Rasa)."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts

from actions.conversation import (
    ActionCarryOutRequest,
    ActionConfirmRequest,
    ActionHumanAnswer,
    ActionKeepGoing,
    ActionOtherLanguage,
)
from actions.dialogue import ActionDiscoverProcedure, ActionHandleAffirm
from actions.fallbacks import ActionFallback, ActionHelp
from buergerassistent import fallback
from buergerassistent.intent_guard import Context
from rasa_runtime.intent_guard import adjust

FORM = "meldebescheinigung_form"
DOMAIN = {"responses": {"utter_help": [{"text": "Beschreiben Sie mir einfach Ihr Anliegen … (lang)"}]}}


def run(action, tracker, dispatcher=None):
    dispatcher = dispatcher or CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher, events


def parse(text, intent, confidence=0.95):
    return {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [], "intent_ranking": []}


# -- the guard after NLU (rasa_runtime/intent_guard.py) ------------------------------------


@pytest.mark.parametrize(
    "text,intent,context,expected",
    [
        ("Auto abmelden", "logout", Context(), "request_procedure"),
        ("bis wann muss ich mich ummelden?", "goodbye", Context(), "ask_deadline"),
        ("wie spät ist es", "save_draft", Context(in_form=True), "help"),
        ("wie spät ist es", "save_draft", Context(), "out_of_scope"),
        ("kann ich das im Chat anmelden", "login", Context(), "ask_online"),
        ("wie ist die telefonnummer?", "change_field", Context(awaiting="confirm_summary"), "ask_contact"),
        ("How can I register my new address?", "request_procedure", Context(), "other_language"),
        ("abbrechen", "cancel", Context(in_form=True), "cancel"),
    ],
)
def test_the_nlu_reading_is_adjusted(text, intent, context, expected):
    data = adjust(parse(text, intent), context)
    assert data["intent"]["name"] == expected
    if expected != intent:
        assert data["guard"]["intent"] == intent  # the original reading stays for the logs


def test_an_unclear_request_becomes_a_question_with_the_request_as_entity():
    data = adjust(parse("Kann ich später weitermachen?", "save_draft"), Context(in_form=True))
    assert data["intent"]["name"] == "confirm_request"
    assert {"entity": "requested_action", "value": "save_draft", "extractor": "intent_guard"} in data["entities"]


def test_button_payloads_are_left_alone():
    data = adjust(parse("/save_draft", "save_draft", 1.0), Context(in_form=True))
    assert data["intent"]["name"] == "save_draft" and "guard" not in data


# -- ask, carry out, go back ------------------------------------------------------------------


def _asked_in_form(request="save_draft"):
    tracker = make_tracker(
        text="Kann ich später weitermachen?",
        intent="confirm_request",
        slots={"procedure": "meldebescheinigung", "requested_slot": "nachname", "vorname": "Erika"},
        active_loop=FORM,
        entities=[{"entity": "requested_action", "value": request}],
    )
    return run(ActionConfirmRequest(), tracker)


def test_the_question_pauses_the_form_and_keeps_the_answers():
    dispatcher, events = _asked_in_form()
    assert texts(dispatcher) == "Möchten Sie „Meldebescheinigung“ jetzt speichern und später weitermachen?"
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    slots = slot_events(events)
    assert slots == {
        "requested_slot": None,  # "nein" resumes the form: it must not become the answer
        "pending_request": "save_draft",
        "pending_return": f"form:{FORM}",
        "awaiting": "confirm_request",
    }
    assert "vorname" not in slots  # nothing is lost


def test_yes_saves_the_draft(tmp_path, monkeypatch):
    saved = {}

    class Store:
        def save(self, conversation, account, procedure, data):
            saved.update(procedure=procedure, data=data)

    monkeypatch.setattr("actions.drafts.default_store", lambda: Store())
    monkeypatch.setattr("actions.drafts.account_of", lambda conversation: None)
    tracker = make_tracker(
        text="ja",
        intent="affirm",
        slots={
            "procedure": "meldebescheinigung",
            "vorname": "Erika",
            "awaiting": "confirm_request",
            "pending_request": "save_draft",
            "pending_return": f"form:{FORM}",
        },
    )
    dispatcher, events = run(ActionHandleAffirm(), tracker)
    assert events == [{"event": "followup", "name": "action_carry_out_request", "timestamp": None}]
    dispatcher, events = run(ActionCarryOutRequest(), tracker)
    assert saved == {"procedure": "meldebescheinigung", "data": {"vorname": "Erika"}}
    assert "gespeichert" in texts(dispatcher)
    slots = slot_events(events)
    assert slots["pending_request"] is None and slots["awaiting"] is None and slots["vorname"] is None
    assert events[-1] == {"event": "followup", "name": "action_listen", "timestamp": None}


def test_yes_to_cancel_while_a_draft_was_offered_deletes_the_draft(monkeypatch):
    deleted = []
    monkeypatch.setattr("actions.dialogue.discard_draft", lambda conversation: deleted.append(conversation) or True)
    tracker = make_tracker(
        text="ja",
        intent="affirm",
        slots={"awaiting": "confirm_request", "pending_request": "cancel", "pending_return": "state:resume_draft"},
    )
    dispatcher, events = run(ActionCarryOutRequest(), tracker)
    assert deleted == ["test"] and "gespeicherten Antrag gelöscht" in texts(dispatcher)
    assert slot_events(events)["awaiting"] is None


def test_no_goes_back_to_the_form():
    tracker = make_tracker(
        text="nein",
        intent="deny",
        slots={"awaiting": "confirm_request", "pending_request": "cancel", "pending_return": f"form:{FORM}"},
    )
    dispatcher, events = run(ActionKeepGoing(), tracker)
    assert texts(dispatcher) == "Gut, dann machen wir weiter."
    assert {"event": "followup", "name": FORM, "timestamp": None} in events
    assert slot_events(events)["awaiting"] is None


def test_no_at_the_summary_shows_the_summary_again():
    tracker = make_tracker(
        text="nein",
        intent="deny",
        slots={"awaiting": "confirm_request", "pending_request": "cancel", "pending_return": "state:confirm_summary"},
    )
    _, events = run(ActionKeepGoing(), tracker)
    assert slot_events(events)["awaiting"] == "confirm_summary"
    assert {"event": "followup", "name": "action_show_summary", "timestamp": None} in events


def test_submit_question_keeps_the_summary_state():
    tracker = make_tracker(
        text="Ja?",
        intent="confirm_request",
        slots={"procedure": "meldebescheinigung", "awaiting": "confirm_summary"},
        entities=[{"entity": "requested_action", "value": "submit"}],
    )
    dispatcher, events = run(ActionConfirmRequest(), tracker)
    assert "jetzt absenden?" in texts(dispatcher) and events == []


# -- human answers, English, condolences, fallbacks ------------------------------------------


@pytest.mark.parametrize(
    "intent,words",
    [
        ("bot_challenge", "kein Mensch"),
        ("ask_human", "nicht an eine Person weiterleiten"),
        ("complain", "tut mir leid"),
    ],
)
def test_human_answers(intent, words):
    dispatcher, _ = run(ActionHumanAnswer(), make_tracker(text="x", intent=intent))
    assert words in texts(dispatcher) and "115" in texts(dispatcher)


def test_english_reply_links_english_pages_of_the_catalogue():
    dispatcher, _ = run(ActionOtherLanguage(), make_tracker(text="I need a passport", intent="other_language"))
    assert "German" in texts(dispatcher) and "/en/" in texts(dispatcher)


def test_a_death_gets_sympathy_before_the_procedure():
    tracker = make_tracker(text="mein Vater ist gestorben", intent="request_procedure")
    dispatcher, _ = run(ActionDiscoverProcedure(), tracker)
    assert dispatcher.messages[0]["text"] == "Das tut mir sehr leid. Mein herzliches Beileid."
    assert len(dispatcher.messages) > 1


def _events_with_turns(*bot_texts):
    events = []
    for text in bot_texts:
        events += [{"event": "user", "text": "äh"}, {"event": "bot", "text": text}]
    return [*events, {"event": "user", "text": "hmm"}]


def offer_open(text):
    """ "das erste" while „Möchten Sie „Wohnsitz anmelden …“ jetzt hier im Chat beantragen?“ waits."""
    return make_tracker(
        text=text,
        intent="nlu_fallback",
        slots={"procedure": "wohnsitz_anmelden", "awaiting": "start_form"},
        events=_events_with_turns("Möchten Sie „Wohnsitz anmelden oder ummelden“ jetzt hier im Chat beantragen?"),
    )


def test_an_unclear_answer_to_the_offer_to_apply_asks_the_offer_again():
    # Found as a citizen: "das erste" to „Möchten Sie … jetzt hier im Chat beantragen?“ got the
    # general "Können Sie es bitte anders formulieren?", and the open question was lost from view.
    tracker = offer_open("das erste")
    said, events = run(ActionFallback(), tracker)
    message = said.messages[0]
    assert "Möchten Sie „Wohnsitz anmelden oder ummelden“ jetzt hier im Chat beantragen?" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]
    assert events == []  # the offer stays open: "ja" then starts the form


def test_discovery_finding_nothing_while_the_offer_waits_asks_the_offer_again():
    from actions.dialogue import ActionDiscoverProcedure

    # nlu_fallback goes to discovery first (bot/data/rules.yml); it finds nothing in "das erste".
    tracker = offer_open("das erste")
    said, _ = run(ActionDiscoverProcedure(), tracker)
    assert len(said.messages) == 1, said.messages
    assert "Möchten Sie „Wohnsitz anmelden oder ummelden“ jetzt hier im Chat beantragen?" in said.messages[0]["text"]


def test_the_second_fallback_in_a_row_is_shorter_and_offers_topics():
    first, _ = run(
        ActionFallback(), make_tracker(text="xyz", intent="nlu_fallback", events=_events_with_turns("Hallo"))
    )
    assert "buttons" not in first.messages[0] or not first.messages[0]["buttons"]
    again, _ = run(
        ActionFallback(),
        make_tracker(text="xyz", intent="nlu_fallback", events=_events_with_turns(fallback.FIRST["not_understood"])),
    )
    assert again.messages[0]["text"] == fallback.AGAIN[0]
    assert any(b["title"] == "Umzug melden" for b in again.messages[0]["buttons"])
    # Issue 19: the person offered with the topics, and what that button leads to.
    assert any(b["title"] == "Mit einer Person schreiben" for b in again.messages[0]["buttons"])
    assert "„Mit einer Person schreiben“" in again.messages[1]["text"] and "115" in again.messages[1]["text"]


def test_the_long_help_text_does_not_come_twice_in_a_row():
    help_text = _utter("utter_help")
    first, _ = run(ActionHelp(), make_tracker(text="Hilfe", intent="help", events=_events_with_turns("Hallo")))
    assert first.messages[0]["response"] == "utter_help"
    second, _ = run(ActionHelp(), make_tracker(text="Hilfe", intent="help", events=_events_with_turns(help_text)))
    assert second.messages[0]["text"] == fallback.AGAIN[0] and second.messages[0]["buttons"]
    # "ja" with nothing to say yes to, after the help text: not the help text again.
    yes, _ = run(ActionHandleAffirm(), make_tracker(text="ja", intent="affirm", events=_events_with_turns(help_text)))
    assert yes.messages[0]["text"] == fallback.AGAIN[0] and yes.messages[0]["buttons"]


def _utter(name):
    import yaml

    from bot.generate import BOT_DIR

    return yaml.safe_load((BOT_DIR / "domain" / "core.yml").read_text())["responses"][name][0]["text"]


@pytest.mark.parametrize("name", ["utter_help", "utter_default", "utter_out_of_scope"])
def test_the_domain_fallback_texts_are_recognised_as_fallbacks(name):
    assert fallback.is_fallback_text(_utter(name))
    assert fallback.is_help_text(_utter(name)) is (name == "utter_help")
