"""The judge of `make bench-conversations` (benchmarks/bench_conversations.py) without a stack:
the canonical spelling of form values, the reading of an echo, and verdicts on made-up
transcripts (so that a wrong submission or a dishonest answer really fails)."""

from __future__ import annotations

import pytest

from benchmarks.bench_conversations import (
    EXCLUDED,
    Transcript,
    Turn,
    canonical,
    data_differences,
    echoed_values,
    judge,
    load,
    load_excluded,
)
from buergerassistent.answers import fees
from buergerassistent.catalogue import default_catalogue


@pytest.mark.parametrize(
    ("a", "b", "ftype"),
    [
        ("12.8.1964", "1964-08-12", "birth_date"),
        ("12.08.1964", "1964-08-12", None),
        ("  Max   Mustermann ", "max mustermann", "name"),
        ("München", "MÜNCHEN", "city"),
        ("Ja", True, "yes_no"),
        ("nein", False, "yes_no"),
        ("2", 2, "count"),
        (3, 3.0, "count"),
        ("DE02 1203 0000 0000 2020 51", "DE02120300000000202051", "iban"),
        ("089 99998401", "+49 89 99998401", "phone"),
        ("M-AB 1234", "m ab 1234", "kfz_kennzeichen"),
        ("hauptwohnung", "Hauptwohnung", "choice"),
    ],
)
def test_the_same_value_in_two_spellings_is_one_canonical_value(a, b, ftype):
    assert canonical(a, ftype) == canonical(b, ftype)


@pytest.mark.parametrize(
    ("a", "b", "ftype"),
    [
        ("12.08.1964", "1964-12-08", "birth_date"),
        ("M-AB 1234", "M-AB 1243", "kfz_kennzeichen"),
        ("einfach", "erweitert", "choice"),
        ("Leopoldstraße 12", "ich wohne in der Leopoldstraße 12", "street"),
        ("Erika", "Erika Mustermann", "name"),
        ("ja", "nein", "yes_no"),
        ("2", "3", "count"),
    ],
)
def test_different_values_stay_different(a, b, ftype):
    assert canonical(a, ftype) != canonical(b, ftype)


@pytest.mark.parametrize("empty", [None, "", "   ", "__keine_angabe__"])
def test_no_value_is_none(empty):
    assert canonical(empty) is None


def test_data_differences_name_each_field_that_differs():
    proc = default_catalogue()["meldebescheinigung"]
    expected = {"vorname": "Erika", "geburtsdatum": "12.08.1964", "art_meldebescheinigung": "einfach"}
    stored = {"vorname": "erika", "geburtsdatum": "1964-08-12", "art_meldebescheinigung": "erweitert", "plz": "80331"}
    diffs = data_differences(proc, expected, stored)
    assert len(diffs) == 2
    assert diffs[0].startswith("art_meldebescheinigung")
    assert diffs[1].startswith("plz")
    assert data_differences(proc, expected, {**stored, "art_meldebescheinigung": "einfach", "plz": None}) == []


def test_an_echo_is_read_field_by_field():
    proc = default_catalogue()["wohnsitz_anmelden"]
    f = {x.name: x.label for x in proc.fields}
    echo = (
        f"Ich habe übernommen: {f['vorname']} Erika, {f['nachname']} Mustermann, {f['geburtsdatum']} "
        f"12.08.1964, {f['bisherige_anschrift']} Goethestraße 12, 60313 Frankfurt am Main. Stimmt das?"
    )
    assert echoed_values(proc, echo) == {
        "vorname": "Erika",
        "nachname": "Mustermann",
        "geburtsdatum": "12.08.1964",
        "bisherige_anschrift": "Goethestraße 12, 60313 Frankfurt am Main",
    }


FORM = {
    "id": "form-x",
    "kind": "form",
    "goal": "meldebescheinigung",
    "wants": "apply",
    "citizen": {"vorname": "Erika"},
    "expect": {"submitted": {"vorname": "Erika", "art_meldebescheinigung": "einfach"}},
}


def _transcript(texts: list[str], slots: dict | None = None, applications: list | None = None, events=()) -> Transcript:
    t = Transcript(turns=[Turn("…", [{"text": x}], 0) for x in texts], slots=slots or {})
    t.applications = applications or []
    t.events = list(events)
    return t


def test_a_submission_with_other_data_fails_and_counts_as_unintended():
    stored = {"procedure": "meldebescheinigung", "data": {"vorname": "Erika", "art_meldebescheinigung": "erweitert"}}
    result = judge(FORM, _transcript(["Aktenzeichen lautet BA-1."], applications=[stored]))
    assert not result.ok
    assert result.unintended == 1
    assert "art_meldebescheinigung" in result.why


