"""name: given and family names."""

from __future__ import annotations

import pytest

from buergerassistent.validation import validate


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Erika", "Erika"),
        ("  Erika  ", "Erika"),
        ("erika", "Erika"),
        ("mustermann", "Mustermann"),
        ("von der leyen", "von der Leyen"),
        ("von der Leyen", "von der Leyen"),
        ("Von der Leyen", "Von der Leyen"),  # the citizen's capitalisation is kept
        ("de la cruz", "de la Cruz"),
        ("van der berg", "van der Berg"),
        ("von", "Von"),  # a name that is only a particle is still a name
        ("müller-lüdenscheidt", "Müller-Lüdenscheidt"),
        ("Müller - Lüdenscheidt", "Müller-Lüdenscheidt"),
        ("erika-maria", "Erika-Maria"),
        ("anna maria", "Anna Maria"),
        ("o'brien", "O'Brien"),
        ("O’Brien", "O'Brien"),  # typographic apostrophe unified
        ("D'Angelo", "D'Angelo"),
        ("'t Hooft", "'t Hooft"),
        ("Weiß", "Weiß"),
        ("weiß", "Weiß"),
        ("Jürgen", "Jürgen"),
        ("Zoë", "Zoë"),
        ("Nguyễn", "Nguyễn"),
        ("José María", "José María"),
        ("ERIKA", "ERIKA"),  # as in the passport: kept
        ("McDonald", "McDonald"),
        ("Erika   Maria", "Erika Maria"),
        ("Mu\u0308ller", "Müller"),  # decomposed umlaut → NFC
        ("Ich heiße Erika", "Erika"),
        ("Mein Nachname ist Mustermann", "Mustermann"),
        ("St. John", "St. John"),
        ("a" * 100, "A" + "a" * 99),
    ],
)
def test_name_valid(text, expected):
    r = validate("name", text)
    assert r.ok, r.error
    assert r.value == expected
    assert r.display == expected


@pytest.mark.parametrize(
    "text,reason",
    [
        ("", "keinen Namen"),
        ("   ", "keinen Namen"),
        ("Erika2", "Ziffern"),
        ("123", "Ziffern"),
        ("...", "nicht wie ein Name"),
        ("--", "nicht wie ein Name"),
        ("-Erika", "Bindestriche"),
        ("Erika-", "Bindestriche"),
        ("Eri--ka", "Bindestriche"),
        ("a" * 101, "länger als 100"),
        ("erika@example.org", "„@“"),
        ("Erika!", "„!“"),
        ("Erika_M", "„_“"),
        ("<b>Erika</b>", "gehören nicht"),
    ],
)
def test_name_invalid(text, reason, german_error):
    r = validate("name", text)
    german_error(r, "Erika")
    assert reason in r.error


def test_name_uses_the_field_example():
    r = validate("name", "R2D2", example="Mustermann")
    assert r.error.endswith("so an: Mustermann.")
