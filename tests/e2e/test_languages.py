"""English and Leichte Sprache over the real REST channel (Rasa with the trained model, action
server, portal backend; issue 20). The texts asserted are read from the data files, so a change
of wording does not break the test, a missing text does."""

from __future__ import annotations

import re
import time

import pytest
from support.chat import RestChat
from support.forms import CASE_NUMBER, SUMMARY
from support.german_text import german_in
from support.portal_auth import fetch_application

from buergerassistent import form_conditions, form_texts, language, translations
from buergerassistent.catalogue import default_catalogue
from buergerassistent.fallback import OUT_OF_SCOPE_START_EN
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


def say_english(chat, text: str) -> str:
    """Send ``text``; every sentence and button the assistant answers must be English: no fixed
    part of a German catalogue message, no sentence the detector reads as German
    (``support/german_text.py``)."""
    messages = chat.say(text)
    answer = "\n".join(m.get("text") or "" for m in messages)
    german = german_in(messages)
    assert not german, f"{text!r} → German: {german}\n{answer}"
    return answer


def test_english_citizen_completes_a_form_in_english(chat, stack):
    entry = translations.english("meldebescheinigung")
    messages = chat.say("Hello, I need a certificate of registration")
    buttons = [b.get("title") for m in messages for b in m.get("buttons") or []]
    if entry.name in buttons:  # the assistant may offer a choice of certificates: the citizen picks
        answer = say_english(chat, entry.name)
    else:
        answer = "\n".join(m.get("text") or "" for m in messages)
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


def test_english_citizen_meets_no_german_around_the_form(chat):
    """Draft, handoff, call-back, misunderstandings and withdrawal, all in one English
    conversation (the stack has no staff desk: the honest "not possible" path)."""
    entry = translations.english("meldebescheinigung")
    sent: list[float] = []

    def paced(text: str) -> list[dict]:  # within the web chat's rate limit (40 messages here)
        _within_rate_limit(sent)
        return chat.say(text)

    def en(text: str) -> str:
        _within_rate_limit(sent)
        return say_english(chat, text)

    messages = paced("Hello, I need a certificate of registration")
    if entry.name in [b.get("title") for m in messages for b in m.get("buttons") or []]:
        en(entry.name)
    assert "Step 1 of 8" in en("Yes")
    assert "Step 2 of 8" in en("Erika")
    # Save for later (the offer in a new session: tests/languages/test_conversation_languages.py).
    answer = en("continue later")
    assert translations.message("en", "draft_saved").split("“")[0] in answer, answer
    messages = paced("I need a certificate of registration")
    if entry.name in [b.get("title") for m in messages for b in m.get("buttons") or []]:
        en(entry.name)
    assert "Step 1 of 8" in en("Yes")
    assert "Step 2 of 8" in en("Erika")
    # A person, please: not possible here, said in English, with the 115 and a call-back.
    answer = en("I want to talk to a person")
    assert translations.message("en", "handoff_unavailable") in answer and "115" in answer, answer
    answer = en("/request_callback")
    assert "Call-back request, step 1 of 4" in answer, answer
    answer = en("Erika")
    assert translations.message("en", "handoff_callback_name_hint") in answer, answer
    assert "step 2 of 4" in en("Erika Mustermann")
    assert "step 3 of 4" in en("erika@example.org")
    assert "step 4 of 4" in en("About my certificate")
    answer = en("No")  # no consent: nothing stored, the form goes on
    assert translations.message("en", "handoff_callback_no_consent") in answer and "Step 2 of 8" in answer, answer
    # Three wrong answers: the explanation with the way to a person, in English.
    for _ in range(3):
        answer = en("12345")
    assert "Write with a person" in answer, answer
    en("Mustermann")
    en("12 August 1964")
    en("Marienplatz 8")
    en("80331")
    en("Munich")
    en("Simple")
    en("erika@example.org")
    final = en("yes")
    match = ENGLISH_CASE_NUMBER.search(final)
    assert match, final
    en("no")
    # Not understood twice in a row: topics and a person, in English.
    # The first: "not found", or the English variant of the out-of-scope answer where the NLU
    # reads the words as out of scope (as the German conversation gets the German one).
    first = en("qwrtzp xcvbnm")
    assert translations.message("en", "not_found") in first or first.startswith(OUT_OF_SCOPE_START_EN), first
    assert translations.message("en", "fallback_again_1") in en("qwrtzp xcvbnm")
    # Withdrawal: the catalogue does not allow it for this service; said in English.
    answer = en("I want to withdraw my application")
    assert match.group(1) in answer and "responsible office" in answer, answer


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


# --------------------------------------------------------------------------- which language

# Our own short, misspelt and mixed English first messages (not the frozen blind set): the
# language detector alone does not read them as English.
ENGLISH_FIRST_MESSAGES = {
    "lost my pasport": "ausweis_verlust_melden",
    "Anmeldung for my flat": "wohnsitz_anmelden",
    "parking permit": "bewohnerparkausweis",
}


@pytest.mark.parametrize("text, procedure", sorted(ENGLISH_FIRST_MESSAGES.items()))
def test_short_or_mixed_english_first_message_is_answered_in_english(stack, text, procedure):
    chat = RestChat(stack.settings, sender=f"e2e-first-{procedure}")
    # (the English descriptions name German offices, "Bürgerbüro": checked by their text, not by
    # the detector sentence by sentence)
    answer = chat.say_text(text)
    entry = translations.english(procedure)
    assert entry.name in answer and entry.description in answer, answer
    # The conversation is English now: a follow-up in English is answered in English.
    answer = chat.say_text("What does it cost?")
    assert entry.fees in answer, answer


