"""Plausibility per field type: what is not a name, an address or a place is refused, with a
German message, and the words around an address are dropped."""

from __future__ import annotations

import pytest

from buergerassistent.validation import validate


@pytest.mark.parametrize(
    "text",
    [
        "Ich weiß nicht was ich hier schreiben soll",
        "Das ist mein Name",
        "I don't know",
        "what is this",
        "Arschloch",
        "Scheißformular",
        "Erika?",
        "Wie bitte",
        "Max und Moritz",
        "a b c d e f g",
        # picks from a list of choices, not names (found as a citizen: "das erste" after two needs
        # became first name "Das", family name "Erste")
        "das erste",
        "die zweite",
        "beide",
    ],
)
def test_not_a_name(text):
    r = validate("name", text)
    assert not r.ok and r.error, text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("my name is John", "John"),
        ("Weiß", "Weiß"),
        ("An", "An"),
        ("von der Leyen", "von der Leyen"),
        ("Maria de los Angeles", "Maria de los Angeles"),
        ("O'Brien", "O'Brien"),
    ],
)
def test_names_that_stay_names(text, expected):
    r = validate("name", text)
    assert r.ok and r.value == expected, r.error


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ich wohne in der Hauptstraße 5", "Hauptstraße 5"),
        ("wohne in der Hauptstraße 5", "Hauptstraße 5"),
        ("Meine Adresse ist Marienplatz 8", "Marienplatz 8"),
        ("Anschrift: Lindenweg 3", "Lindenweg 3"),
        ("wohne am Anger 3", "Am Anger 3"),
        ("In der Au 5", "In der Au 5"),
        ("Straße des 17. Juni 5", "Straße des 17. Juni 5"),
    ],
)
def test_street_without_the_words_around_it(text, expected):
    r = validate("street", text)
    assert r.ok and r.value == expected, r.error


@pytest.mark.parametrize("text", ["geb. 1.2.1980", "Hauptstr. 1 12", "ich weiß nicht 5", "meine Adresse 12"])
def test_not_a_street(text):
    assert not validate("street", text).ok, text


@pytest.mark.parametrize("text,expected", [("in München", "München"), ("ich wohne in Bad Tölz", "Bad Tölz")])
def test_city_without_the_words_around_it(text, expected):
    r = validate("city", text)
    assert r.ok and r.value == expected, r.error


def test_a_date_is_no_phone_number():
    assert not validate("phone", "2.1.2027").ok
    assert validate("phone", "089 233-0").ok
