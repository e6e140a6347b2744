"""Issue 15 over the REST channel: the facts the catalogue now has reach the citizen, each with
its source, and what is unknown is said honestly with where to ask."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_documents_for_the_personalausweis_are_named_with_their_source(chat):
    chat.say_text("Ich brauche einen neuen Personalausweis")
    answer = chat.say_text("Welche Unterlagen brauche ich?")
    assert "weiß ich leider nicht" not in answer
    assert "Passfoto" in answer and "Quelle: Stadt München" in answer


def test_registration_overview_names_the_two_week_deadline(chat):
    # "Ich bin umgezogen" gets the moving checklist (life situation); naming the procedure, its overview.
    answer = chat.say_text("Ich möchte meinen Wohnsitz ummelden")
    assert "Wohnungsgeberbestätigung" in answer
    assert "innerhalb von zwei Wochen" in answer and "Bundesmeldegesetz" in answer


def test_an_unknown_fee_is_admitted_with_where_to_ask(chat):
    chat.say_text("Ich muss meinen Führerschein umtauschen")
    answer = chat.say_text("Was kostet das?")
    assert "keine Angaben" in answer and "Fahrerlaubnisbehörde" in answer and "115" in answer
    assert "Euro" not in answer
