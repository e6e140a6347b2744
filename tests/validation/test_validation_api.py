"""The public API: types, dispatch, examples, messages, round trips."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from buergerassistent.validation import FIELD_TYPES, Result, default_example, validate

TODAY = dt.date(2025, 6, 18)  # a Wednesday


@dataclass(frozen=True)
class FakeChoice:  # the validator only needs .value, .label, .synonyms
    value: str
    label: str
    synonyms: tuple[str, ...] = ()


CHOICES = (FakeChoice("einfach", "Einfach", ("normal",)), FakeChoice("erweitert", "Erweitert"))

EXPECTED_TYPES = {
    "name",
    "birth_date",
    "date",
    "future_date",
    "past_date",
    "postcode",
    "street",
    "city",
    "email",
    "phone",
    "iban",
    "steuer_id",
    "kfz_kennzeichen",
    "fin",
    "count",
    "amount",
    "choice",
    "yes_no",
    "text",
    "nationality",
}


def test_field_types_are_exactly_the_documented_ones():
    assert set(FIELD_TYPES) == EXPECTED_TYPES
    assert len(FIELD_TYPES) == len(EXPECTED_TYPES)


@pytest.mark.parametrize("field_type", ["", "Name", "datum", "plz", "unknown"])
def test_unknown_type_raises_value_error(field_type):
    with pytest.raises(ValueError, match="unknown field type"):
        validate(field_type, "80331")


@pytest.mark.parametrize("choices", [None, ()])
def test_choice_without_choices_is_a_programming_error(choices):
    with pytest.raises(ValueError):
        validate("choice", "einfach", choices=choices)


def test_result_shape_on_success_and_failure():
    good = validate("postcode", "80331")
    assert good == Result(ok=True, value="80331", display="80331", error=None)
    bad = validate("postcode", "8033")
    assert bad.ok is False and bad.value is None and bad.display is None and bad.error


@pytest.mark.parametrize("field_type", sorted(EXPECTED_TYPES))
def test_default_example_is_itself_valid(field_type):
    example = default_example(field_type, choices=CHOICES, today=TODAY)
    assert example
    result = validate(field_type, example, choices=CHOICES, today=TODAY)
    assert result.ok, (field_type, example, result.error)


# One clearly wrong answer per type; the error must be German and carry the example.
WRONG = {
    "name": "Erika2",
    "birth_date": "01.01.2030",
    "date": "kein Datum",
    "future_date": "gestern",
    "past_date": "morgen",
    "postcode": "8033",
    "street": "Marienplatz",
    "city": "80331 München",
    "email": "erika.example.org",
    "phone": "12345",
    "iban": "DE88 3704 0044 0532 0130 00",
    "steuer_id": "36574261890",
    "kfz_kennzeichen": "M-AB 12345",
    "fin": "WVWZZZ1JZ3W38675",
    "count": "0",
    "amount": "zwölf Taler",
    "choice": "egal",
    "yes_no": "vielleicht",
    "text": "   ",
    # Without the imported code list any state is taken as typed; too long is wrong either way
    # (the list: tests/submission/test_nationality.py).
    "nationality": "Republik " * 20,
}


def test_every_type_has_a_wrong_example():
    assert set(WRONG) == EXPECTED_TYPES


@pytest.mark.parametrize("field_type", sorted(WRONG))
def test_error_is_german_with_default_example(field_type, german_error):
    result = validate(field_type, WRONG[field_type], choices=CHOICES, today=TODAY)
    german_error(result, default_example(field_type, choices=CHOICES, today=TODAY))


@pytest.mark.parametrize("field_type", sorted(WRONG))
def test_error_uses_the_fields_own_example(field_type, german_error):
    result = validate(field_type, WRONG[field_type], choices=CHOICES, today=TODAY, example="XY-BEISPIEL-42")
    german_error(result, "XY-BEISPIEL-42")
    assert result.error.endswith(": XY-BEISPIEL-42.")  # the example closes the message


@pytest.mark.parametrize("field_type", sorted(EXPECTED_TYPES - {"text", "choice", "yes_no"}))
def test_empty_answer_is_rejected(field_type, german_error):
    for text in ("", "   ", None):
        result = validate(field_type, text, choices=CHOICES, today=TODAY)
        german_error(result, default_example(field_type, choices=CHOICES, today=TODAY))


# Stored values come back through validate() when the summary is shown (actions/forms.py),
# so a normalised value must validate to itself, with the same display.
ROUND_TRIP = [
    ("name", "von der leyen"),
    ("name", "o'brien"),
    ("birth_date", "am 12.8.64"),
    ("birth_date", "3. März 1985"),
    ("date", "12.08."),
    ("future_date", "nächsten Dienstag"),
    ("postcode", "D-80331"),
    ("street", "hauptstr. 12 A"),
    ("street", "Straße des 17. Juni 114"),
    ("city", "halle (saale)"),
    ("email", "Erika.Mustermann@Example.ORG"),
    ("phone", "089 233-0"),
    ("phone", "+44 20 7946 0958"),
    ("iban", "de89 3704 0044 0532 0130 00"),
    ("steuer_id", "36 574 261 809"),
    ("kfz_kennzeichen", "m ab 123h"),
    ("fin", "wvw zzz 1jz 3w 386752"),
    ("count", "zwei Exemplare"),
    ("amount", "1.200 Euro"),
    ("amount", "12,5"),
    ("choice", "normal"),
    ("yes_no", "jo"),
    ("text", "  Umzug  wegen Arbeit "),
]


@pytest.mark.parametrize("field_type,text", ROUND_TRIP)
def test_normalised_value_validates_to_itself(field_type, text):
    first = validate(field_type, text, choices=CHOICES, today=TODAY)
    assert first.ok, first.error
    again = validate(field_type, first.value, choices=CHOICES, today=TODAY)
    assert again.ok, again.error
    assert (again.value, again.display) == (first.value, first.display)


def test_today_may_be_a_datetime():
    r = validate("future_date", "morgen", today=dt.datetime(2025, 6, 18, 23, 59))
    assert r.value == "2025-06-19"


def test_default_today_is_used_without_today():
    from buergerassistent.validation import today_in_germany

    assert validate("date", "heute").value == today_in_germany().isoformat()


def test_non_string_input_is_accepted():
    assert validate("count", 3).value == "3"
    assert validate("postcode", 80331).value == "80331"
