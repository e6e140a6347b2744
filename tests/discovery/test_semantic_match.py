"""The sentence encoder's second opinion in discovery (buergerassistent/semantic_match.py): it
completes a choice and turns "nothing found" into a choice, never into an answer, and only with
core procedures; without the encoder the ranking decides alone."""

from __future__ import annotations

import numpy as np
import pytest

from buergerassistent import procedure_finder as finder
from buergerassistent import semantic_match
from buergerassistent.catalogue import default_catalogue
from buergerassistent.semantic_match import Closeness, SemanticIndex
from nlu import sentence_encoder

CORE = {p.id for p in default_catalogue() if p.curated and not p.information}


def ranked(text: str, intent: str = "request_procedure") -> tuple[str, list[str]]:
    d = finder.decide(text, intent, 0.9)
    return d.decision, [c.id for c in d.ranked]


def test_the_real_encoder_finds_a_procedure_its_words_do_not_name():
    found = semantic_match.closeness("250 Euro im Monat pro Kind beantragen")
    assert found is not None and found.core[0] == "kindergeld"
    assert set(found.core) == CORE


def test_an_outside_question_is_closer_to_an_information_entry_than_to_any_core_procedure():
    found = semantic_match.closeness("Wo finde ich einen Kinderarzt?")
    assert found is not None and found.gap < semantic_match.FILL_GAP


def test_a_choice_gets_the_procedure_the_ranking_missed():
    text = "Ich brauche ein amtliches Papier, dass mein Vater gestorben ist, für die Bank"
    decision, ids = ranked(text)
    assert decision == "choice" and "sterbeurkunde" in ids and len(ids) <= 3


def test_nothing_found_becomes_a_choice_when_the_meaning_is_clear(monkeypatch):
    text = "250 Euro im Monat pro Kind beantragen"
    assert ranked(text) == ("choice", ["kindergeld", "elterngeld", "reisepass_beantragen"])
    monkeypatch.setattr(semantic_match, "closeness", lambda text: None)
    assert ranked(text) == ("none", [])  # the ranking alone finds nothing


@pytest.mark.parametrize(
    ("text", "intent"),
    [("Wo finde ich einen Kinderarzt?", "out_of_scope"), ("Danke, das war alles", "thank"), ("Hallo", "greet")],
)
def test_small_talk_and_outside_questions_get_no_core_procedure_from_it(text, intent):
    d = finder.decide(text, intent, 0.9)
    assert not {c.id for c in d.candidates} & CORE


def fake(core: list[str], best: float, gap: float):
    return lambda text: Closeness(tuple(core), best, gap)


def test_complete_choice_fills_up_to_three_and_replaces_only_the_third(monkeypatch):
    monkeypatch.setattr(semantic_match, "closeness", fake(["c", "d", "a"], 0.9, 0.01))
    assert semantic_match.complete_choice("x", ["a"]) == ["a", "c", "d"]
    assert semantic_match.complete_choice("x", ["a", "b", "e"]) == ["a", "b", "c"]
    assert semantic_match.complete_choice("x", ["c", "b", "e"]) == ["c", "b", "e"]  # closest offered
    assert semantic_match.complete_choice("x", ["c"]) == ["c"]  # both read it alike: stays alone
    monkeypatch.setattr(semantic_match, "closeness", fake(["c", "d", "a"], 0.9, semantic_match.FILL_GAP - 0.001))
    assert semantic_match.complete_choice("x", ["a"]) == ["a"]  # another entry is closer


def test_rescue_needs_a_clear_and_close_core_procedure(monkeypatch):
    gap, best = semantic_match.RESCUE_GAP, semantic_match.RESCUE_MIN
    monkeypatch.setattr(semantic_match, "closeness", fake(["a", "b", "c", "d"], best, gap))
    assert semantic_match.rescue("x") == ["a", "b", "c"]
    monkeypatch.setattr(semantic_match, "closeness", fake(["a", "b", "c", "d"], best, gap - 0.001))
    assert semantic_match.rescue("x") == []
    monkeypatch.setattr(semantic_match, "closeness", fake(["a", "b", "c", "d"], best - 0.001, gap))
    assert semantic_match.rescue("x") == []


def test_a_form_answer_read_with_confidence_is_not_rescued(monkeypatch):
    monkeypatch.setattr(semantic_match, "closeness", fake(sorted(CORE), 0.95, 0.1))
    assert finder.decide("Müller", "affirm", 0.95).decision == "none"
    assert finder.decide("Müller", "request_procedure", 0.95).decision == "choice"


def test_an_answer_keeps_its_first_and_ranks_the_closest_third():
    decision, ids = ranked("Formular GewA 3 wo abgeben")
    assert decision == "answer" and ids[0] == "gewerbe_abmelden" and len(ids) == 3
    assert "gewerbe_abmelden" not in finder.alternatives("Formular GewA 3 wo abgeben", ["gewerbe_abmelden"], 6)


def test_the_closest_is_the_second_alternative_after_nein(monkeypatch):
    # "nein, das meine ich nicht" offers the first three alternatives (actions/context.py)
    text = "zweitpass wegen visum für geschäftsreisen"
    shown = [c.id for c in finder.decide(text, "request_procedure", 0.9).candidates]
    more = finder.alternatives(text, shown, 6)
    assert more[1] == "reisepass_beantragen" and "reisepass_beantragen" not in shown
    monkeypatch.setattr(semantic_match, "closeness", lambda text: None)
    assert "reisepass_beantragen" not in finder.alternatives(text, shown, 6)[:3]


def test_without_the_encoder_the_ranking_decides_alone(monkeypatch, tmp_path):
    monkeypatch.setattr(sentence_encoder, "encode", lambda texts: None)
    index = SemanticIndex(default_catalogue(), tmp_path)
    assert not index.available and index.closeness("Kindergeld") is None
    monkeypatch.setattr(semantic_match, "default_index", lambda: index)
    assert ranked("250 Euro im Monat pro Kind beantragen") == ("none", [])


def test_an_entry_is_as_close_as_the_mean_of_its_three_nearest_phrases(monkeypatch, tmp_path):
    rows = {"Eins": [1, 0], "zwei": [0.8, 0.6], "drei": [0, 1], "vier": [0.6, 0.8], "Fünf": [0, 1]}

    class Entry:
        def __init__(self, id, name, keywords, core):
            self.id, self.name, self.synonyms, self.keywords = id, name, (), tuple(keywords)
            self.description, self.curated, self.information = "", core, False

    def encode(texts):
        if texts == ["frage"]:
            return np.array([[1.0, 0.0]], dtype=np.float32)
        return np.array([rows[t] for t in texts], dtype=np.float32)

    monkeypatch.setattr(sentence_encoder, "encode", encode)
    index = SemanticIndex([Entry("a", "Eins", ["zwei", "drei", "vier"], True), Entry("b", "Fünf", [], False)])
    found = index.closeness("frage")
    assert found.core == ("a",)
    assert found.best == pytest.approx((1 + 0.8 + 0.6) / 3)  # "drei" (0) is the fourth nearest
    assert found.gap == pytest.approx(found.best - 0.0)  # "b" has one phrase, at 0
