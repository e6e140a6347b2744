"""A whole German conversation over the REST channel against the real stack."""

from __future__ import annotations

import pytest
from support.forms import CASE_NUMBER
from support.portal_auth import fetch_application

pytestmark = pytest.mark.e2e


def test_meldebescheinigung_from_greeting_to_case_number(chat, stack):
    assert "Bürgerassistent" in chat.say_text("Hallo")

    answer = chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "Meldebescheinigung" in answer
    assert "jetzt hier im Chat beantragen" in answer

    assert "Schritt 1 von 8" in chat.say_text("Ja")
    assert "Familienname" in chat.say_text("Erika")
    assert "geboren" in chat.say_text("Mustermann")
    # An impossible birth date is refused with a German re-prompt, and nothing is lost.
    refused = chat.say_text("31.02.1964")
    assert "Geburtsdatum" in refused or "Datum" in refused
    assert "Straße" in chat.say_text("12.08.1964")
    assert "Postleitzahl" in chat.say_text("Marienplatz 8")
    # A malformed postcode is refused too.
    assert "Postleitzahl" in chat.say_text("8033")
    assert "Ort" in chat.say_text("80331")
    assert "einfache oder eine erweiterte" in chat.say_text("München")
    assert "E-Mail" in chat.say_text("einfach")

    summary = chat.say_text("erika.mustermann@example.org")
    for shown in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8", "80331", "München"):
        assert shown in summary
    assert "sende ich den Antrag ab" in summary

    final = chat.say_text("Ja, absenden")
    match = CASE_NUMBER.search(final)
    assert match, final
    assert "nicht verstanden" not in final, final
    stored = fetch_application(stack, match.group(1))
    assert stored["procedure"] == "meldebescheinigung"
    assert stored["data"]["vorname"] == "Erika"
    assert stored["data"]["nachname"] == "Mustermann"
    assert stored["data"]["geburtsdatum"] == "1964-08-12"
    assert stored["data"]["plz"] == "80331"
    assert stored["data"]["email"] == "erika.mustermann@example.org"


def test_empty_name_is_reprompted_and_cancel_deletes(chat):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    chat.say_text("Ja")
    reprompt = chat.say_text("!!!")
    assert "Vorname" in reprompt
    cancelled = chat.say_text("abbrechen")
    assert "abgebrochen" in cancelled


def test_a_question_naming_another_procedure_is_not_answered_for_the_one_in_focus(chat):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    messages = chat.say("Was kostet ein Reisepass?")
    shown = "\n".join(
        [m.get("text") or "" for m in messages] + [b["title"] for m in messages for b in m.get("buttons") or []]
    )
    assert "Meldebescheinigung" not in shown
    assert "Reisepass" in shown


def test_question_in_the_middle_of_the_form_resumes_the_same_field(chat):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    chat.say_text("Ja")
    chat.say_text("Erika")
    answer = chat.say_text("Was kostet das?")
    assert "5 Euro" in answer
    assert "Familienname" in answer


def test_rasa_runs_the_speed_fixes_the_switch_asks_for(stack):
    """BA_RASA_PATCHES reaches the Rasa process (`make test-unpatched` runs these tests with 0)."""
    import os

    from rasa_runtime.patches import parse_switch

    groups = sorted(parse_switch(os.environ.get("BA_RASA_PATCHES")))
    expected = f"Rasa-Optimierungen (BA_RASA_PATCHES): {', '.join(groups) or 'keine'}"
    assert expected in stack.service("rasa").log_path.read_text(errors="replace")