def test_german_first_message_with_an_english_word_stays_german(chat):
    answer = chat.say_text("Ich brauche ein Appointment für meinen Reisepass")
    english = [translations.message("en", key) for key in ("choose", "not_found", "ask_need", "in_form")]
    assert answer and not any(text in answer for text in english), answer
    assert "Step " not in answer and not language.detect(answer), answer
    assert language.has_german_words(answer), answer


# The Blue Card form asks for degree, university, job and employer: answers often in English words.
BLUE_CARD = default_catalogue().get("blaue_karte_eu")
BLUE_CARD_ANSWERS = {f.name: f.example for f in BLUE_CARD.fields} | {
    "koerpergroesse": "168",
    "jahresgehalt": "58.000 Euro",
    "visum_gueltig_bis": "14.04.2027",
    "abschluss": "Master of Science",
    "hochschule": "University of Pune",
    "berufliche_taetigkeit": "Software Engineer",
    "arbeitgeber": "The Boston Consulting Group",
}


def _within_rate_limit(sent: list[float]) -> None:
    """Wait before the next message when the web chat's limit per conversation would refuse it
    (``WEBCHAT_RATE_LIMIT``, "30/60" by default; the form has 27 steps)."""
    from buergerassistent.settings import Settings

    limit = Settings.__fields__["webchat_rate_limit"].default  # the stack runs with the default
    count, seconds = (int(x) for x in limit.split("/"))
    now = time.monotonic()
    recent = [t for t in sent if now - t < seconds]
    if len(recent) >= count - 4:  # the messages before the form count too
        time.sleep(seconds - (now - recent[0]) + 1)
    sent.append(time.monotonic())


def test_answers_in_english_words_do_not_switch_a_german_form(chat):
    offer = chat.say_text("Ich möchte die Blaue Karte EU beantragen")
    if "Meinen Sie" in offer:
        offer = chat.say_text("Ja")
    reply = chat.say_text("Ja")
    # The list questions are answered "nein": their follow-up questions are not asked.
    numbers, total = form_conditions.steps(BLUE_CARD)
    sent: list[float] = []
    for number, field in zip(numbers, BLUE_CARD.fields, strict=True):
        if not form_conditions.asked(field, BLUE_CARD_ANSWERS):
            continue
        assert f"Schritt {number} von {total}" in reply, (field.name, reply)
        assert field.prompt.split("?")[0][:30] in reply, (field.name, reply)
        _within_rate_limit(sent)
        reply = chat.say_text(BLUE_CARD_ANSWERS[field.name])
        # Still German: nothing English said, no English question.
        assert "Step " not in reply and "Your answers so far" not in reply, (field.name, reply)
        assert "nicht verstanden" not in reply, (field.name, reply)
    # The English words are the stored values, in the German summary.
    assert SUMMARY in reply, reply
    for value in ("Master of Science", "University of Pune", "Software Engineer", "The Boston Consulting Group"):
        assert value in reply, reply


def test_clear_english_sentence_in_a_german_form_switches_and_keeps_the_answers(chat):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "Schritt 1 von 8" in chat.say_text("Ja")
    chat.say_text("Erika")
    assert "Schritt 3 von 8" in chat.say_text("Mustermann")
    answer = say_english(chat, "I don't understand, can you say it in English?")
    assert "Step 3 of 8: What is your date of birth?" in answer, answer
    say_english(chat, "12 August 1964")
    # A street name in English words is a value, in an English form as in a German one.
    assert "Step 5 of 8" in say_english(chat, "The Old Rectory 2")


# ----------------------------------------------- help, change in words, receipt PDF, continue


def test_english_help_change_in_words_receipt_pdf_and_continue(chat, stack):
    import urllib.request

    # "help" in an English conversation: the English variant of the help text.
    answer = say_english(chat, "I need a certificate of registration")
    assert translations.english("meldebescheinigung").name in answer, answer  # one name decides
    answer = say_english(chat, "What is the weather tomorrow?")
    assert answer == translations.message("en", "not_found"), answer  # not the focus again
    answer = say_english(chat, "help")
    assert answer.startswith("Just describe what you need"), answer
    say_english(chat, "I need a certificate of registration")
    assert "Step 1 of 8" in say_english(chat, "Yes")
    for text in ("Erika", "Mustermann", "12 August 1964", "Marienplatz 8", "80331", "Munich", "Simple"):
        say_english(chat, text)
    summary = say_english(chat, "erika@example.org")
    assert "Postcode: 80331" in summary, summary
    # A change in words after the summary, in English.
    answer = say_english(chat, "no, the postcode is 80333")
    assert "Postcode: 80333" in answer and "80333" in answer, answer
    final = say_english(chat, "yes")
    match = ENGLISH_CASE_NUMBER.search(final)
    assert match, final
    assert fetch_application(stack, match.group(1))["data"]["plz"] == "80333"
    # The receipt behind the link is the English PDF.
    link = re.search(r"\((http[^)]+/receipts/[^)]+)\)", final).group(1)
    with urllib.request.urlopen(link, timeout=30) as response:  # noqa: S310 - the stack's own URL
        disposition = response.headers["Content-Disposition"]
        pdf = response.read()
    assert pdf.startswith(b"%PDF") and b"/Lang (en)" in pdf and "Confirmation-of-receipt" in disposition
    say_english(chat, "no")
    # "continue later" in a new form, then "continue my application".
    say_english(chat, "I need a certificate of registration")
    say_english(chat, "Yes")
    say_english(chat, "Erika")
    assert "saved" in say_english(chat, "continue later")
    answer = say_english(chat, "continue my application")
    assert "1 of 8 questions answered" in answer, answer
    answer = say_english(chat, "yes")
    assert "Step 2 of 8" in answer, answer
