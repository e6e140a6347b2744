"""Questions outside the core, weak matches and the NLU overrule (issue 16, second round)."""

from __future__ import annotations

import pytest

from buergerassistent import discovery as disc
from buergerassistent import procedure_finder as finder


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ich habe eine Geldbörse gefunden, wo gebe ich die ab?", "info_fundbuero"),
        ("Bei uns wurde eingebrochen", "info_polizei_anzeige"),
        ("Wo bekomme ich den München-Pass?", "info_muenchenpass"),
        ("Darf ich die Birke in meinem Garten fällen?", "info_baumfaellung"),
        ("Brauche ich eine Gaststättenerlaubnis für meine Kneipe?", "info_gaststaette"),
    ],
)
def test_frequent_topics_outside_the_core_have_an_information_entry(discovery, text, expected):
    ranked = discovery.rank(text)
    assert ranked and ranked[0].id == expected


def test_a_choice_led_by_a_non_core_entry_leaves_out_a_weaker_core_procedure(discovery):
    text = "Wie beantrage ich einen Erbschein nach dem Tod meines Vaters?"
    assert "sterbeurkunde" in [c.id for c in discovery.rank(text)]
    offered = [c.id for c in discovery.decide(text).candidates]
    assert offered[0] == "info_erbschein_nachlass" and "sterbeurkunde" not in offered
    saved = disc.CORE_BEHIND_OTHER_RATIO, disc.AFTER_EVENT_WEIGHT
    try:
        # "nach dem Tod" is context (AFTER_EVENT_WEIGHT); as a full noun it is the threshold's case
        disc.AFTER_EVENT_WEIGHT = 1.0
        assert "sterbeurkunde" not in [c.id for c in discovery.decide(text).candidates]
        disc.CORE_BEHIND_OTHER_RATIO = 0.0
        assert "sterbeurkunde" in [c.id for c in discovery.decide(text).candidates]
    finally:
        disc.CORE_BEHIND_OTHER_RATIO, disc.AFTER_EVENT_WEIGHT = saved


def test_a_verb_alone_does_not_fit(discovery):
    text = "Welche Aktie soll ich kaufen?"
    assert discovery.rank(text) == []
    saved = disc.UNFIRM_MIN_SCORE
    try:
        disc.UNFIRM_MIN_SCORE = 0.0
        assert discovery.rank(text) != []  # it was the threshold, not the vocabulary
    finally:
        disc.UNFIRM_MIN_SCORE = saved


def test_a_strong_choice_survives_an_nlu_overrule():
    text = "Geburtsurkunde für die Hochzeit"
    kept = finder.find(text, "out_of_scope", 0.95)
    assert kept.kind == "choose" and kept.candidates[0].id == "geburtsurkunde"
    saved = finder.OVERRULE_KEEP_SCORE
    try:
        finder.OVERRULE_KEEP_SCORE = 1.0
        assert finder.find(text, "out_of_scope", 0.95).kind == "unknown"
    finally:
        finder.OVERRULE_KEEP_SCORE = saved
    # a weak match is still dropped when NLU is sure it is not about a procedure
    assert finder.find("Wie wird das Wetter morgen?", "out_of_scope", 0.95).kind == "unknown"


def test_a_bare_command_word_stays_the_dialogue_s():
    # "abmelden" read as logout: the chat logs out (or says there is nothing to log out)
    assert finder.find("abmelden", "logout", 0.95).kind == "unknown"
    assert finder.find("PKW abmelden", "logout", 0.95).kind == "choose"
