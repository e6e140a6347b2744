"""Sixth round (issue 16): becoming something is a start; an event after "nach der/dem" is context."""

from __future__ import annotations

from buergerassistent import discovery as disc


def test_becoming_something_is_a_start(discovery):
    decision = discovery.decide("Ich will Kioskbesitzer werden")
    assert decision.kind == "confident" and decision.best.id == "gewerbe_anmelden"


def test_a_passive_with_werden_keeps_its_direction(discovery):
    decision = discovery.decide("Wie kann mein Gewerbe abgemeldet werden?")
    assert decision.best.id == "gewerbe_abmelden"


def test_an_event_after_nach_der_is_context(discovery):
    text = "Brauche ich einen neuen Ausweis nach der Hochzeit?"
    assert discovery.rank(text)[0].id == "personalausweis_beantragen"
    saved = disc.AFTER_EVENT_WEIGHT
    try:
        disc.AFTER_EVENT_WEIGHT = 1.0  # as any noun: the wedding wins
        assert discovery.rank(text)[0].id == "eheschliessung_anmelden"
    finally:
        disc.AFTER_EVENT_WEIGHT = saved


def test_registering_oneself_is_the_residence(discovery):
    # "mich" stands for the residence the citizen does not name; the dog tax led on "anmelden"
    text = "Ich war zwei Jahre in Kanada und hatte mich abgemeldet. Jetzt bin ich zurück, wie melde ich mich wieder an?"
    assert discovery.rank(text)[0].id == "wohnsitz_anmelden"
    saved = disc.REFLEXIVE_WEIGHT
    try:
        disc.REFLEXIVE_WEIGHT = 0.0
        assert discovery.rank(text)[0].id == "hundesteuer_anmelden"  # by "anmelden" alone
    finally:
        disc.REFLEXIVE_WEIGHT = saved


def test_a_pronoun_after_a_preposition_is_an_object_not_oneself(discovery):
    # "auf mich ummelden": a caravan to its new owner, not a change of address
    assert discovery.rank("Wohnwagen auf mich ummelden")[0].id == "kfz_zulassen"


def test_what_a_contrast_puts_aside_weighs_less(discovery):
    # "nicht X, sondern Y": X is what the request is not about
    text = "Ich will nicht als Wahlhelfer mitmachen, sondern nur selbst per Post wählen"
    assert discovery.rank(text)[0].id == "briefwahl"
    saved = disc.NEGATED_WEIGHT
    try:
        disc.NEGATED_WEIGHT = 1.0  # as any word: the election volunteers win
        assert discovery.rank(text)[0].id == "info_wahlhelfer"
    finally:
        disc.NEGATED_WEIGHT = saved


def test_a_negation_without_a_contrast_keeps_its_words(discovery):
    # without "sondern", "nur" or "stattdessen" a negation puts nothing aside
    lex = discovery._lex
    assert not lex.negated(lex.tokens("Ich kann mein Auto nicht anmelden, was tun?"))
    assert lex.negated(lex.tokens("Ich will kein neues Gewerbe anmelden, sondern mein altes schließen"))
    assert discovery.rank("Ich will kein neues Gewerbe anmelden, sondern mein altes schließen")[0].id == (
        "gewerbe_abmelden"
    )


def test_moving_to_another_country_is_leaving(discovery):
    # "ziehe in die Schweiz" read "in" as moving in (the registration); a country after a verb
    # of moving means abroad, as "ziehe ins Ausland" does
    assert discovery.rank("Wir wandern nach Kanada aus")[0].id == "wohnsitz_abmelden"
    assert discovery.rank("Ich ziehe nächstes Jahr in die Schweiz")[0].id == "wohnsitz_abmelden"
    saved = disc.ABROAD_WEIGHT
    try:
        disc.ABROAD_WEIGHT = 0.0
        assert discovery.rank("Ich ziehe nächstes Jahr in die Schweiz")[0].id != "wohnsitz_abmelden"
    finally:
        disc.ABROAD_WEIGHT = saved
    # Germany and cities are no other country
    lex = discovery._lex
    assert not lex.abroad(lex.tokens("Ich ziehe von Hamburg nach München"))
    assert not lex.abroad(lex.tokens("Wir ziehen zurück nach Deutschland"))
    assert lex.abroad(lex.tokens("Für uns geht es zurück nach Portugal"))
    assert "schweiz" in disc.countries() and "deutschland" not in disc.countries()


def test_a_particle_with_a_hyphen_stands_for_the_whole_verb(discovery):
    # "ab- statt anmelden" is "abmelden statt anmelden"; "statt" negates what follows
    lex = discovery._lex
    words = [t.surface for t in lex.tokens("Muss ich mich An- und Abmelden?")]
    assert words[-3:] == ["anmelden", "und", "abmelden"]
    assert discovery.rank("Ich will mein Auto ab- statt ummelden")[0].id == "kfz_abmelden"
    text = "Ich ziehe weg ins Ausland, muss ich mich ab- statt anmelden?"
    assert discovery.decide(text).best.id == "wohnsitz_abmelden"


