"""Thirteenth round (issue 16): what a story tells as done is its background, a document the
citizen already has is no request, only unknown words are spelling mistakes, and a life event's
question about where to begin still gets the checklist."""

from __future__ import annotations

from buergerassistent import discovery as disc
from buergerassistent import procedure_finder as finder
from buergerassistent import semantic_match
from buergerassistent.first_message import decide as chat_decide
from buergerassistent.life_situations import first_checklist


def test_a_known_word_is_not_taken_for_a_misspelt_catalogue_word(discovery):
    lex = discovery._lex
    assert lex.is_word("Wetter") and lex.is_word("kochen") and not lex.is_word("wohung")
    text = "Wie lange muss ein Ei kochen, damit es wachsweich ist?"
    assert discovery.decide(text).kind == "unknown"
    saved = disc.CORRECT_KNOWN_WORDS
    try:
        disc.CORRECT_KNOWN_WORDS = True
        lex._fuzzy_cache.clear()
        # "kochen" read as "Kuchen" (selling cakes is a trade): a confident wrong answer
        decision = discovery.decide(text)
        assert decision.kind == "confident" and decision.best.id == "gewerbe_anmelden"
    finally:
        disc.CORRECT_KNOWN_WORDS = saved
        lex._fuzzy_cache.clear()
    # a word German does not know is still corrected
    assert discovery.rank("Wie beantrage ich Wongeld?")[0].id == "wohngeld"


def test_a_procedure_told_as_done_is_the_background(discovery):
    text = (
        "Wir sind im Sommer von Dortmund nach Bielefeld gezogen, die Ummeldung hat geklappt. Am Tag der "
        "Landtagswahl bin ich aber beruflich in Spanien."
    )
    assert discovery.rank(text)[0].id == "briefwahl"
    saved = disc.DONE_WEIGHT
    try:
        disc.DONE_WEIGHT = 1.0  # as any word: the registration, which is done, comes first
        assert discovery.rank(text)[0].id == "wohnsitz_anmelden"
    finally:
        disc.DONE_WEIGHT = saved
    # the message's last clause is its question, not its background
    assert discovery.rank("Ich habe Kindergeld beantragt")[0].id == "kindergeld"


def test_a_document_the_citizen_has_is_no_request():
    text = "Ich will nach Japan reisen können, habe aber nur meinen Perso."
    decision = chat_decide(text, "request_procedure", 0.8, as_request=True)
    assert decision.decision == "answer" and decision.candidates[0].id == "reisepass_beantragen"
    saved = disc.ALREADY_WORDS
    try:
        disc.ALREADY_WORDS = frozenset()
        assert chat_decide(text, "request_procedure", 0.8, as_request=True).candidates[0].id != "reisepass_beantragen"
    finally:
        disc.ALREADY_WORDS = saved


def test_having_the_document_in_the_clause_that_asks_keeps_it_the_request(discovery):
    text = "Hab den Führerschein schon seit 1992 und will nur das neue Kartenformat. Wie geht das?"
    assert discovery.rank(text)[0].id == "fuehrerschein_umtausch"


def test_a_question_where_to_begin_keeps_the_life_event():
    # "anfangen" finds BAföG and the trade; said after the wedding it asks where to begin
    checklist = first_checklist("Wir wollen im Mai heiraten, womit fangen wir an?")
    assert checklist is not None and checklist.situation.id == "heirat"
    checklist = first_checklist("Wir haben Zwillinge bekommen! Was müssen wir jetzt alles beantragen?")
    assert checklist is not None and checklist.situation.id == "baby"


def test_a_city_alone_finds_no_procedure():
    # "Hamburg" was a keyword of the registration ("von Hamburg nach München")
    assert finder.decide("Wie wird das Wetter am Wochenende in Hamburg?", "out_of_scope", 0.99).decision == "none"


