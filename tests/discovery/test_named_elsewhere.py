"""Issue 16, third helper round: topics outside the core that citizens ask about often get their
information entry instead of a near core procedure; insider terms and document names lead to
the procedure; a request that names another entry's topic is not answered confidently."""

from __future__ import annotations

import pytest

from buergerassistent import discovery as disc
from buergerassistent.catalogue import default_catalogue


def top1(d, text):
    ranked = d.rank(text, top=3)
    return ranked[0].id if ranked else None


# own phrasings (not from any test set) for the information entries of this round
@pytest.mark.parametrize(
    "text, expected",
    [
        ("Wie trete ich aus der Kirche aus?", "info_kirchenaustritt"),
        ("Kirchenaustritt, wo mache ich das?", "info_kirchenaustritt"),
        ("Bekommen wir zusätzlich Kinderzuschlag?", "info_kinderzuschlag"),
        ("Wo finde ich einen Integrationskurs?", "info_integrationskurs"),
        ("Meine Mutter braucht einen Deutschkurs", "info_integrationskurs"),
        ("Wo kriege ich eine grüne Plakette?", "info_umweltplakette"),
        ("Darf ich ohne Umweltplakette in die Umweltzone?", "info_umweltplakette"),
        ("Wir wollen einen Verein gründen und ins Vereinsregister", "info_register_amtsgericht"),
        ("Grundbuchauszug für meine Wohnung", "info_register_amtsgericht"),
        ("Nachsendeauftrag für die Post", "info_umzug_vertraege"),
        ("Wo melde ich den Strom an?", "info_umzug_vertraege"),
        ("Internationalen Führerschein für den Urlaub in Kanada", "info_fuehrerschein_international"),
        ("Nach der MPU will ich meinen Führerschein wieder", "info_fuehrerschein_neuerteilung"),
        ("Fahrerlaubnis entzogen, was nun?", "info_fuehrerschein_neuerteilung"),
    ],
)
def test_frequent_outside_topics_find_their_information_entry(discovery, text, expected):
    assert top1(discovery, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Wie trete ich aus der Kirche aus?",
        "Bekommen wir zusätzlich zum Kindergeld noch Kinderzuschlag?",
        "Internationalen Führerschein für den Urlaub in Kanada",
        "Nach der MPU will ich meinen Führerschein wieder",
        "Wo melde ich den Strom für die neue Wohnung an?",
    ],
)
def test_outside_topics_are_never_answered_with_a_core_procedure(discovery, text):
    decision = discovery.decide(text)
    core = {p.id for p in default_catalogue() if p.curated}
    assert not (decision.kind == "confident" and decision.best.id in core), (text, decision)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ePass beantragen", "reisepass_beantragen"),
        ("Reisepass im Expressverfahren", "reisepass_beantragen"),
        ("Die Sachfahndung nach meinem Ausweis aufheben", "ausweis_verlust_melden"),
        ("Ich brauche eine Kopie der Geburtsurkunde", "geburtsurkunde"),
        ("Bestätigung vom Meldeamt für die Bank", "meldebescheinigung"),
        ("Ich will nebenbei Geld verdienen und selbständig anfangen", "gewerbe_anmelden"),
        ("Bei uns ist ein Hund eingezogen", "hundesteuer_anmelden"),
    ],
)
def test_insider_terms_and_documents_lead_to_the_procedure(discovery, text, expected):
    assert top1(discovery, text) == expected


def test_a_plain_registration_question_is_not_taken_for_the_certificate(discovery):
    # "in München wohnen" must not make the Meldebescheinigung the answer to moving in
    assert top1(discovery, "Ich wohne jetzt in München, muss ich mich anmelden?") == "wohnsitz_anmelden"


# ---------------------------------------------------------------- named elsewhere (FOREIGN_MAX)
@pytest.mark.parametrize("text", ["Zahlt das Jobcenter meine Miete?", "Jobcenter Mietzuschuss"])
def test_a_request_that_names_an_information_topic_gets_a_question_back(discovery, text):
    # Wohngeld fits "Miete", but "Jobcenter" is the word of an information entry (Bürgergeld)
    # that Wohngeld does not have: the chat asks instead of answering Wohngeld
    decision = discovery.decide(text)
    assert decision.best.id == "wohngeld"
    assert decision.kind == "choose"


def test_the_foreign_share_is_what_decides(discovery, monkeypatch):
    monkeypatch.setattr(disc, "FOREIGN_MAX", 1.0)  # off: the same request is answered with Wohngeld
    assert discovery.decide("Zahlt das Jobcenter meine Miete?").kind == "confident"


def test_a_word_of_another_core_procedure_does_not_count_as_foreign(discovery):
    # "Reisepass" is a core procedure's word, not an information entry's: no question back
    sc = discovery._analyse("Kindergeld und Reisepass")[0]
    assert discovery._entries[sc.doc].id == "kindergeld"
    assert sc.foreign == 0.0
    assert discovery.decide("Kindergeld und Reisepass").kind == "confident"