def test_a_proposal_made_to_someone_is_the_marriage(discovery):
    # "Antrag" alone is an application (a stop word here); made to a person it is a proposal
    text = "Mein Freund hat mir gestern einen Antrag gemacht! Was müssen wir jetzt beim Amt erledigen?"
    assert discovery.decide(text).best.id == "eheschliessung_anmelden"
    assert "eheschliessung_anmelden" not in [c.id for c in discovery.rank("Ich habe einen Antrag gemacht")]


# Twelfth round (issue 16, set 9): cities abroad, coming back, more contrasts, purposes, done things


def test_a_city_abroad_is_another_country(discovery):
    text = "Umzug nach Wien – was muss ich beim Bürgeramt erledigen?"
    assert discovery.rank(text)[0].id == "wohnsitz_abmelden"
    saved = disc.FOREIGN_CITIES
    try:
        disc.FOREIGN_CITIES = frozenset()
        disc.countries.cache_clear()
        assert discovery.rank(text)[0].id != "wohnsitz_abmelden"
    finally:
        disc.FOREIGN_CITIES = saved
        disc.countries.cache_clear()
    # German towns that share a name with a foreign city are left out
    assert not {"frankfurt", "linz", "berlin", "münchen"} & disc.countries()


def test_coming_back_from_abroad_is_moving_in(discovery):
    lex = discovery._lex
    assert lex.returns(lex.tokens("Zurück aus Amsterdam, wieder in Essen melden?"))
    assert lex.returns(lex.tokens("Wir kommen nach fünf Jahren in Dubai zurück nach Deutschland"))
    assert lex.returns(lex.tokens("Ich bin aus Spanien gekommen und arbeite in Frankfurt"))
    assert not lex.returns(lex.tokens("Ich komme aus Hamburg zurück"))
    assert not lex.returns(lex.tokens("Ich ziehe zurück nach Portugal"))
    assert discovery.rank("Zurück aus Amsterdam, wieder in Essen melden?")[0].id == "wohnsitz_anmelden"


def test_a_negation_at_the_end_of_its_clause_puts_the_clause_aside(discovery):
    text = "Einbürgern lassen will ich mich nicht, nur meine Aufenthaltserlaubnis verlängern"
    lex = discovery._lex
    toks = lex.tokens(text)
    aside = {toks[i].surface for i in lex.negated(toks)}
    assert "einbürgern" in aside and "aufenthaltserlaubnis" not in aside
    assert discovery.rank(text)[0].id == "aufenthaltstitel"


def test_a_sentence_opened_by_nicht_and_a_name_puts_the_name_aside(discovery):
    lex = discovery._lex
    toks = lex.tokens("Nicht Elterngeld – das monatliche Geld pro Kind.")
    assert {toks[i].surface for i in lex.negated(toks)} == {"elterngeld"}
    # a participle after "Nicht" is what happened, and a name alone is all the request says
    assert not lex.negated(lex.tokens("Nicht angemeldet, was tun?"))
    assert not lex.negated(lex.tokens("Nicht Elterngeld."))


def test_a_purpose_put_first_is_context(discovery):
    text = "Für das Visum meiner Frau brauche ich eine Meldebestätigung"
    assert discovery.rank(text)[0].id == "meldebescheinigung"
    saved = disc.PURPOSE_WORDS
    try:
        disc.PURPOSE_WORDS = frozenset()  # the visa as any noun: the residence permit wins
        assert discovery.rank(text)[0].id == "aufenthaltstitel"
    finally:
        disc.PURPOSE_WORDS = saved


def test_a_thing_done_to_the_citizen_is_no_confident_answer(discovery):
    text = "Ich bin gerade eingebürgert worden. Wie beantrage ich meinen ersten deutschen Personalausweis?"
    assert discovery.decide(text).kind == "choose"
    saved = disc.DONE_PASSIVE
    try:
        disc.DONE_PASSIVE = frozenset()
        assert discovery.decide(text).kind == "confident"
    finally:
        disc.DONE_PASSIVE = saved
    # what was done to a thing the citizen asks about stays the request
    assert discovery.rank("Mein Auto ist abgeschleppt worden")[0].id == "info_abschleppen"


def test_a_journey_outside_europe_implies_the_passport(discovery):
    lex = discovery._lex
    assert lex.far_trip(lex.tokens("Ich will nächstes Jahr nach Japan reisen"))
    assert lex.far_trip(lex.tokens("Urlaub in Thailand, was brauche ich?"))
    assert not lex.far_trip(lex.tokens("Ich will nach Kroatien fahren"))  # in Europe
    assert not lex.far_trip(lex.tokens("Wir ziehen nach Kanada"))  # moving: leaving
    assert not lex.far_trip(lex.tokens("Ich lebe in Kanada"))  # "in" without travelling
    assert "japan" in disc.far_countries() and not {"türkei", "zypern", "schweiz"} & disc.far_countries()
    text = "Ich will nächstes Jahr nach Japan reisen"
    best = discovery.rank(text)[0]
    assert best.id == "reisepass_beantragen"
    saved = disc.TRAVEL_WEIGHT
    try:
        disc.TRAVEL_WEIGHT = 0.0  # the word "reisen" alone finds the passport less surely
        assert discovery.rank(text)[0].score < best.score - 0.1
    finally:
        disc.TRAVEL_WEIGHT = saved