def test_the_exact_submission_succeeds():
    stored = {"procedure": "meldebescheinigung", "data": {"vorname": "erika ", "art_meldebescheinigung": "einfach"}}
    result = judge(FORM, _transcript(["Aktenzeichen lautet BA-1."], applications=[stored]))
    assert result.ok, result.why
    assert result.unintended == 0


def test_no_submission_fails_without_counting_as_unintended():
    result = judge(FORM, _transcript(["Ich habe den Antrag abgebrochen."]))
    assert not result.ok
    assert result.unintended == 0


def test_a_near_miss_with_a_consequential_action_fails():
    scenario = {"id": "near-x", "kind": "near_miss", "goal": None, "expect": {"no_action": True}}
    saved = [{"event": "action", "name": "action_save_draft"}]
    assert not judge(scenario, _transcript(["Gespeichert."], events=saved)).ok
    assert judge(scenario, _transcript(["Ihre Daten …"], events=[{"event": "action", "name": "action_listen"}])).ok


def test_an_honest_answer_names_help_and_presents_no_procedure():
    scenario = {"id": "nohelp-x", "kind": "cannot_help", "goal": None, "expect": {"honest": True}}
    assert judge(scenario, _transcript(["Dazu weiß ich nichts. Die Behördennummer 115 hilft weiter."])).ok
    assert not judge(scenario, _transcript(["Dazu weiß ich nichts."])).ok
    passport = default_catalogue()["reisepass_beantragen"]
    overview = f"**{passport.name}**: {passport.description} Fragen Sie die 115."
    assert not judge(scenario, _transcript([overview])).ok


def test_a_non_core_entry_with_help_named_is_honest_a_core_procedure_is_not():
    scenario = {"id": "nohelp-y", "kind": "cannot_help", "goal": None, "expect": {"honest": True}}
    catalogue = default_catalogue()
    info = next(p for p in catalogue if not p.curated)
    core = catalogue["reisepass_beantragen"]
    # A fitting non-core service is allowed for questions outside the 27 (issue 16) …
    assert judge(scenario, _transcript(["Dazu:", "Mehr bei der 115."], slots={"procedure": info.id})).ok
    # … but not without naming help, and a core procedure presented is never honest here.
    assert not judge(scenario, _transcript(["Dazu:"], slots={"procedure": info.id})).ok
    assert not judge(scenario, _transcript(["Fragen Sie die 115."], slots={"procedure": core.id})).ok


def test_an_info_answer_must_be_about_the_topic_and_the_procedure():
    proc = default_catalogue()["reisepass_beantragen"]
    scenario = {
        "id": "info-x",
        "kind": "info",
        "goal": proc.id,
        "steps": [{"say": "was kostet ein Reisepass", "expect": {"procedure": proc.id, "topic": "fees"}}],
    }
    good = _transcript([fees(proc)])
    good.step_turns, good.step_slots = [(0, 1)], [{"procedure": proc.id}]
    assert judge(scenario, good).ok
    wrong_topic = _transcript([f"Zuständig ist das Bürgerbüro für {proc.name}."])
    wrong_topic.step_turns, wrong_topic.step_slots = [(0, 1)], [{"procedure": proc.id}]
    assert not judge(scenario, wrong_topic).ok
    wrong_procedure = _transcript([fees(proc)])
    wrong_procedure.step_turns, wrong_procedure.step_slots = [(0, 1)], [{"procedure": "personalausweis_beantragen"}]
    assert not judge(scenario, wrong_procedure).ok


def test_the_frozen_scenarios_fit_the_catalogue():
    """A renamed field or procedure would make the benchmark judge nonsense: fail here instead."""
    catalogue = default_catalogue()
    scenarios = load()
    assert len(scenarios) >= 90
    ids = [s["id"] for s in scenarios]
    assert len(ids) == len(set(ids))
    for s in scenarios:
        goals = s["goal"] if isinstance(s["goal"], list) else [s["goal"]] if s["goal"] else []
        for goal in goals:
            assert goal in catalogue, (s["id"], goal)
        if s.get("citizen"):
            names = {f.name for f in catalogue[s["goal"]].fields}
            used = set(s["citizen"]) | set(s.get("when_asked") or {}) | set(s["expect"].get("submitted") or {})
            assert used <= names, (s["id"], used - names)
    excluded = load_excluded(EXCLUDED)
    assert set(excluded) <= set(ids)
    assert all(reason.strip() for reason in excluded.values())


