"""Discovery ranking: situations, compounds, misspellings, nonsense, decide() kinds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.discovery import (
    Candidate,
    Decision,
    Discovery,
    damerau_levenshtein,
    normalise,
    stem,
    with_umlauts,
)

TESTSET = Path(__file__).resolve().parents[1] / "data" / "discovery" / "testset.yml"


def top1(discovery, text):
    ranked = discovery.rank(text, top=3)
    return ranked[0].id if ranked else None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("bin umgezogen", "wohnsitz_anmelden"),
        ("Auto verkauft, was jetzt?", "kfz_abmelden"),
        ("unser Kind ist gestern geboren", "geburtsurkunde"),
        ("mein Hund ist neu", "hundesteuer_anmelden"),
        ("brauch nen neuen perso", "personalausweis_beantragen"),
        ("Ummeldung", "wohnsitz_anmelden"),
        ("Führerschein tauschen", "fuehrerschein_umtausch"),
        ("Hundemarke", "hundesteuer_anmelden"),
        ("wie melde ich mich ab, ich ziehe nach Kanada", "wohnsitz_abmelden"),
    ],
)
def test_situations_find_the_procedure(discovery, text, expected):
    assert top1(discovery, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Bewohnerparkausweis", "bewohnerparkausweis"),
        ("Anwohnerparkausweis", "bewohnerparkausweis"),
        ("Hundesteueranmeldung", "hundesteuer_anmelden"),
        ("Gewerbeabmeldung", "gewerbe_abmelden"),
        ("Kfz-Abmeldung", "kfz_abmelden"),
        # split compounds are glued again
        ("Bewohnerpark ausweis", "bewohnerparkausweis"),
        ("kinder geld", "kindergeld"),
        ("halte verbot umzug", "halteverbot_umzug"),
    ],
)
def test_compounds(discovery, text, expected):
    assert top1(discovery, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Meldebeschenigung", "meldebescheinigung"),
        ("Fuehrerschein umtauschen", "fuehrerschein_umtausch"),
        ("Fuehrungszeugnis", "fuehrungszeugnis"),
        ("Persoausweis", "personalausweis_beantragen"),
        ("Hundesteur", "hundesteuer_anmelden"),
        ("Einbürgrung", "einbuergerung"),
        ("Sperrmuell", "sperrmuell"),
    ],
)
def test_misspellings(discovery, text, expected):
    assert top1(discovery, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # Berlin, Low German, Swabian, Alemannic, Rhenish, Saxon (COLLOQUIAL and _DIALECT_SOUNDS)
        ("ick bin nach berlin jezogen, wo muss ick mir anmelden", "wohnsitz_anmelden"),
        ("ik bün ümtrocken, wo mutt ik mi anmellen", "wohnsitz_anmelden"),
        ("dr lappe vo meim opa, muss der den au umtausche?", "fuehrerschein_umtausch"),
        ("isch han e jeschäff opjemaat, muss isch dat irjendwo aanmelde?", "gewerbe_anmelden"),
        ("mei bersonalausweis is abgeloofn, wo griech ich n neuen?", "personalausweis_beantragen"),
        ("isch brauch e fiehrungszeignis for die arbeit", "fuehrungszeugnis"),
    ],
)
def test_regional_spellings(discovery, text, expected):
    assert top1(discovery, text) == expected


def test_regional_rewrites_only_count_where_they_meet_a_catalogue_word(discovery):
    from buergerassistent.discovery import dialect_variants

    assert "anmelden" in dialect_variants("aamelde") and "auto" in dialect_variants("audo")
    assert discovery.rank("jrummel oodewa blubbe") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GewA 1 ausfüllen", "gewerbe_anmelden"),
        ("GewA 3 ausfüllen", "gewerbe_abmelden"),
        ("gewa1 formular", "gewerbe_anmelden"),
    ],
)
def test_a_form_code_with_its_number_names_its_procedure(discovery, text, expected):
    # "GewA" alone is both; the number tells them apart (catalogue keywords "GewA 1", "GewA 3")
    assert top1(discovery, text) == expected
    assert {c.id for c in discovery.rank("GewA ausfüllen", top=2)} == {"gewerbe_anmelden", "gewerbe_abmelden"}


@pytest.mark.parametrize(
    "text",
    [
        "Wie wird das Wetter morgen?",
        "Ich suche ein Restaurant",
        "Wer ist der Bundeskanzler",
        "asdf qwertz",
        "",
        "   ",
        "?!",
        "und oder aber",
    ],
)
def test_nonsense_gives_nothing(discovery, text):
    assert discovery.rank(text) == []
    assert discovery.decide(text) == Decision("unknown", [])


def test_rank_returns_sorted_candidates_with_comparable_scores(discovery):
    ranked = discovery.rank("Auto abmelden", top=5)
    assert ranked and all(isinstance(c, Candidate) for c in ranked)
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s < 1.0 for s in scores)
    assert len(discovery.rank("Auto abmelden", top=1)) == 1
    assert discovery.rank("Auto abmelden", top=0) == []


def test_anmelden_and_abmelden_are_told_apart(discovery):
    assert top1(discovery, "Gewerbe anmelden") == "gewerbe_anmelden"
    assert top1(discovery, "Gewerbe abmelden") == "gewerbe_abmelden"
    assert top1(discovery, "Auto anmelden") == "kfz_zulassen"
    assert top1(discovery, "Auto abmelden") == "kfz_abmelden"


def test_decide_confident(discovery):
    decision = discovery.decide("Ich möchte meinen Hund zur Hundesteuer anmelden")
    assert decision.kind == "confident"
    assert [c.id for c in decision.candidates] == ["hundesteuer_anmelden"]
    assert decision.best.id == "hundesteuer_anmelden"


def test_decide_choose_when_several_fit(discovery):
    decision = discovery.decide("Anmeldung")
    assert decision.kind == "choose"
    ids = [c.id for c in decision.candidates]
    assert 2 <= len(ids) <= 3 and "wohnsitz_anmelden" in ids


def test_decide_unknown(discovery):
    decision = discovery.decide("Wie wird das Wetter morgen?")
    assert decision.kind == "unknown" and decision.candidates == [] and decision.best is None


def test_imported_munich_services_are_found_too(discovery):
    ranked = discovery.rank("Waffenbesitzkarte beantragen")
    assert ranked and ranked[0].id.startswith("muenchen_") and ranked[0].curated is False


def test_curated_wins_over_imported_for_equal_evidence():
    def proc(pid, curated):
        return Procedure(
            id=pid,
            name="Hundesteuer",
            description="Hund anmelden.",
            synonyms=("Hundemarke",),
            curated=curated,
        )

    fillers = [
        Procedure(id=f"z{i}", name=f"Leistung {word}", description=f"{word} beantragen.")
        for i, word in enumerate(
            "Sperrmüll Wohngeld Reisepass Briefwahl Bauantrag Elterngeld Kindergeld Sterbeurkunde"
            " Einbürgerung Halteverbot Gewerbe Führerschein".split()
        )
    ]
    d = Discovery.from_catalogue([proc("muenchen_hund", False), proc("hund", True), *fillers])
    assert [c.id for c in d.rank("Hundemarke", top=2)] == ["hund", "muenchen_hund"]


def test_text_helpers():
    assert normalise("Führerschein") == "führerschein"
    assert normalise("Straße") == "strasse"
    assert with_umlauts("fuehrerschein") == "führerschein"
    assert with_umlauts("hund") is None
    assert stem("anmeldung") == stem("anmelden")
    assert stem("ausweises") == stem("ausweis")
    assert stem("persönlich") != stem("person")
    assert damerau_levenshtein("strebeurkunde", "sterbeurkunde", 2) == 1
    assert damerau_levenshtein("abc", "xyz", 1) == 2


def test_compound_splitting_uses_the_catalogue_vocabulary(discovery):
    lex = discovery._lex
    assert lex.split("hundesteueranmeldung") == ("hundesteuer", "anmeldung")
    assert lex.split("persoausweis") == ("perso", "ausweis")
    assert lex.split("bundeskanzler") == ()


# ---------------------------------------------------------------- the labelled test set
@pytest.fixture(scope="module")
def testset():
    with TESTSET.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_testset_is_well_formed(testset):
    curated = {p.id for p in default_catalogue().curated()}
    procedures = testset["procedures"]
    assert set(procedures) == curated
    seen: set[str] = set()
    for proc, splits in procedures.items():
        assert len(splits["test"]) >= 8, proc
        assert len(splits["dev"]) >= 4, proc
        for text in splits["dev"] + splits["test"]:
            assert text.lower() not in seen, f"duplicate: {text}"
            seen.add(text.lower())
    ood = testset["out_of_catalogue"]
    assert len(ood["dev"]) + len(ood["test"]) >= 40 and len(ood["test"]) >= 40
    for text in ood["dev"] + ood["test"]:
        assert text.lower() not in seen, f"duplicate: {text}"
        seen.add(text.lower())


def test_quality_on_the_dev_split(discovery, testset):
    """A regression guard on the split the parameters were tuned on (test split: benchmark)."""
    labelled = [(t, p) for p, s in testset["procedures"].items() for t in s["dev"]]
    hits = sum(1 for t, p in labelled if top1(discovery, t) == p)
    assert hits / len(labelled) >= 0.90
    curated = set(testset["procedures"])
    ood = testset["out_of_catalogue"]["dev"]
    rejected = sum(1 for t in ood if top1(discovery, t) not in curated)
    assert rejected / len(ood) >= 0.80
