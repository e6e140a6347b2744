"""Corrections that say what is wrong in everyday words or dialect (issue 15): the NEW value is
stored, never the old one again. Phrasings of our own, not from the frozen conversation sets."""

from __future__ import annotations

import pytest

from buergerassistent.catalogue import default_catalogue
from buergerassistent.repair import confirmation_reply, read_message, reads_as_correction

CATALOGUE = default_catalogue()
WASTE = {"vorname": "Vroni", "nachname": "Huber", "strasse": "Lindenweg 8", "plz": "80995", "ort": "München"}
CAR = {"vorname": "Xaver", "nachname": "Beispiel", "kennzeichen": "M-XB 2468"}


@pytest.mark.parametrize(
    "text",
    [
        "oje, d hausnummer is foisch, es is de 18 ned de 8",
        "Mist, die Hausnummer stimmt ned, richtig wär die 18",
        "die Hausnummer passt nicht, die 18 ist richtig",
        "de hausnummer is verkehrt: 18",
        "die 18, ned die 8",
        "18 statt 8 bei der Hausnummer",
        "Lindenweg 18 statt 8",
        "es ist die 18 und nicht die 8",
    ],
)
def test_a_house_number_correction_takes_the_new_number(text):
    r = read_message(CATALOGUE["sperrmuell"], "menge_kubikmeter", text, WASTE)
    assert r.values == {"strasse": "Lindenweg 18"}
    assert r.corrected == ["strasse"] and not r.reopen


@pytest.mark.parametrize(
    "text",
    [
        "das Kennzeichen M-XB 2468 stimmt nicht, richtig wäre M-XB 2486",
        "M-XB 2468 is foisch, des is M-XB 2486",
        "mei Nummernschild is M-XB 2486 ned M-XB 2468",
        "M-XB 2486 statt M-XB 2468",
        "des Kennzeichen passt ned, es is M-XB 2486",
        "Kennzeichen ist verkehrt – M-XB 2486 ist richtig, nicht M-XB 2468",
    ],
)
def test_a_plate_correction_takes_the_new_plate(text):
    r = read_message(CATALOGUE["kfz_abmelden"], "abmeldedatum", text, CAR)
    assert r.values == {"kennzeichen": "M-XB 2486"} and r.corrected == ["kennzeichen"]


def test_the_old_value_said_to_be_wrong_is_never_stored_again():
    # Only the wrong value and no new one: the field is asked again, nothing is stored.
    r = read_message(CATALOGUE["kfz_abmelden"], "abmeldedatum", "des Kennzeichen M-XB 2468 is foisch", CAR)
    assert r.values == {} and r.reopen == ["kennzeichen"]


def test_two_new_values_are_no_guess():
    text = "M-XB 2468 stimmt ned, entweder M-XB 2486 oder M-XB 2846"
    r = read_message(CATALOGUE["kfz_abmelden"], "abmeldedatum", text, CAR)
    assert "kennzeichen" not in r.values


def test_a_name_given_instead_of_the_stored_one():
    r = read_message(CATALOGUE["sperrmuell"], "menge_kubikmeter", "Hueber statt Huber bitte", WASTE)
    assert r.values == {"nachname": "Hueber"} and r.corrected == ["nachname"]


def test_the_answer_before_a_rejected_value_is_taken():
    r = read_message(CATALOGUE["sperrmuell"], "menge_kubikmeter", "5 statt 6", WASTE)
    assert r.values == {"menge_kubikmeter": "5"}


def test_a_rejected_value_that_was_never_stored_changes_nothing_else():
    # "statt" in free text is part of the answer, not a correction of another field.
    r = read_message(CATALOGUE["sperrmuell"], "gegenstaende", "ein Regal statt zwei Kommoden", WASTE)
    assert r.values == {"gegenstaende": "ein Regal statt zwei Kommoden"} and not r.corrected


def test_at_the_summary_a_dialect_correction_is_a_correction():
    proc = CATALOGUE["kfz_abmelden"]
    assert reads_as_correction(proc, "des Kennzeichen is foisch, M-XB 2486 waar richtig", CAR)
    r = read_message(proc, None, "M-XB 2468 stimmt ned, M-XB 2486 is richtig", CAR)
    assert r.values == {"kennzeichen": "M-XB 2486"}


def test_a_dialect_no_to_the_echo_is_a_correction_request():
    proc = CATALOGUE["kfz_abmelden"]
    reply = confirmation_reply(proc, "des is foisch", {"kennzeichen": "M-XB 2486"}, {})
    assert reply.kind == "no"


@pytest.mark.parametrize(
    "text", ["na, des brauchts ned", "brauch ma ned", "nee, brauchen Sie nicht", "na, hob i ned", "naa, brauchts koane"]
)
def test_an_optional_field_is_skipped_in_dialect(text):
    r = read_message(CATALOGUE["halteverbot_umzug"], "telefon", text, {})
    assert r.skipped == "telefon"


def test_a_question_about_the_optional_field_is_no_skip():
    r = read_message(CATALOGUE["halteverbot_umzug"], "telefon", "brauchen Sie nicht meine Handynummer?", {})
    assert r.skipped is None and r.question
