"""postcode, street, city."""

from __future__ import annotations

import pytest

from buergerassistent.validation import validate

# -------------------------------------------------------------------------------- postcode


@pytest.mark.parametrize(
    "text",
    ["80331", " 80331 ", " 80 331 ", "D-80331", "D 80331", "d-80331", "DE-80331", "DE80331", "PLZ 80331", "80.331"],
)
def test_postcode_valid(text):
    r = validate("postcode", text)
    assert r.ok, r.error
    assert (r.value, r.display) == ("80331", "80331")


@pytest.mark.parametrize("text", ["01067", "99998", "10115"])
def test_postcode_other_valid(text):
    assert validate("postcode", text).value == text


@pytest.mark.parametrize(
    "text,reason",
    [
        ("8033", "4 Ziffern"),
        ("803311", "6 Ziffern"),
        ("8", "1 Ziffer."),
        ("8O331", "nur aus Ziffern"),
        ("abcde", "nur aus Ziffern"),
        ("00123", "gibt es in Deutschland nicht"),
        ("", "keine Postleitzahl"),
    ],
)
def test_postcode_invalid(text, reason, german_error):
    r = validate("postcode", text)
    german_error(r, "80331")
    assert reason in r.error


def test_four_digit_postcode_says_five_are_needed():
    assert "5 Ziffern" in validate("postcode", "8033").error


# ---------------------------------------------------------------------------------- street


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Marienplatz 8", "Marienplatz 8"),
        ("  Marienplatz   8 ", "Marienplatz 8"),
        ("Marienplatz 8,", "Marienplatz 8"),
        ("Hauptstr. 12a", "Hauptstr. 12a"),
        ("Hauptstr.12A", "Hauptstr. 12a"),
        ("Hauptstraße 12 a", "Hauptstraße 12a"),
        ("Straße des 17. Juni 114", "Straße des 17. Juni 114"),
        ("straße des 17. juni 114", "Straße des 17. Juni 114"),
        ("Am Anger 3-5", "Am Anger 3-5"),
        ("Am Anger 3 - 5", "Am Anger 3-5"),
        ("am anger 3", "Am Anger 3"),
        ("Hauptstraße 5/7", "Hauptstraße 5/7"),
        ("Hauptstraße Nr. 5", "Hauptstraße 5"),
        ("Karl-Marx-Allee 90", "Karl-Marx-Allee 90"),
        ("karl-marx-straße 1", "Karl-Marx-Straße 1"),
        ("Unter den Linden 77", "Unter den Linden 77"),
        ("an der alster 5a", "An der Alster 5a"),
        ("Platz der Republik 1", "Platz der Republik 1"),
        ("Hauptstraße 012", "Hauptstraße 12"),
        ("Q5 12", "Q5 12"),  # Mannheim's squares
        ("Q5, 12", "Q5 12"),
    ],
)
def test_street_valid(text, expected):
    r = validate("street", text)
    assert r.ok, r.error
    assert r.value == expected


@pytest.mark.parametrize(
    "text,reason",
    [
        ("Marienplatz", "Hausnummer fehlt"),
        ("am anger", "Hausnummer fehlt"),
        ("8", "nicht als Straße"),
        ("Hauptstraße 5 Hinterhaus", "nicht als Straße"),
        ("Marienplatz 8, 80331 München", "Postleitzahl und Ort"),
        ("Hauptstraße 12345", "Postleitzahl und Ort"),
        ("Hauptstraße 0", "Hausnummer 0"),
        ("Marien@platz 8", "„@“"),
        ("Haupt5str 3", "nicht als Straße"),
        ("((Hauptstraße 3", "nicht als Straße"),
        ("Hauptstraße (Hof 3", "nicht als Straße"),
        ("Hauptstraße " * 10 + "3", "länger als 100"),
        ("", "keine Anschrift"),
    ],
)
def test_street_invalid(text, reason, german_error):
    r = validate("street", text)
    german_error(r, "Marienplatz 8")
    assert reason in r.error


def test_street_without_number_asks_for_it():
    assert validate("street", "Marienplatz").error == (
        "Die Hausnummer fehlt. Bitte geben Sie Straße und Hausnummer so an: Marienplatz 8."
    )


# ------------------------------------------------------------------------------------ city


@pytest.mark.parametrize(
    "text,expected",
    [
        ("München", "München"),
        ("münchen", "München"),
        ("Frankfurt am Main", "Frankfurt am Main"),
        ("frankfurt am main", "Frankfurt am Main"),
        ("Halle (Saale)", "Halle (Saale)"),
        ("halle (saale)", "Halle (Saale)"),
        ("Halle ( Saale )", "Halle (Saale)"),
        ("Frankfurt (Oder)", "Frankfurt (Oder)"),
        ("St. Ingbert", "St. Ingbert"),
        ("st. ingbert", "St. Ingbert"),
        ("Garmisch-Partenkirchen", "Garmisch-Partenkirchen"),
        ("garmisch-partenkirchen", "Garmisch-Partenkirchen"),
        ("Mülheim an der Ruhr", "Mülheim an der Ruhr"),
        ("Bad Tölz", "Bad Tölz"),
        ("Frankfurt a. M.", "Frankfurt a. M."),
        ("  Berlin ", "Berlin"),
    ],
)
def test_city_valid(text, expected):
    r = validate("city", text)
    assert r.ok, r.error
    assert r.value == expected


@pytest.mark.parametrize(
    "text,reason",
    [
        ("80331 München", "keine Ziffern"),
        ("München 2", "keine Ziffern"),
        ("München!", "„!“"),
        ("M", "nicht wie ein Ortsname"),
        ("/München", "nicht wie ein Ortsname"),
        ("Halle (Saale", "nicht wie ein Ortsname"),
        ("a" * 101, "länger als 100"),
        ("", "keinen Ort"),
    ],
)
def test_city_invalid(text, reason, german_error):
    r = validate("city", text)
    german_error(r, "München")
    assert reason in r.error
