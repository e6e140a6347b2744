"""Fourteenth round (issue 16): a separable end verb the lemma table reads as a noun, a move
within Germany that asks about both registrations, compound heads German knows, and the
place of the recognition of paternity in the baby checklist."""

from __future__ import annotations

from buergerassistent.first_message import decide as chat_decide
from buergerassistent.life_situations import default_life_situations, first_checklist


def test_a_separable_end_verb_read_as_a_noun_still_ends(discovery):
    lex = discovery._lex
    # the lemma table reads "stelle"/"stellen" as the noun "Stelle": "ein" + lemma is no verb
    toks = lex.tokens("Ich stelle meine selbständige Arbeit als Grafikerin ein")
    assert lex.direction(toks) == -1
    assert discovery.rank("Ich stelle meine selbständige Arbeit als Grafikerin ein")[0].id == "gewerbe_abmelden"
    # "ein" as an article in the middle of a clause is no particle: no end
    assert lex.direction(lex.tokens("Ich stelle ein Gesuch und will mich selbständig machen")) == 1


def test_ending_self_employment_is_not_the_life_event_of_starting_it(discovery):
    text = "Sie stellen Ihre selbstständige Tätigkeit ein?"
    assert discovery.says_end(text)
    assert first_checklist(text) is None
    decision = chat_decide(text, "request_procedure", 0.64, as_request=True)
    assert decision.ranked[0].id == "gewerbe_abmelden"
    # starting it still is
    assert first_checklist("Ich mache mich selbstständig, was muss ich tun?") is not None
    assert [s.id for s, _ in default_life_situations().matches("Ich mache mich selbständig")] == ["selbststaendig"]


def test_a_move_within_germany_asks_for_the_registration_first(discovery):
    lex = discovery._lex
    for text in (
        "Umzug von Köln nach Leipzig – muss ich mich in Köln abmelden oder reicht die Anmeldung in Leipzig?",
        "Ich ziehe nur innerhalb von Hamburg in eine andere Wohnung. Muss ich mich vorher abmelden?",
    ):
        assert lex.direction(lex.tokens(text)) == 1, text
        assert discovery.rank(text)[0].id == "wohnsitz_anmelden", text
    # what else ends with a move within Germany is not the registration: "mein Gewerbe abmelden"
    for text in (
        "Ich ziehe nach Hamburg und muss mein Gewerbe hier abmelden",
        "Wir ziehen von Köln nach Bonn, wie melde ich mein Gewerbe ab?",
    ):
        assert lex.direction(lex.tokens(text)) == 0, text
        assert discovery.rank(text)[0].id == "gewerbe_abmelden", text
    # a move abroad with both words stays undecided between the two, and leaving still ends
    assert lex.direction(lex.tokens("Ich ziehe nach Kanada, muss ich mich abmelden oder anmelden?")) != 1
    assert discovery.rank("Ich ziehe nach Kanada, muss ich mich abmelden?")[0].id == "wohnsitz_abmelden"


def test_a_compound_head_that_german_knows_is_not_cut_for_a_shorter_one(discovery):
    lex = discovery._lex
    # "Preise" is a German word: its "reise" is no head of "Eintrittspreise"
    assert lex.affixes("eintrittspreise") == ("eintritt",)
    assert "reisepass_beantragen" not in [c.id for c in discovery.rank("Eintrittspreise Zoo Hannover mit Kindern")]
    # a head inside a compound German does not list is still found
    assert lex.affixes("kleiderschrank") == ("schrank",)
    assert lex.affixes("sperrmüllabfuhr") == ("sperrmüll", "müllabfuhr")


def test_the_recognition_of_paternity_comes_last_in_the_baby_checklist():
    # it concerns only parents who are not married to each other (the catalogue's keywords): a
    # step for some comes after the steps for all, before and after the birth
    for text in (
        "Unser Sohn ist letzte Woche zur Welt gekommen. Was müssen wir jetzt erledigen?",
        "Wir bekommen ein Baby, was müssen wir erledigen?",
    ):
        checklist = first_checklist(text)
        assert checklist is not None, text
        ids = [item.procedure for item in checklist.items]
        assert ids == [
            "geburtsurkunde",
            "kindergeld",
            "elterngeld",
            "muenchen_vaterschaftsanerkennung_ohne_sorgerechtserklaerung_vor",
        ], text
        assert "nicht miteinander verheiratet" in checklist.items[-1].note
