"""Replies to the assistant's offers, typed over the REST channel against the real stack (issue 15):
the first answer instead of "ja", more about the need instead of "ja"/"nein" to "Meinen Sie …?",
a question about the options of a choice field, and a choice named by its position. Wordings of
our own, not those of the blind conversation sets."""

from __future__ import annotations

import pytest
from support.forms import fill_in_chat, step

pytestmark = pytest.mark.e2e


def test_a_full_name_instead_of_yes_starts_the_form_and_is_echoed_first(chat):
    assert "jetzt hier im Chat beantragen" in chat.say_text("Ich brauche eine Meldebescheinigung")
    echo = chat.say_text("Jonas Beispielmann")
    assert "Ich habe übernommen" in echo and "Jonas" in echo and "Beispielmann" in echo, echo
    assert "nicht verstanden" not in echo
    # Confirmed, both names are stored: the form goes on with the date of birth.
    assert "geboren" in chat.say_text("Ja")


def test_a_name_instead_of_yes_is_not_stored_when_corrected(chat):
    assert "jetzt hier im Chat beantragen" in chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "Ich habe übernommen" in chat.say_text("Jonas")
    # "Korrigieren": nothing stored, the first question is asked.
    assert "Vorname" in chat.say_text("Korrigieren")


def test_a_sentence_instead_of_yes_is_not_taken_as_a_name(chat):
    assert "jetzt hier im Chat beantragen" in chat.say_text("Ich brauche eine Meldebescheinigung")
    reply = chat.say_text("ich muss erst noch meinen Ausweis suchen")
    assert "Ich habe übernommen" not in reply and "Schritt 1" not in reply, reply


def test_a_question_about_the_options_is_answered_with_what_they_mean(chat):
    fill_in_chat(chat.say_text, 0, step("München") + 1)
    reply = chat.say_text("Und was ist der Unterschied zwischen den beiden Arten?")
    assert "weitere Daten" in reply and "Erweitert" in reply, reply
    assert "einfache oder eine erweiterte" in reply  # the same question again
    # A position answers it.
    assert "E-Mail" in chat.say_text("die zweite")
