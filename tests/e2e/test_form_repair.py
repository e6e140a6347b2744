"""Conversation repair in forms over the real REST channel (portal backend, action server, Rasa)."""

from __future__ import annotations

import pytest
from support.forms import CASE_NUMBER

pytestmark = pytest.mark.e2e


def start(chat, request="Ich brauche eine Meldebescheinigung"):
    chat.say_text(request)
    first = chat.say_text("Ja")
    assert "Schritt 1 von" in first, first
    return first


def test_several_values_correction_and_change_at_the_summary(chat, stack):
    start(chat)
    # three answers in one message: echoed, stored after "Ja"
    echo = chat.say_text("Erika Mustermann, geboren 12.8.1964")
    assert "Ich habe übernommen: Vorname Erika, Familienname Mustermann, Geburtsdatum 12.08.1964" in echo, echo
    assert "Stimmt das?" in echo and "Schritt" not in echo
    assert "Schritt 4 von 8" in chat.say_text("Ja")
    assert "Stimmt das?" in chat.say_text("Marienplatz 8, 80331 München")
    assert "Schritt 7 von 8" in chat.say_text("Ja")
    # a correction of an earlier answer, then the same question again
    answer = chat.say_text("nein, die Postleitzahl ist 80335")
    assert "80335" in answer and "Schritt 7 von 8" in answer
    # a question in the middle, then the same question again (rasa#7751)
    answer = chat.say_text("Wozu brauchen Sie das?")
    assert "Je nach Art" in answer and "1. Einfach" in answer and "Schritt 7 von 8" in answer
    assert "Schritt 8 von 8" in chat.say_text("einfach")
    summary = chat.say_text("erika@example.org")
    assert "Postleitzahl: 80335" in summary and "Geburtsdatum: 12.08.1964" in summary
    # change a field in words at the summary
    answer = chat.say_text("ändere das Geburtsdatum")
    assert "Wann sind Sie geboren" in answer
    summary = chat.say_text("13.08.1964")
    assert "Geburtsdatum: 13.08.1964" in summary and "sende ich den Antrag ab" in summary
    final = chat.say_text("Ja, absenden")
    assert CASE_NUMBER.search(final), final


def test_change_request_in_the_middle_asks_that_field_then_resumes(chat):
    start(chat)
    chat.say_text("Erika")
    chat.say_text("Mustermann")
    chat.say_text("12.08.1964")
    answer = chat.say_text("ändere den Vornamen")
    assert "Schritt 1 von 8" in answer
    assert "Schritt 4 von 8" in chat.say_text("Anna")


def test_repeated_failures_explain_the_field(chat):
    start(chat)
    chat.say_text("Erika")
    chat.say_text("Mustermann")
    for _ in range(2):
        chat.say_text("irgendwann")
    answer = chat.say_text("irgendwann")
    assert "Kurz erklärt" in answer and "noch einmal versuchen" in answer
    assert "Schritt 3 von 8" in chat.say_text("Ja")
    assert "Schritt 4 von 8" in chat.say_text("12.08.1964")


def test_continue_later_keeps_the_draft_for_the_next_session(chat):
    start(chat)
    chat.say_text("Erika")
    chat.say_text("Mustermann")
    saved = chat.say_text("später weitermachen")
    assert "gespeichert" in saved
    # Rasa starts a new session for the same conversation (as after session expiry); a citizen
    # cannot type /session_start (rasa_runtime/channels/payload_guard.py), so the test asks Rasa's API.
    offer = chat.trigger_intent_text("session_start")
    assert "Meldebescheinigung" in offer and "2 von 8 Fragen" in offer, offer
    resumed = chat.say_text("Ja")
    assert "weiter" in resumed and "Schritt 3 von 8" in resumed, resumed
    # the form continues; nothing asked twice
    assert "Schritt 4 von 8" in chat.say_text("12.08.1964")


def test_cancel_in_a_form_of_another_procedure(chat):
    start(chat, "Ich möchte Sperrmüll abholen lassen")
    chat.say_text("Erika")
    assert "abgebrochen" in chat.say_text("abbrechen")


def test_question_inside_a_choice_field_is_answered_and_asked_again(chat):
    start(chat)
    for text in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8", "80331", "München"):
        chat.say_text(text)
    answer = chat.say_text("was ist der Unterschied zwischen einfach und erweitert?")
    assert "1. Einfach" in answer and "2. Erweitert" in answer and "Schritt 7 von 8" in answer, answer
    assert "Schritt 8 von 8" in chat.say_text("erweitert")
    summary = chat.say_text("erika@example.org")
    assert "Art der Bescheinigung: Erweitert" in summary, summary


