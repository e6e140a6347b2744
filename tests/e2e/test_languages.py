"""English and Leichte Sprache over the real REST channel (Rasa with the trained model, action
server, portal backend; issue 20). The texts asserted are read from the data files, so a change
of wording does not break the test, a missing text does."""

from __future__ import annotations

import pytest
from support.forms import CASE_NUMBER

from buergerassistent import translations

pytestmark = pytest.mark.e2e


def test_leichte_sprache_citizen_gets_the_plain_description(chat):
    answer = chat.say_text("in Leichter Sprache bitte")
    assert translations.message("ls", "switched") in answer, answer
    answer = chat.say_text("Ich brauche Wohngeld")
    plain = translations.plain_description("wohngeld")
    assert plain.splitlines()[0] in answer and plain.splitlines()[-1] in answer, answer
    # Not the standard description (administrative German) instead.
    assert "Lastenzuschuss" not in answer, answer


def test_english_citizen_gets_english_descriptions_by_synonym_and_german_name(chat):
    answer = chat.say_text("Hello, how can I register my new apartment?")
    anmelden = translations.english("wohnsitz_anmelden")
    assert anmelden.description in answer and anmelden.name in answer, answer
    assert "Wohnsitz anmelden oder ummelden:" not in answer
    # The German name in an English sentence: the English text of that procedure.
    answer = chat.say_text("And what about a Meldebescheinigung?")
    melde = translations.english("meldebescheinigung")
    assert melde.description in answer, answer
    # A follow-up in English is about the procedure in focus, in English.
    answer = chat.say_text("What does it cost?")
    assert melde.fees in answer, answer
    # Mixed messages do not switch back to German.
    answer = chat.say_text("Anmeldung for my apartment")
    assert anmelden.description in answer, answer


def test_switch_in_the_middle_of_a_form_keeps_the_answers(chat):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "Schritt 1 von 8" in chat.say_text("Ja")
    chat.say_text("Erika")
    assert "Schritt 3 von 8" in chat.say_text("Mustermann")
    answer = chat.say_text("in Leichter Sprache bitte")
    assert translations.message("ls", "switched_form") in answer, answer
    assert f"Schritt 3 von 8: {translations.plain_prompt('geburtsdatum')}" in answer, answer
    answer = chat.say_text("12.08.1964")
    assert f"Schritt 4 von 8: {translations.plain_prompt('strasse')}" in answer, answer
    answer = chat.say_text("auf Deutsch bitte")
    assert translations.message("de", "switched_form") in answer, answer
    assert "Schritt 4 von 8: In welcher Straße wohnen Sie? Bitte mit Hausnummer." in answer, answer
    chat.say_text("Marienplatz 8")
    chat.say_text("80331")
    chat.say_text("München")
    chat.say_text("einfach")
    summary = chat.say_text("erika@example.org")
    # The answers given before and after the switches are all there.
    for value in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8", "80331"):
        assert value in summary, summary
    final = chat.say_text("Ja, absenden")
    assert CASE_NUMBER.search(final), final
