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


# --------------------------------------------------------------------------- core facts (issue 15)
def _core_issues(proc, today=None):
    return [i for i in lint.check_core_facts(Catalogue([proc]), today=today) if i.level == "error"]


def test_every_shipped_core_procedure_states_its_facts_with_source_and_date():
    catalogue = default_catalogue()
    assert len(catalogue.curated()) >= 27
    assert [str(i) for i in lint.check_core_facts(catalogue) if i.level == "error"] == []


def test_a_core_procedure_without_documents_fails_the_check():
    real = default_catalogue()["personalausweis_beantragen"]
    broken = dataclasses.replace(real, documents=())
    issues = _core_issues(broken)
    assert len(issues) == 1
    assert issues[0].where.startswith("catalogue/procedures/personalausweis_beantragen.yaml:")
    assert "Unterlagen" in issues[0].message and "fehlt" in issues[0].message


def test_documents_may_not_be_marked_unknown():
    from buergerassistent.catalogue import Unknown

    real = default_catalogue()["wohngeld"]
    shrugged = dataclasses.replace(real, documents=(), unknown={**real.unknown, "documents": Unknown("?", "115")})
    issues = _core_issues(shrugged)
    assert len(issues) == 1 and "als unbekannt markiert" in issues[0].message


def test_missing_fees_processing_time_deadlines_or_online_fail_unless_marked_unknown():
    from buergerassistent.catalogue import Unknown

    real = default_catalogue()["kfz_zulassen"]
    silent = dataclasses.replace(real, fees=None, processing_time=None, deadlines=(), online_available=None)
    messages = " ".join(i.message for i in _core_issues(silent))
    for label in ("Gebühren", "Bearbeitungsdauer", "Fristen", "online"):
        assert label in messages
    marked = dataclasses.replace(
        silent,
        unknown={
            fact: Unknown("Der Katalog kennt es nicht.", "Kfz-Zulassungsbehörde")
            for fact in ("fees", "processing_time", "deadlines", "online")
        },
    )
    assert _core_issues(marked) == []


def test_a_fact_without_source_or_with_a_future_date_fails():
    from buergerassistent.catalogue import FactSource

    real = default_catalogue()["wohnsitz_anmelden"]
    unsourced = dataclasses.replace(real, fact_sources={})
    issues = _core_issues(unsourced)
    assert len(issues) == 6 and all("ohne Quelle" in i.message for i in issues)
    future = dataclasses.replace(real, fact_sources={"default": FactSource("§ 17 BMG", checked="2099-01-01")})
    assert all("Zukunft" in i.message for i in _core_issues(future)) and _core_issues(future)
    import datetime as dt

    stale = lint.check_core_facts(Catalogue([real]), today=dt.date(2030, 1, 1))
    assert stale and all(i.level == "warning" and "neu prüfen" in i.message for i in stale)


def test_a_broken_catalogue_file_fails_the_check(tmp_path):
    """From YAML: `documents: null` and a plain `processing_time: null` are errors; an explicit
    unknown with reason and where to ask is fine."""
    from buergerassistent.catalogue import load_catalogue

    (tmp_path / "testverfahren.yaml").write_text(
        """id: testverfahren
name: Testverfahren
description: Sie testen etwas.
documents: null
fees: "10 Euro"
processing_time: null
deadlines:
  unknown: Die Frist legt die Gemeinde fest.
  ask: Gemeinde
authority: Gemeinde
online:
  available: false
fact_sources:
  default: {source: "Testquelle", checked: "2026-12-01"}
""",
        encoding="utf-8",
    )
    issues = _core_issues(load_catalogue(tmp_path)["testverfahren"])
    messages = sorted(i.message.split(":")[1].split(" fehlt")[0].strip() for i in issues)
    assert messages == ["Bearbeitungsdauer (processing_time)", "Unterlagen (documents)"]


def test_a_defining_term_must_be_a_word_of_the_entry():
    real = default_catalogue()["info_kirchenaustritt"]
    odd = dataclasses.replace(real, defining_terms=("Kirche", "Sportverein"))
    issues = lint.check_defining_terms(Catalogue([odd]))
    assert [i.level for i in issues] == ["error"]
    assert "Sportverein" in issues[0].message
    assert issues[0].where.startswith("catalogue/information/info_kirchenaustritt.yaml")
    nameless = dataclasses.replace(real, name="Austritt erklären", defining_terms=("Kirchensteuer",))
    assert any("Name" in i.message for i in lint.check_defining_terms(Catalogue([nameless])))


def test_the_shipped_defining_terms_pass():
    assert lint.check_defining_terms() == []


def test_an_english_defining_term_must_be_a_word_of_the_translation(monkeypatch):
    from buergerassistent import translations

    real = translations.english("kindergeld")
    odd = dataclasses.replace(real, defining_terms=("benefit", "bicycle"))
    monkeypatch.setattr(translations, "english", lambda pid: odd if pid == "kindergeld" else None)
    issues = lint.check_defining_terms(Catalogue([default_catalogue()["kindergeld"]]))
    assert [i.level for i in issues] == ["error"] and "bicycle" in issues[0].message
