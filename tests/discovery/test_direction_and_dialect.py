"""Direction words, counterparts and Bavarian spellings (issue 16)."""

from __future__ import annotations

import pytest


def first(discovery, text):
    ranked = discovery.rank(text)
    return ranked[0].id if ranked else None


@pytest.mark.parametrize(
    "text, expected",
    [
        # the words fit the registration, the direction its counterpart
        ("Online-Shop dichtmachen", "gewerbe_abmelden"),
        ("ich will meinen kleinen Laden zumachen", "gewerbe_abmelden"),
        ("ich mache meinen Laden auf", "gewerbe_anmelden"),
        # weak direction words do not hand the evidence over
        ("Ich will nebenbei etwas verkaufen und brauche einen Gewerbeschein", "gewerbe_anmelden"),
        ("Wohnungsgeberbestätigung abgeben", "wohnsitz_anmelden"),
    ],
)
def test_direction_picks_the_counterpart(discovery, text, expected):
    assert first(discovery, text) == expected


def test_a_direction_word_the_catalogue_does_not_know_is_not_unexplained(discovery):
    # "zumachen" is in no entry; it must not push the request under MIN_SCORE
    assert first(discovery, "Laden zumachen") == "gewerbe_abmelden"


def test_an_entry_of_the_other_direction_is_never_the_confident_answer(discovery):
    decision = discovery.decide("Unser Hund ist gestorben, muss ich ihn bei der Hundesteuer abmelden?")
    assert decision.kind != "confident"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("i bin nach Minga zogn", "wohnsitz_anmelden"),
        ("mia ziagn um, wo muas i mi ummeldn", "wohnsitz_anmelden"),
        ("I hob mei Geldbeidl mitm Ausweis verlorn", "ausweis_verlust_melden"),
        ("Ausweis für meine 16-jährige Tochter beantragen", "personalausweis_beantragen"),
    ],
)
def test_bavarian_and_family_words(discovery, text, expected):
    assert first(discovery, text) == expected


@pytest.mark.parametrize(
    "text, lang",
    [
        # "is", "do", "i" are English words, the rest of the spelling is Bavarian
        ("Mei Oma is gstorbn, wo kriag i de Urkundn her", "de"),
        ("Grias di, da Perso vo meina Frau is obglaffa, wos miass ma do doa", "de"),
        ("My passport is expired", "en"),
        ("do I need a visa", "en"),
    ],
)
def test_bavarian_is_not_read_as_english(text, lang):
    from buergerassistent.procedure_finder import language_of

    assert language_of(text) == lang
