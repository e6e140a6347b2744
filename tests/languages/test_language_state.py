"""Language state, switches and detection (buergerassistent/language_state.py, the Rasa-side
decision in rasa_runtime/intent_guard.apply_language; issue 20). The detector is the real lingua
model (buergerassistent/language.py)."""

from __future__ import annotations

import pytest

from buergerassistent import language, language_state, translations
from buergerassistent.language_state import DETECTED, ENGLISH, EXPLICIT, GERMAN, PLAIN, WIDGET, State, update
from rasa_runtime.intent_guard import OTHER_LANGUAGE, apply_language


@pytest.mark.parametrize(
    "text, lang",
    [
        ("English please", ENGLISH),
        ("in English", ENGLISH),
        ("Can we speak English?", ENGLISH),
        ("auf Englisch bitte", ENGLISH),
        ("auf Deutsch bitte", GERMAN),
        ("Deutsch bitte", GERMAN),
        ("in German please", GERMAN),
        ("in Leichter Sprache", PLAIN),
        ("einfache Sprache bitte", PLAIN),
        ("Können Sie das in leichter Sprache sagen?", PLAIN),
        ("Bitte einfacher erklären", PLAIN),
    ],
)
def test_explicit_switches(text, lang):
    assert language_state.explicit_switch(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        "Ich brauche eine Übersetzung meiner Geburtsurkunde ins Englische",
        "Wie lautet der englische Name?",
        "Ich möchte meinen Wohnsitz anmelden",
        "/affirm",
        "",
        # A long sentence that mentions English is no switch.
        "My employer wants the certificate in English but I do not know where to ask for it",
    ],
)
def test_no_switch(text):
    assert language_state.explicit_switch(text) is None


def test_explicit_choice_wins_and_persists():
    chosen = update(State(), "auf Deutsch bitte")
    assert (chosen.language, chosen.source, chosen.switch_request) == (GERMAN, EXPLICIT, True)
    state = State(chosen.language, chosen.source)
    # Neither an English message nor the widget's English setting overrides it.
    assert update(state, "How do I register my apartment?", widget=ENGLISH, detected=ENGLISH) is None
    # Another explicit switch does.
    assert update(state, "English please").language == ENGLISH


def test_detection_and_widget():
    assert update(State(), "How do I register?", detected=ENGLISH) == language_state.Update(ENGLISH, DETECTED, False)
    assert update(State(), "Hallo", widget=ENGLISH) == language_state.Update(ENGLISH, WIDGET, False)
    # The widget's default ("de") changes nothing; nor does German text.
    assert update(State(ENGLISH, DETECTED), "Ich bin umgezogen", widget=GERMAN) is None
    # Already English: no change to report.
    assert update(State(ENGLISH, DETECTED), "What does it cost?", detected=ENGLISH) is None


def test_mixed_message_does_not_flip():
    text = "Anmeldung for my apartment"
    assert translations.names_german_term(text)
    # Whatever the detector says about it, a German catalogue term keeps the language.
    assert update(State(), text, detected=ENGLISH, names_german_term=True) is None
    assert update(State(ENGLISH, DETECTED), text, detected=None, names_german_term=True) is None


def test_real_detector_on_messages():
    assert language.detect("How do I register my new apartment in Munich?") == ENGLISH
    assert language.detect("Wie melde ich meine neue Wohnung an?") is None


def _parse(text, intent="request_procedure"):
    return {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}


def _entities(parse):
    return {e["entity"]: e["value"] for e in parse["entities"]}


def test_rasa_side_switch_sets_entities_and_intent():
    parse = _parse("in Leichter Sprache bitte", "inform")
    change = apply_language(parse, State(), in_form=True)
    assert change.language == PLAIN
    assert _entities(parse) == {"language_choice": PLAIN, "language_source": EXPLICIT}
    assert parse["intent"]["name"] == OTHER_LANGUAGE  # not stored as the answer to the form's question


def test_rasa_side_english_conversation():
    parse = _parse("How do I register my apartment?")
    change = apply_language(parse, State())
    assert (change.language, change.source) == (ENGLISH, DETECTED)
    # Short English follow-ups in an English conversation go to the English answers too.
    parse = _parse("passport fees", "ask_fees")
    assert apply_language(parse, State(ENGLISH, DETECTED)) is None
    assert parse["intent"]["name"] == OTHER_LANGUAGE
    # A German sentence in an English conversation goes to the German NLU.
    parse = _parse("Ich brauche ein Appointment für meinen Reisepass")
    apply_language(parse, State(ENGLISH, DETECTED))
    assert parse["intent"]["name"] == "request_procedure"
    # German answers inside a form stay answers.
    parse = _parse("Erika", "inform")
    apply_language(parse, State(ENGLISH, DETECTED), in_form=True)
    assert parse["intent"]["name"] == "inform" and parse["entities"] == []


def test_widget_metadata_switches_to_english():
    parse = _parse("Hallo", "greet")
    change = apply_language(parse, State(), widget=ENGLISH)
    assert (change.language, change.source) == (ENGLISH, WIDGET)


def test_web_chat_messages_carry_their_language():
    """The web chat passes the language an action marks (``lang``) on to the widget, which sets
    it as the message's lang attribute (webchat/widget/src/widget.js)."""
    from rasa_runtime.channels.webchat.conversations import bot_message

    assert bot_message("Sure, I will answer in English.", {"lang": "en"})["lang"] == "en"
    assert "lang" not in bot_message("Guten Tag", {"lang": None})
    assert "lang" not in bot_message("Guten Tag", {"lang": "<script>"})
