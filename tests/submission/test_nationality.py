"""Nationality → Destatis code (issue 21): the operator's import of the official code list, the
chat's check of the answer against it, and the data document that carries the code.

The list is not shipped; the fixture ``tests/data/fit_connect/staatsangehoerigkeit_testliste.xml``
has the list's structure with MADE-UP codes (901–906)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from buergerassistent import fim_mapping, nationality
from buergerassistent.catalogue import default_catalogue
from buergerassistent.validation import validate

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "fit_connect" / "staatsangehoerigkeit_testliste.xml"
PROC = default_catalogue()["blaue_karte_eu"]
# English names as Debian's iso-codes package has them (ISO 3166-1 JSON), for the import's join.
ISO = {
    "3166-1": [
        {"alpha_2": "IN", "name": "India", "official_name": "Republic of India"},
        {"alpha_2": "AT", "name": "Austria", "official_name": "Republic of Austria"},
        {"alpha_2": "KR", "name": "Korea, Republic of", "common_name": "South Korea"},
    ]
}


@pytest.fixture
def var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def loaded(var_dir, tmp_path):
    iso = tmp_path / "iso_3166-1.json"
    iso.write_text(json.dumps(ISO), encoding="utf-8")
    assert nationality.main(["import", str(FIXTURE), "--english", str(iso)]) == 0
    return nationality.loaded_table()


def test_without_the_list_the_answer_goes_as_typed_and_the_state_says_so(var_dir):
    assert nationality.loaded_table() is None
    assert "nicht geladen" in nationality.status()
    result = validate("nationality", "Atlantisch")
    assert result.ok and result.value == "Atlantisch"
    node = fim_mapping.mapping_for(PROC)
    path = node.paths["staatsangehoerigkeit"]
    assert node.document({"staatsangehoerigkeit": "indisch"})[path[0]][path[1]] == "indisch"


def test_the_import_writes_the_list_with_its_source(loaded, var_dir, capsys):
    assert len(loaded.entries) == 6
    assert "Destatis" in loaded.source and "staatsangehoerigkeit_test" in loaded.source
    assert "iso-codes" in loaded.source
    assert "geladen: 6 Einträge" in nationality.status()
    assert nationality.main(["lookup", "indische"]) == 0
    assert capsys.readouterr().out.strip().endswith("901 Indien")


@pytest.mark.parametrize(
    "typed, code",
    [
        ("Indien", "901"),
        ("indisch", "901"),
        ("INDISCH", "901"),
        ("Ich bin indische Staatsangehörige", "901"),
        ("indsich", "901"),  # typo
        ("Republik Indien", "901"),
        ("India", "901"),
        ("republic of india", "901"),
        ("Österreich", "902"),
        ("oesterreichisch", "902"),
        ("Östereich", "902"),  # typo
        ("Austria", "902"),
        ("South Korea", "903"),
        ("Republic of Korea", "903"),
        ("Republik Korea", "903"),
        ("deutsch", "906"),  # a row without column references (genericode allows that)
        ("Sudan", "905"),  # the current state wins over the former one of the same name
        ("905", "905"),
    ],
)
def test_typed_nationalities_find_their_code(loaded, typed, code):
    assert nationality.code_for(typed, loaded) == code


@pytest.mark.parametrize("typed", ["Atlantis", "Europa", "", "in", "indisch und österreichisch", "999"])
def test_what_the_list_does_not_name_for_sure_is_not_guessed(loaded, typed):
    assert nationality.find(typed, loaded) is None


def test_the_chat_takes_the_state_and_asks_again_when_unknown(loaded):
    result = validate("nationality", "indische")
    assert result.ok and result.value == "Indien" and result.display == "Indien"
    assert validate("nationality", result.value).value == "Indien"  # a stored value stays itself
    wrong = validate("nationality", "Atlantis")
    assert not wrong.ok
    assert wrong.error == (
        "Diese Staatsangehörigkeit finde ich nicht sicher in der amtlichen Liste. "
        "Bitte geben Sie den Staat so an: Indien."
    )


def test_the_data_document_carries_the_code_and_the_schemas_only_allow_codes(loaded):
    m = fim_mapping.mapping_for(PROC)
    path = m.paths["staatsangehoerigkeit"]
    assert m.node(path).codelist == nationality.CODELIST_URN
    doc = m.document({"staatsangehoerigkeit": "Indien"})
    assert doc[path[0]][path[1]] == "901"
    field_schema = m.json_schema()["properties"][path[0]]["properties"][path[1]]
    assert field_schema["enum"] == ["901", "902", "903", "904", "905", "906"]
    # An answer the list does not know is never sent as a code-list value.
    bad = m.document({"staatsangehoerigkeit": "Atlantis"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad[path[0]][path[1]], field_schema)
    # XML: the same code, valid against the XSD; an unknown answer is refused by it.
    xml = m.xml_document({**_answers(), "staatsangehoerigkeit": "Indien"})
    m.validate_xml(xml)
    found = ET.fromstring(xml).findtext("/".join(f"f:{p}" for p in path), namespaces={"f": m.xml_namespace})
    assert found == "901"
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        m.validate_xml(m.xml_document({**_answers(), "staatsangehoerigkeit": "Atlantis"}))


def _answers() -> dict:
    out = {}
    for f in PROC.fields:
        result = validate(f.type, f.example, choices=f.choices)
        assert result.ok, f.name
        out[f.name] = result.value
    return out


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda s: s.replace(nationality.CODELIST_URN, "urn:xoev-de:kosit:codeliste:country-codes"),
            "falsche Codeliste",
        ),
        (lambda s: s.replace("<SimpleValue>902</SimpleValue>", "<SimpleValue>901</SimpleValue>"), "doppelt"),
        (lambda s: s.replace("<SimpleValue>903</SimpleValue>", "<SimpleValue>9x3</SimpleValue>"), "drei Ziffern"),
        (lambda s: s.replace("DESTATIS-Schluessel-Staatsangehoerigkeit", "Code"), "Spalte"),
        (lambda s: "kein xml", "kein XML"),
    ],
)
def test_the_import_refuses_what_is_not_the_list(var_dir, tmp_path, change, message, capsys):
    broken = tmp_path / "liste.xml"
    broken.write_text(change(FIXTURE.read_text(encoding="utf-8")), encoding="utf-8")
    assert nationality.main(["import", str(broken), "--no-english"]) == 1
    assert message in capsys.readouterr().out
    assert nationality.loaded_table() is None  # nothing half-loaded


def test_the_xrepository_json_export_loads_too(var_dir, tmp_path):
    _, entries = nationality.parse_codelist(FIXTURE.read_bytes())
    columns = ["DESTATIS-Schluessel-Staatsangehoerigkeit", "Suchbegriff", "Staatsangehoerigkeit", "Staatsname-kurz"]
    export = {
        "metadaten": {"kennung": nationality.CODELIST_URN + "_test", "kennungInhalt": nationality.CODELIST_URN},
        "spalten": [{"spaltennameTechnisch": c} for c in columns],
        "daten": [[n.code, n.search_term, n.adjective, n.short_name] for n in entries],
    }
    path = tmp_path / "liste.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    assert nationality.main(["import", str(path), "--no-english"]) == 0
    assert nationality.code_for("österreichisch") == "902"


def test_a_code_list_field_must_be_asked_as_nationality():
    import dataclasses

    fields = tuple(dataclasses.replace(f, type="text") if f.name == "staatsangehoerigkeit" else f for f in PROC.fields)
    errors, _ = fim_mapping.check_mapping(dataclasses.replace(PROC, fields=fields))
    assert any("staatsangehoerigkeit" in e and "type: nationality" in e for e in errors)
    assert fim_mapping.check_mapping(PROC)[0] == []


async def test_the_blue_card_reaches_the_destination_with_the_code(loaded, tmp_path):
    # The whole backend against the FIT-Connect test double, whose destination declares the
    # derived JSON Schema (with the loaded list's codes) and validates the decrypted document.
    from .test_fit_connect_blue_card import JSON, _setup

    double, server, backend = await _setup(tmp_path, JSON)
    try:
        await backend.submit("blaue_karte_eu", {**_answers(), "staatsangehoerigkeit": "Indien"}, "bk-n1")
    finally:
        await backend.close()
        await server.close()
    (sub,) = double.submissions.values()
    assert double.problems == []
    path = fim_mapping.mapping_for(PROC).paths["staatsangehoerigkeit"]
    assert sub.data[path[0]][path[1]] == "901"


def test_the_fit_connect_start_says_when_the_list_is_missing(var_dir, caplog):
    from buergerassistent.submission.fit_connect import FitConnectBackend

    from .test_fit_connect_blue_card import TEST_LEIKA, unreachable_route

    backend = FitConnectBackend(**unreachable_route(var_dir), leika_keys=f"blaue_karte_eu={TEST_LEIKA}")
    backend.check_procedure("blaue_karte_eu")
    assert "Staatsangehörigkeits-Codeliste nicht geladen" in caplog.text


def test_without_the_list_a_name_is_never_read_as_the_nationality(var_dir):
    """Without the list any word passes as a nationality, so in a message with several values it
    only answers the nationality question itself; "Max, Muster" asked for the first name is the
    name (found by the property test in tests/forms/test_repair_properties.py)."""
    from buergerassistent.repair import read_message

    assert nationality.loaded_table() is None
    assert read_message(PROC, "vorname", "Max, Muster", {}).values == {"vorname": "Max", "nachname": "Muster"}
    asked = read_message(PROC, "staatsangehoerigkeit", "Indien, München", {})
    assert asked.values == {"staatsangehoerigkeit": "Indien", "ort": "München"}


def test_with_the_list_a_nationality_is_recognised_among_several_values(loaded):
    from buergerassistent.repair import read_message

    reading = read_message(PROC, "vorname", "Max, Muster, indisch", {})
    assert reading.values == {"vorname": "Max", "nachname": "Muster", "staatsangehoerigkeit": "Indien"}
    assert read_message(PROC, "vorname", "Max, Muster", {}).values == {"vorname": "Max", "nachname": "Muster"}
