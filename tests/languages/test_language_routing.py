"""Which language a message is read in (issue 20): the citizen's first message by the same function
as ``bot discover`` (``procedure_finder.language_of`` through ``language_routing.message_language``),
and no switch on an answer inside a form. The detector is the real lingua model.

The messages are our own development list (written for this test, not taken from the frozen blind
English set ``tests/data/discovery/en_frozen.yml``)."""

from __future__ import annotations

import pytest

from buergerassistent import language_replies, procedure_finder, translations
from buergerassistent.language_routing import message_language
from buergerassistent.language_state import DETECTED, ENGLISH, EXPLICIT, GERMAN, State
from rasa_runtime.intent_guard import OTHER_LANGUAGE, apply_language, first_message_of

# Short, misspelt or mixed English first messages that the detector alone does not read as English.
ENGLISH_FIRST = [
    "parking permit",
    "lost my pasport",
    "dog tax",
    "Anmeldung for my flat",
    "Meldebescheinigung for my visa",
    "need new id card",
    "my kid needs a passport",
    "child benefit",
    "register adress",
    "blue card renewal",
]
# German first messages, some with one English word: they stay German.
GERMAN_FIRST = [
    "Ich brauche ein Appointment",
    "Reisepass verlängern",
    "Hund anmelden",
    "Kita Platz",
    "Parkausweis",
    "Wohngeld",
    "Termin online buchen",
    "Mein Handy ist weg, brauche ich eine Anzeige?",
    "Ich will mein Business anmelden",
    "Hallo",
]
# Answers to a German form's question in English words only: a value, never a switch.
VALUES = [
    "Master of Science",
    "Bachelor of Arts in Computer Science",
    "Software Engineer",
    "Head of the IT department",
    "The Boston Consulting Group",
    "University of Pune",
    "Munich",
]


def _parse(text, intent="request_procedure"):
    return {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}


def _entities(parse):
    return {e["entity"]: e["value"] for e in parse["entities"]}


@pytest.mark.parametrize("text", ENGLISH_FIRST)
def test_english_first_message_goes_the_english_way(text):
    assert message_language(text, first_message=True) == ENGLISH
    parse = _parse(text, "greet")  # whatever the German NLU read
    change = apply_language(parse, State(), first_message=True)
    assert (change.language, change.source) == (ENGLISH, DETECTED), text
    assert parse["intent"]["name"] == OTHER_LANGUAGE, parse
    # `bot discover` decides it on the English path too, and the chat's English reply agrees.
    decision = procedure_finder.decide(text, "greet", 0.9, routed=False)
    reply = language_replies.reply(ENGLISH, DETECTED, text, False, False, None)
    assert reply.language == ENGLISH
    if decision.decision == procedure_finder.ANSWER:
        assert reply.procedure == decision.candidates[0].id, (text, reply)
    elif decision.decision == procedure_finder.CHOICE:
        names = [translations.english(c.id).name for c in decision.candidates]
        assert reply.choices == names, (text, reply)
    else:
        assert reply.procedure is None and not reply.choices, (text, reply)


@pytest.mark.parametrize("text", GERMAN_FIRST)
def test_german_first_message_stays_german(text):
    assert message_language(text, first_message=True) is None
    parse = _parse(text)
    assert apply_language(parse, State(), first_message=True) is None
    assert parse["intent"]["name"] == "request_procedure" and parse["entities"] == []
    assert procedure_finder.language_of(text) == GERMAN


def test_mixed_message_flips_only_as_the_first_message():
    # First message: English by its English words.
    parse = _parse("Anmeldung for my flat")
    assert apply_language(parse, State(), first_message=True).language == ENGLISH
    # Later, in a German conversation: the German term keeps German (no flip back and forth).
    parse = _parse("Anmeldung for my flat")
    assert apply_language(parse, State(), first_message=False) is None
    # In an English conversation it stays English.
    parse = _parse("Anmeldung for my flat")
    assert apply_language(parse, State(ENGLISH, DETECTED)) is None
    assert parse["intent"]["name"] == OTHER_LANGUAGE


def test_greeting_in_english_is_asked_what_is_needed():
    parse = _parse("hello", "greet")
    assert apply_language(parse, State(), first_message=True).language == ENGLISH
    reply = language_replies.reply(ENGLISH, DETECTED, "hello", False, False, None)
    assert reply.texts == [translations.message(ENGLISH, "ask_need")]


@pytest.mark.parametrize("text", VALUES)
def test_value_answer_in_a_german_form_never_switches(text):
    assert message_language(text, in_form=True) is None
    parse = _parse(text, "inform")
    assert apply_language(parse, State(), in_form=True, first_message=True) is None
    assert parse["intent"]["name"] == "inform" and parse["entities"] == []


def test_clear_english_sentence_in_a_form_switches():
    text = "I don't understand, can you say it in English?"
    parse = _parse(text, "inform")
    change = apply_language(parse, State(), in_form=True)
    assert (change.language, change.source) == (ENGLISH, DETECTED)
    assert parse["intent"]["name"] == OTHER_LANGUAGE  # not stored as the answer
    assert _entities(parse) == {"language_choice": ENGLISH, "language_source": DETECTED}
    # German chosen in words: no switch, but not an answer either (the short English reply).
    parse = _parse(text, "inform")
    assert apply_language(parse, State(GERMAN, EXPLICIT), in_form=True) is None
    assert parse["intent"]["name"] == OTHER_LANGUAGE
    # An explicit switch in a form switches, as before.
    parse = _parse("English please", "inform")
    assert apply_language(parse, State(), in_form=True).source == EXPLICIT


class _Event:
    def __init__(self, type_name, text=None):
        self.type_name, self.text = type_name, text


class _Tracker:
    def __init__(self, *events):
        self.events = list(events)


def test_first_message_is_the_first_typed_text():
    assert first_message_of(_Tracker())
    assert first_message_of(_Tracker(_Event("action"), _Event("user", "/greet"), _Event("bot")))
    assert not first_message_of(_Tracker(_Event("user", "Hallo"), _Event("bot")))
