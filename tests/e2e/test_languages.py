"""English and Leichte Sprache over the real REST channel (Rasa with the trained model, action
server, portal backend; issue 20). The texts asserted are read from the data files, so a change
of wording does not break the test, a missing text does."""

from __future__ import annotations

import re

import pytest
from support.forms import CASE_NUMBER
from support.portal_auth import fetch_application

from buergerassistent import form_texts, language, translations
from buergerassistent.catalogue import default_catalogue
from content import plain_language

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


# --------------------------------------------------------------------------- forms in English

# The case number in an English receipt ("Your case number is BA-2026-…").
ENGLISH_CASE_NUMBER = re.compile(r"Your case number is ([A-Z]{2}-\d{4}-[0-9A-Z]{8})")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|https?://\S+")
# Names: an English name in “quotes”, a German name in (parentheses) after its English one.
_NAMES = re.compile(r"“[^”]*”|\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")


def german_sentences(text: str) -> list[str]:
    """The sentences of a bot message that the language detector (lingua, German and English
    models) reads as German. Names (“Certificate of registration (Meldebescheinigung)”) are
    left out first: a German name must not make an English sentence German."""
    found = []
    for sentence in _SENTENCE_END.split(_NAMES.sub("it", _LINK.sub(r"\1", text or ""))):
        words = re.findall(r"[A-Za-zÄÖÜäöüß]{2,}", sentence)
        if len(words) < 3:
            continue  # a value ("- Postcode: 80331"), a button, a case number
        confidence = {
            v.language.name: v.value for v in language.detector().compute_language_confidence_values(sentence)
        }
        if confidence.get("GERMAN", 0) > 0.5:
            found.append(sentence)
    return found


def say_english(chat, text: str) -> str:
    """Send ``text``; every sentence the assistant answers must be English."""
    messages = chat.say(text)
    answer = "\n".join(m.get("text") or "" for m in messages)
    buttons = [b.get("title") or "" for m in messages for b in m.get("buttons") or []]
    german = german_sentences(answer) + [b for b in buttons if language.has_german_words(b)]
    assert not german, f"{text!r} → German: {german}\n{answer}"
    return answer


def test_english_citizen_completes_a_form_in_english(chat, stack):
    entry = translations.english("meldebescheinigung")
    answer = say_english(chat, "Hello, I need a certificate of registration")
    assert entry.name in answer, answer
    assert "Step 1 of 8: What is your first name?" in say_english(chat, "Yes")
    assert "Step 2 of 8" in say_english(chat, "Erika")
    assert "Step 3 of 8: What is your date of birth?" in say_english(chat, "Mustermann")
    # A question about the field is answered in English, from the English why text.
    answer = say_english(chat, "Why do you need my date of birth?")
    assert "tells apart people with the same name" in answer and "Step 3 of 8" in answer, answer
    # An ambiguous date is asked back, never guessed.
    answer = say_english(chat, "08/12/1964")
    assert "8 December 1964" in answer and "12 August 1964" in answer and "Step 3 of 8" in answer, answer
    assert "Step 4 of 8" in say_english(chat, "Aug 12, 1964")
    assert "Step 5 of 8" in say_english(chat, "Marienplatz 8")
    answer = say_english(chat, "8033")
    assert "German postcodes have 5 digits" in answer and "Step 5 of 8" in answer, answer
    assert "Step 6 of 8" in say_english(chat, "80331")
    answer = say_english(chat, "Munich")
    assert "Step 7 of 8" in answer and "an extended certificate" in answer, answer
    assert "Step 8 of 8" in say_english(chat, "Extended")
    summary = say_english(chat, "erika@example.org")
    for line in ("Date of birth: 12 August 1964", "Type of certificate: Extended", "Postcode: 80331"):
        assert line in summary, summary
    final = say_english(chat, "yes")
    match = ENGLISH_CASE_NUMBER.search(final)
    assert match, final
    # The submitted data are the values, not the English labels.
    stored = fetch_application(stack, match.group(1))
    assert stored["data"]["art_meldebescheinigung"] == "erweitert", stored
    assert stored["data"]["geburtsdatum"] == "1964-08-12", stored
    answer = say_english(chat, "no")
    assert "You can ask me about the status at any time" in answer, answer
    answer = say_english(chat, "What is the status of my application?")
    assert "The status of your applications:" in answer and match.group(1) in answer, answer
    assert "received" in answer, answer


def test_switch_to_english_in_the_middle_of_a_form_keeps_the_answers(chat, stack):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "Schritt 1 von 8" in chat.say_text("Ja")
    chat.say_text("Erika")
    assert "Schritt 3 von 8" in chat.say_text("Mustermann")
    answer = say_english(chat, "English please")
    assert translations.message("en", "switched_form") in answer, answer
    assert "Step 3 of 8: What is your date of birth?" in answer, answer
    say_english(chat, "12 August 1964")
    say_english(chat, "Marienplatz 8")
    say_english(chat, "80331")
    say_english(chat, "Munich")
    say_english(chat, "Simple")
    summary = say_english(chat, "erika@example.org")
    for line in ("First name: Erika", "Family name: Mustermann", "Type of certificate: Simple"):
        assert line in summary, summary
    final = say_english(chat, "yes")
    match = ENGLISH_CASE_NUMBER.search(final)
    assert match, final
    stored = fetch_application(stack, match.group(1))
    assert stored["data"]["vorname"] == "Erika" and stored["data"]["art_meldebescheinigung"] == "einfach"


def test_leichte_sprache_citizen_gets_plain_validation_messages(chat):
    chat.say_text("in Leichter Sprache bitte")
    chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "Schritt 1 von 8" in chat.say_text("Ja")
    answer = chat.say_text("12345")
    proc = default_catalogue()["meldebescheinigung"]
    result = form_texts.check(proc, proc.field("vorname"), "12345", "ls")
    assert form_texts.error_text(proc, proc.field("vorname"), result.error, "ls") in answer, answer
    assert "In einem Namen gibt es keine Ziffern." in answer, answer
    assert "Ein Name enthält keine Ziffern." not in answer, answer  # not the standard German
    assert plain_language.problems(answer.split("\n")[0]) == [], answer