def test_question_inside_a_yes_no_field_is_answered_and_asked_again(chat):
    start(chat, "Ich habe meinen Personalausweis verloren")
    for text in ("Erika", "Mustermann", "12.08.1964", "Personalausweis", "gestern", "in der U-Bahn"):
        reply = chat.say_text(text)
    assert "Schritt 7 von 9" in reply, reply
    answer = chat.say_text("warum wollen Sie das wissen?")
    assert "Diebstahl" in answer and "Schritt 7 von 9" in answer, answer
    assert "Schritt 8 von 9" in chat.say_text("nein")


def test_question_inside_a_number_field_is_answered_and_asked_again(chat):
    start(chat, "Ich möchte Sperrmüll abholen lassen")
    for text in ("Erika", "Mustermann", "Marienplatz 8", "80331", "München", "Sofa und Schrank"):
        reply = chat.say_text(text)
    assert "Schritt 7 von 10" in reply, reply
    answer = chat.say_text("so 2 bis 3?")
    assert "Schätzung" in answer and "mindestens 1" not in answer and "Schritt 7 von 10" in answer, answer
    assert "Schritt 8 von 10" in chat.say_text("3")


def test_several_values_echoed_and_corrected_in_one_tap(chat):
    start(chat)
    echo = chat.say_text("Max Muster, geb. 1.2.1980, Hauptstr. 5, 80331 München")
    assert (
        "Vorname Max, Familienname Muster, Geburtsdatum 01.02.1980, Straße und Hausnummer Hauptstr. 5, "
        "Postleitzahl 80331, Ort München" in echo
    ), echo
    # a correction of one value: the echo again, nothing stored yet
    echo = chat.say_text("nein, der Familienname ist Mustermann")
    assert "Familienname Mustermann" in echo and "Stimmt das?" in echo, echo
    # a question while the echo waits: answered, the echo shown again, still nothing stored
    answer = chat.say_text("Was kostet das?")
    assert "5 Euro" in answer and "Familienname Mustermann" in answer and "Schritt" not in answer, answer
    assert "Schritt 7 von 8" in chat.say_text("Ja")
    chat.say_text("einfach")
    summary = chat.say_text("max@example.org")
    assert "Familienname: Mustermann" in summary and "Straße und Hausnummer: Hauptstr. 5" in summary, summary


def test_full_name_at_the_first_name_question(chat):
    start(chat)
    echo = chat.say_text("Anna Lena")
    assert "Vorname Anna, Familienname Lena" in echo and "Stimmt das?" in echo, echo
    # one tap: nothing stored, asked one by one; the first name is then taken whole
    answer = chat.say_text("Korrigieren")
    assert "einzeln" in answer and "Schritt 1 von 8" in answer, answer
    assert "Schritt 2 von 8" in chat.say_text("Anna Lena")
    assert "Schritt 3 von 8" in chat.say_text("Muster")
    for text in ("12.08.1964", "Marienplatz 8", "80331", "München", "einfach"):
        chat.say_text(text)
    summary = chat.say_text("anna@example.org")
    assert "Vorname: Anna Lena" in summary and "Familienname: Muster" in summary, summary
    # a correction at the summary
    answer = chat.say_text("der Vorname ist falsch, richtig ist Erica")
    assert "Vorname: Erica" in answer and "sende ich den Antrag ab" in answer, answer


def test_going_on_after_the_echo_without_yes(chat):
    # Found as a citizen: after the echo of a full name, the next answers got "Bitte antworten
    # Sie mit „Ja“ …" again and again, and a question about the address got no answer.
    start(chat)
    echo = chat.say_text("Erika Mustermann")
    assert "Vorname Erika, Familienname Mustermann" in echo and "Stimmt das?" in echo, echo
    answer = chat.say_text("warum braucht ihr mei adress?")
    assert "Anschrift" in answer and "Stimmt das?" in answer, answer
    answer = chat.say_text("12.03.1985")
    assert "gespeichert" in answer and "Schritt 4 von 8" in answer, answer
    assert "Bitte antworten Sie" not in answer, answer
    for text in ("Marienplatz 8", "80331", "München", "einfach"):
        chat.say_text(text)
    summary = chat.say_text("erika@example.org")
    assert "Vorname: Erika" in summary and "Familienname: Mustermann" in summary, summary
    assert "Geburtsdatum: 12.03.1985" in summary, summary


def test_the_next_name_at_the_echo_is_shown_with_it_not_asked_again(chat):
    # Found as a citizen: "Max" as the answer to the offer was echoed ("Vorname Max. Stimmt
    # das?"); the family name typed next got "Bitte antworten Sie mit „Ja“ …" again and again.
    chat.say_text("Ich brauche eine Meldebescheinigung")
    echo = chat.say_text("Max")
    assert "Vorname Max" in echo and "Stimmt das?" in echo, echo
    echo = chat.say_text("Mustermann")
    assert "Vorname Max, Familienname Mustermann" in echo and "Stimmt das?" in echo, echo
    assert "Bitte antworten Sie" not in echo, echo
    assert "Schritt 3 von 8" in chat.say_text("Ja")
