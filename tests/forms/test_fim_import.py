"""The FIM XDatenfelder importer on the real "Antrag Blaue Karte EU" schema (S00000121)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from buergerassistent import fim_import
from buergerassistent.catalogue import parse_procedure
from buergerassistent.validation import FIELD_TYPES, validate

FIM_DIR = Path(__file__).resolve().parents[2] / "catalogue" / "fim"
SCHEMA = FIM_DIR / "S00000121_BlaueKarte.xml"


@pytest.fixture(scope="module")
def imported():
    return fim_import.import_file(SCHEMA)


def test_fields_load_as_a_catalogue_form(imported):
    proc = parse_procedure(
        {"id": "blaue_karte", "name": "Blaue Karte EU", "description": "x", "form": imported["form"]}
    )
    assert len(proc.fields) > 40
    assert {f.type for f in proc.fields} <= set(FIELD_TYPES)
    for f in proc.fields:
        if f.example:
            assert validate(f.type, f.example, choices=f.choices or None).ok, f.name


def test_known_fields_get_our_validators_and_prefill(imported):
    by_name = {f["name"]: f for f in imported["form"]["fields"]}
    assert by_name["familienname"]["type"] == "name" and by_name["familienname"]["required"] is True
    assert by_name["familienname"]["prefill"] == "family_name"
    assert by_name["titel"]["required"] is False  # anzahl 0:1
    assert by_name["postleitzahl"]["type"] == "postcode"
    assert by_name["datum_der_einreise_in_das_bundesgebiet"]["type"] == "date"
    assert by_name["krankenversicherung_vorhanden"]["type"] == "yes_no"
    assert by_name["jahresbruttobetrag_der_einnahmen"]["type"] == "amount"


def test_street_and_house_number_become_one_street_field(imported):
    streets = [f for f in imported["form"]["fields"] if f["type"] == "street"]
    assert streets and streets[0]["label"] == "Straße und Hausnummer"
    assert any("Hausnummer" in m for m in streets[0]["fim"]["merged"])
    assert not any(f["name"] == "hausnummer" for f in imported["form"]["fields"])


def test_uploads_are_skipped_and_code_lists_not_invented(imported):
    assert {s["name"] for s in imported["skipped"]} >= {"Lichtbild Person", "Nachweis Mietvertrag"}
    geschlecht = next(f for f in imported["form"]["fields"] if f["name"] == "geschlecht")
    assert geschlecht["type"] == "text" and "Codeliste" in geschlecht["help"]
    assert "choices" not in geschlecht


def test_slot_names_are_unique(imported):
    names = [f["name"] for f in imported["form"]["fields"]]
    assert len(names) == len(set(names))


def test_committed_field_list_is_the_importers_output_with_attribution():
    committed = (FIM_DIR / "S00000121_BlaueKarte.fields.yaml").read_text(encoding="utf-8")
    assert committed == fim_import.render(fim_import.import_file(SCHEMA), SCHEMA.name)
    assert "MIT" in committed.splitlines()[1]
    assert yaml.safe_load(committed)["fim_schema"]["id"] == "S00000121"
