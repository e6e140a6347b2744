"""The content lints: each finds its problem with file:line, and the shipped content passes."""

from __future__ import annotations

import dataclasses

from buergerassistent.catalogue import Catalogue, default_catalogue
from content import lint
from content.nlu_data import read_file


def _examples(tmp_path, text):
    path = tmp_path / "x.yml"
    path.write_text(text, encoding="utf-8")
    return read_file(path)


def test_example_under_two_intents_is_an_error_with_file_and_line(tmp_path):
    examples, _ = _examples(
        tmp_path,
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - Hallo!\n'
        '- intent: thanks\n  examples: |\n    - danke\n    - hallo\n',
    )
    issues = lint.check_duplicates(examples)
    assert [i.level for i in issues] == ["error"]
    assert issues[0].where.endswith("x.yml:5")
    assert "'thanks'" in issues[0].message and "x.yml:9" in issues[0].message


def test_too_few_examples_and_intents_without_examples(tmp_path):
    examples, _ = _examples(
        tmp_path,
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n' + "".join(f"    - Hallo {i}\n" for i in range(9)),
    )
    domain = {"intents": ["greet", "thanks", "choose_procedure"]}
    cfg = {"min_examples": 3, "recommended_examples": 10, "payload_only_intents": ["choose_procedure"]}
    issues = {i.message.split("'")[1]: i for i in lint.check_example_counts(examples, domain, cfg)}
    assert issues["greet"].level == "warning"
    assert issues["thanks"].level == "error"
    assert "choose_procedure" not in issues


def test_a_procedure_whose_name_finds_another_is_unreachable():
    real = default_catalogue()["meldebescheinigung"]
    # A second entry with the same name: the search cannot lead to it.
    twin = dataclasses.replace(real, id="meldebescheinigung_kopie", fields=())
    issues = lint.check_discovery(Catalogue([twin]))
    assert issues and issues[0].level == "error"
    assert issues[0].where.startswith("catalogue/procedures/meldebescheinigung_kopie.yaml")
    assert "meldebescheinigung" in issues[0].message


def test_missing_question_for_a_form_field():
    domain = {
        "forms": {"meldebescheinigung_form": {"required_slots": ["vorname", "nachname"]}},
        "responses": {"utter_ask_meldebescheinigung_form_vorname": [{"text": "?"}]},
        "actions": [],
    }
    issues = [i for i in lint.check_form_responses(domain) if i.level == "error"]
    assert len(issues) == 1
    assert "nachname" in issues[0].message
    assert issues[0].where.startswith("catalogue/procedures/meldebescheinigung.yaml:")


def test_synonyms_and_entities_spelled_inconsistently(tmp_path):
    examples, synonyms = _examples(
        tmp_path,
        'version: "3.1"\nnlu:\n- synonym: personalausweis\n  examples: |\n    - Perso\n'
        '- synonym: reisepass\n  examples: |\n    - perso\n'
        '- intent: request_procedure\n  examples: |\n    - Ich brauche einen [Perso](procedure:Personal-Ausweis)\n'
        '    - Mein [Hund](haustier) ist neu\n',
    )
    issues = lint.check_spelling(examples, synonyms, {"entities": ["procedure"]}, Catalogue([]))
    messages = [str(i) for i in issues]
    assert any("x.yml:8: FEHLER" in m and "perso" in m for m in messages)  # one text, two values
    assert any("x.yml:12: FEHLER" in m and "haustier" in m for m in messages)  # entity not in domain
    assert any("Personal-Ausweis" in m and "personalausweis" in m for m in messages)  # two spellings


def test_catalogue_terms_spelled_differently_between_entries():
    cat = default_catalogue()
    a = dataclasses.replace(cat["kfz_zulassen"], synonyms=("KFZ Zulassung",))
    b = dataclasses.replace(cat["kfz_abmelden"], keywords=("Kfz-Zulassung",))
    issues = lint.check_spelling([], [], {"entities": []}, Catalogue([a, b]))
    assert any("anders geschrieben" in i.message for i in issues)


def test_shipped_content_has_no_lint_errors():
    """`make check-content` must pass on the repository (rasa data validate runs there too)."""
    errors = [str(i) for i in lint.run_checks(with_rasa=False) if i.level == "error"]
    assert errors == []


def test_a_procedure_that_changes_a_register_needs_a_trust_level():
    # Attack (issue 13): Abmeldung and Kfz-Abmeldung changed registers without any login.
    real = default_catalogue()["wohnsitz_abmelden"]
    assert real.changes_register and real.trust_level
    open_door = dataclasses.replace(real, trust_level=None)
    issues = lint.check_trust_levels(Catalogue([open_door]))
    assert [i.level for i in issues] == ["error"]
    assert issues[0].where.startswith("catalogue/procedures/wohnsitz_abmelden.yaml:")
    assert "trust_level" in issues[0].message
    undecided = dataclasses.replace(default_catalogue()["sperrmuell"], changes_register=None)
    assert [i.level for i in lint.check_trust_levels(Catalogue([undecided]))] == ["error"]


def test_every_shipped_procedure_that_changes_a_register_carries_a_trust_level():
    catalogue = default_catalogue()
    assert not lint.check_trust_levels(catalogue)
    changing = {p.id for p in catalogue.curated() if p.changes_register}
    assert {
        "wohnsitz_anmelden",
        "wohnsitz_abmelden",
        "kfz_abmelden",
        "gewerbe_anmelden",
        "ausweis_verlust_melden",
    } <= changing


def test_changes_register_must_be_a_yes_or_no():
    import pytest

    from buergerassistent.catalogue import CatalogueError, parse_procedure

    with pytest.raises(CatalogueError):
        parse_procedure({"id": "x", "name": "X", "description": "d", "changes_register": "ja"})