def test_a_person_of_ones_own_does_not_become_one():
    from buergerassistent.life_situations import default_life_situations

    situations = default_life_situations()
    assert not situations.matches("Meine Eltern werden alt, deshalb ziehe ich zurück in mein Heimatdorf.")
    assert not situations.matches("Mein Vater wird nächste Woche operiert.")
    assert [s.id for s, _ in situations.matches("Wir werden Eltern!")] == ["baby"]
    assert [s.id for s, _ in situations.matches("Mein Mann wird Vater")] == ["baby"]


def test_an_end_that_is_over_makes_the_request_a_start(discovery):
    lex = discovery._lex
    over = lex.tokens("Mein Oldtimer war fünf Jahre stillgelegt, jetzt ist er fertig restauriert.")
    assert lex.ended_before_now(over) and lex.direction(over) == 1
    assert discovery.rank("Mein Oldtimer war fünf Jahre stillgelegt, jetzt ist er fertig restauriert.")[0].id == (
        "kfz_zulassen"
    )
    # without "jetzt", or in the present, the end is the request
    assert lex.direction(lex.tokens("Mein Oldtimer war fünf Jahre stillgelegt.")) == -1
    assert lex.direction(lex.tokens("Ich habe mein Auto jetzt stillgelegt")) == -1


def test_a_move_within_germany_goes_to_the_registration():
    # within Germany one registers at the new place; the old one needs no deregistration
    text = "Muss ich mich in Hamburg abmelden, wenn ich nach Berlin ziehe?"
    decision = finder.decide(text, "request_procedure", 0.9)
    assert decision.decision == "choice"
    assert {"wohnsitz_abmelden", "wohnsitz_anmelden"} <= {c.id for c in decision.candidates}
    lex = finder.discovery()._lex
    assert lex.moves_within(lex.tokens(text))
    assert not lex.moves_within(lex.tokens("Ich ziehe nach Kanada"))  # abroad: leaving
    assert not lex.moves_within(lex.tokens("Ich fahre nach Berlin"))  # no move


def test_going_abroad_is_leaving_and_a_negated_particle_negates_its_verb(discovery):
    lex = discovery._lex
    assert lex.abroad(lex.tokens("Ich gehe für zwei Jahre nach Norwegen"))
    assert lex.abroad(lex.tokens("Ich gehe ins Ausland"))
    assert not lex.abroad(lex.tokens("Mein Gehalt in der Schweiz ist höher"))
    text = "Ich melde mich nicht um, ich gehe ins Ausland. Muss ich trotzdem etwas beim Bürgerbüro machen?"
    assert discovery.rank(text)[0].id == "wohnsitz_abmelden"
    groups = discovery.explain(text)
    assert [w for g in groups for t, w in g if t == "ummeld"] == [disc.NEGATED_WEIGHT]


def test_going_abroad_without_a_verb_of_moving_is_moving_away(monkeypatch):
    text = "Ich gehe für zwei Jahre nach Norwegen. Was muss ich beim Amt machen?"
    decision = finder.decide(text, "request_procedure", 0.52)
    assert decision.candidates and decision.candidates[0].id == "wohnsitz_abmelden"
    # the ranking's own reading, without the sentence encoder's second opinion
    monkeypatch.setattr(semantic_match, "closeness", lambda text: None)
    saved = disc.GOING_WEIGHT
    try:
        disc.GOING_WEIGHT = 0.0  # "Ausland" alone: a marriage abroad, the postal vote …
        assert "wohnsitz_abmelden" not in [c.id for c in finder.decide(text, "request_procedure", 0.52).candidates]
    finally:
        disc.GOING_WEIGHT = saved


def test_nowhere_is_an_end_and_undoing_an_end_is_a_start(discovery):
    lex = discovery._lex
    assert lex.direction(lex.tokens("Ich will in Deutschland nirgends gemeldet sein.")) == -1
    undo = "Ich habe mich aus Versehen abgemeldet, obwohl ich hier wohnen bleibe. Wie mache ich das rückgängig?"
    assert lex.undoes_end(lex.tokens(undo)) and lex.direction(lex.tokens(undo)) == 1
    assert discovery.rank(undo)[0].id == "wohnsitz_anmelden"
    assert lex.direction(lex.tokens("Ich habe mich abgemeldet.")) == -1
