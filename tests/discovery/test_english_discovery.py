"""English discovery (issue 20): the English index, the language a message is ranked in, and
the English chat's decision (the same function as `python -m bot discover`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from buergerassistent import language_replies
from buergerassistent.catalogue import default_catalogue
from buergerassistent.discovery import english_stem
from buergerassistent.procedure_finder import decide, decide_english, language_of

DATA = Path(__file__).resolve().parents[1] / "data" / "discovery"
# sha256 of tests/data/discovery/en_frozen.yml as frozen (commit "Freeze blind English discovery
# set", copied unchanged from the blind writer's file before any English data was written).
EN_FROZEN_SHA256 = "f3ce370544ba361ee95455177f5057c0349c3538b419d430d8b670b7d18155b2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I just moved into a new flat, how do I register my address?", "wohnsitz_anmelden"),
        ("Anmeldung for my apartment", "wohnsitz_anmelden"),
        ("lost my passport on the train", "ausweis_verlust_melden"),
        ("I want to become a German citizen", "einbuergerung"),
        ("sold my car, what now?", "kfz_abmelden"),
        ("I bought a used car and need number plates", "kfz_zulassen"),
        ("I'm closing my small cafe", "gewerbe_abmelden"),
        ("dog tax", "hundesteuer_anmelden"),
        ("how to registr my adress", "wohnsitz_anmelden"),
    ],
)
def test_english_requests_find_their_procedure(text, expected):
    d = decide_english(text)
    assert d.decision != "none", d
    assert d.ranked[0].id == expected


@pytest.mark.parametrize(
    "text",
    ["How do I get health insurance in Germany?", "what's the weather like tomorrow?", "How do I get a tax ID?"],
)
def test_english_questions_outside_the_core_get_none(text):
    # (the tax ID has an information entry, but no English text to present: the chat says it has
    # no fitting service, with 115)
    assert decide_english(text).decision == "none"


def test_direction_words_in_english():
    assert decide_english("I want to deregister my business").candidates[0].id == "gewerbe_abmelden"
    assert decide_english("I want to register my business").candidates[0].id == "gewerbe_anmelden"


def test_language_of_a_message():
    assert language_of("Where do I register my new flat?") == "en"
    assert language_of("Anmeldung for my flat") == "en"  # more English than German words
    assert language_of("Ich bin umgezogen") == "de"
    assert language_of("Reisepass verlängern") == "de"  # no function words: German finds it
    assert language_of("Wo kriag i an Wahlschein her") == "de"  # Bavarian "i" is no English
    assert language_of("bulky waste pickup") == "en"  # German finds nothing, English does


def test_the_decision_for_english_is_the_english_chat_path():
    # A message the detector reads as English goes to the English path whatever NLU read.
    text = "Where can I apply for child benefit?"
    assert decide(text, "greet", 0.99, routed=False).decision == "answer"
    assert decide(text, "greet", 0.99, routed=False).candidates[0].id == "kindergeld"


def test_stemmer_joins_british_and_american_spelling_and_forms():
    assert english_stem("naturalization") == english_stem("naturalisation")
    assert english_stem("license") == english_stem("licence") == english_stem("licences")
    assert english_stem("registration") == english_stem("register")
    assert english_stem("collection") == english_stem("collect")


def test_english_chat_offers_the_choice_it_reports():
    text = "I need a new permit"  # parking, residence, building: not clearly one
    d = decide_english(text)
    reply = language_replies.reply("en", "detected", text, False, False, None)
    if d.decision == "choice":
        assert reply.choices and len(reply.choices) == len(d.candidates)
        # a button sends the English name, which is then that service
        for name, cand in zip(reply.choices, d.candidates, strict=True):
            chosen = decide_english(name)
            assert chosen.decision == "answer" and chosen.candidates[0].id == cand.id
    else:
        assert d.decision == "answer" and reply.procedure == d.candidates[0].id


def test_every_english_name_is_its_service():
    from buergerassistent import translations

    for pid, entry in translations.english_entries().items():
        d = decide_english(entry.name)
        assert (d.decision, d.candidates[0].id) == ("answer", pid)


def test_english_frozen_set_is_untouched_and_well_formed():
    path = DATA / "en_frozen.yml"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == EN_FROZEN_SHA256
    questions = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    catalogue = default_catalogue()
    assert len(questions) >= 150
    assert sum(q["expected"] is None for q in questions) >= 30
    for q in questions:
        assert q["text"] and (q["expected"] is None or q["expected"] in catalogue)


def test_english_development_split_is_well_formed_and_not_copied():
    questions = yaml.safe_load((DATA / "en_dev.yml").read_text(encoding="utf-8"))["questions"]
    catalogue = default_catalogue()
    frozen = {q["text"].lower() for q in yaml.safe_load((DATA / "en_frozen.yml").read_text())["questions"]}
    for q in questions:
        assert q["expected"] is None or q["expected"] in catalogue, q
        assert all(a in catalogue for a in q.get("also_ok") or []), q
    # (the frozen questions themselves are never printed)
    copied = [q["text"] for q in questions if q["text"].lower() in frozen]
    assert not copied, f"the development split must not copy the frozen set: {len(copied)} sentences"
