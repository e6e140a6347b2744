"""The English examples of the form fields (``example:`` under ``fields:`` in
``catalogue/translations/en/<id>.yaml``, issue 20) are answers the form accepts from an English
reader, and mean what the German example means: the hint "Please enter it like this: …" and
"For example: …" must never show an answer that is then rejected."""

from __future__ import annotations

import pytest

from buergerassistent import form_texts
from buergerassistent.catalogue import default_catalogue
from buergerassistent.repair import read_message

FIELDS = [
    (proc, f)
    for proc in default_catalogue().with_forms()
    for f in proc.fields
    if (form_texts.english_fields().get(proc.id, {}).get(f.name) or {}).get("example")
]
BLUE_CARD = default_catalogue()["blaue_karte_eu"]


def test_there_are_english_examples():
    assert {proc.id for proc, _ in FIELDS} >= {"blaue_karte_eu", "meldebescheinigung"}


@pytest.mark.parametrize("proc,f", FIELDS, ids=[f"{p.id}.{f.name}" for p, f in FIELDS])
def test_an_english_example_is_accepted_in_english_and_means_the_german_one(proc, f):
    example = form_texts.field_text(proc, f, "en").example
    result = form_texts.check(proc, f, example, "en")
    assert result.ok, (example, result.error)
    if f.type in ("choice", "yes_no") and f.example:
        assert result.value == form_texts.check(proc, f, f.example, "de").value, (example, f.example)


@pytest.mark.parametrize(
    "name,answer,value,shown",
    [
        ("geschlecht", "Female", "w", "Female"),
        ("geschlecht", "not specified", "x", "Not specified"),
        ("krankenversichert", "yes", "ja", "yes"),
        ("vorbestraft", "no", "nein", "no"),
        ("einreisedatum", "1 February 2026", "2026-02-01", "1 February 2026"),
        ("jahresgehalt", "58000 euros", "58000.00", None),
    ],
)
def test_an_english_blue_card_applicant_answers_in_english(name, answer, value, shown):
    reading = read_message(form_texts.for_reading(BLUE_CARD, "en"), name, answer, {})
    assert {k: str(v) for k, v in reading.values.items()} == {name: value}
    if shown is not None:
        assert form_texts.display(BLUE_CARD, BLUE_CARD.field(name), value, "en") == shown