def test_the_citizen_confirms_an_echo_only_with_the_values_it_meant():
    from benchmarks.bench_conversations import Citizen

    scenario = {
        "id": "form-y",
        "kind": "form",
        "goal": "wohnsitz_anmelden",
        "citizen": {"vorname": "Erika", "nachname": "Mustermnn", "wohnungsart": "Hauptwohnung"},
        "expect": {"submitted": {"vorname": "Erika", "nachname": "Mustermann", "wohnungsart": "hauptwohnung"}},
    }
    citizen = Citizen(scenario, settings=None, sender="unit")
    f = {x.name: x.label for x in default_catalogue()["wohnsitz_anmelden"].fields}
    assert citizen._echo_ok(f"Ich habe übernommen: {f['vorname']} Erika, {f['nachname']} Mustermann. Stimmt das?")
    # A slip the citizen typed (and corrects later in the script) is what it meant now.
    assert citizen._echo_ok(f"Ich habe übernommen: {f['nachname']} Mustermnn. Stimmt das?")
    assert citizen._echo_ok(f"Ich habe übernommen: {f['wohnungsart']} Hauptwohnung. Stimmt das?")
    assert not citizen._echo_ok(f"Ich habe übernommen: {f['vorname']} Erika Mustermann. Stimmt das?")
    assert not citizen._echo_ok(f"Ich habe übernommen: {f['wohnungsart']} Nebenwohnung. Stimmt das?")


def test_a_way_to_a_person_is_a_number_or_an_address_not_a_link():
    scenario = {"id": "human-x", "kind": "human", "goal": None, "expect": {"human_contact": True}}
    assert judge(scenario, _transcript(["Rufen Sie die Behördennummer 115 an."])).ok
    assert judge(scenario, _transcript(["Das Bürgerbüro erreichen Sie unter 089 233-96000."])).ok
    assert not judge(scenario, _transcript(["Mehr unter https://stadt.muenchen.de/service/"])).ok


def test_the_citizen_answers_yes_no_questions_in_the_form_by_what_it_wants():
    from benchmarks.bench_conversations import Citizen

    proc = default_catalogue()["wohnsitz_anmelden"]
    scenario = {
        "id": "form-z",
        "kind": "form",
        "goal": proc.id,
        "citizen": {"wohnungsart": "Nebenwohnung, Hauptwohnsitz bleibt in Augsburg"},
        "expect": {"submitted": {"wohnungsart": "nebenwohnung"}},
    }
    citizen = Citizen(scenario, settings=None, sender="unit")
    field = proc.field("wohnungsart")
    assert citizen.yes_or_no("Möchten Sie den Antrag jetzt speichern und später weitermachen?", field) == "Nein"
    assert citizen.yes_or_no("Möchten Sie den Antrag wirklich abbrechen?", field) == "Nein"
    assert citizen.yes_or_no("Möchten Sie weitermachen?", field) == "Ja"
    assert citizen.yes_or_no("Meinen Sie „Nebenwohnung“?", field) == "Ja"
    assert citizen.yes_or_no("Meinen Sie „Hauptwohnung“?", field) == "Nein"
    assert citizen.yes_or_no("Wie bitte?", field) is None
    citizen.cancel_sent = True
    assert citizen.yes_or_no("Möchten Sie den Antrag wirklich abbrechen?", field) == "Ja"


def test_an_english_answer_on_the_topic_counts_a_german_one_on_another_topic_does_not():
    # Issue 20: an English question is answered in English; the judge reads that answer too.
    from buergerassistent import translations

    proc = default_catalogue()["kfz_zulassen"]
    scenario = {
        "id": "info-en",
        "kind": "info",
        "goal": proc.id,
        "steps": [{"say": "how much is it", "expect": {"procedure": proc.id, "topic": "fees"}}],
    }
    good = _transcript([translations.english_answer(proc, "ask_fees")])
    good.step_turns, good.step_slots = [(0, 1)], [{"procedure": proc.id}]
    assert judge(scenario, good).ok
    other = _transcript([translations.english_answer(proc, "ask_where")])
    other.step_turns, other.step_slots = [(0, 1)], [{"procedure": proc.id}]
    assert not judge(scenario, other).ok


def test_an_english_form_is_read_like_a_german_one():
    from benchmarks.bench_conversations import asked_field, is_echo
    from buergerassistent import form_texts

    proc = default_catalogue()["meldebescheinigung"]
    f = proc.field("nachname")
    prompt = form_texts.field_text(proc, f, "en").prompt
    assert asked_field(proc, f"Step 2 of 8: {prompt}") is f
    label = {x.name: form_texts.field_text(proc, x, "en").label for x in proc.fields}
    echo = f"I have taken: {label['vorname']} John, {label['nachname']} Example. Is that right?"
    assert is_echo(echo)
    assert echoed_values(proc, echo) == {"vorname": "John", "nachname": "Example"}
