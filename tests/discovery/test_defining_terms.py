"""Issue 16: an entry that declares ``defining_terms`` is the answer only to a request that names
its thing. "Wie trete ich aus dem Sportverein aus?" matched the church exit by "austreten" alone
and was answered with it; now the chat has nothing to offer there, while a request that names
the church (or a compound of it) is still answered. Own phrasings, not from any test set."""

from __future__ import annotations

import pytest

from buergerassistent import procedure_finder as finder


@pytest.mark.parametrize(
    "text",
    ["Wie trete ich aus dem Sportverein aus?", "Ich will aus dem Fitnessstudio austreten", "Parteiaustritt"],
)
def test_a_generic_verb_is_not_the_church_exit(text):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert not (decision.decision == "answer" and decision.candidates[0].id == "info_kirchenaustritt")


@pytest.mark.parametrize(
    "text",
    ["Wie trete ich aus der Kirche aus?", "Kirchenaustritt", "keine Kirchensteuer mehr zahlen"],
)
def test_a_request_that_names_the_church_is_answered(text):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert decision.decision == "answer" and decision.candidates[0].id == "info_kirchenaustritt"


def test_compound_parts_name_a_defining_term(discovery):
    assert discovery.names_defining("info_kirchenaustritt", "Kirchenaustrittserklärung") is True
    assert discovery.names_defining("info_kirchenaustritt", "Austritt aus dem Verein") is False
    assert discovery.names_defining("reisepass", "Reisepass") is None  # declares none


@pytest.mark.parametrize("text", ["Mein Fahrrad wurde geklaut", "My bike was stolen", "my phone was stolen"])
def test_a_theft_without_an_id_is_not_the_lost_id(text):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert "ausweis_verlust_melden" not in [c.id for c in decision.candidates][:1] or decision.decision != "answer"


@pytest.mark.parametrize(
    "text", ["Ausweis verloren", "Mein Geldbeutel ist weg", "Pass im Urlaub verloren", "I lost my wallet with my ID"]
)
def test_a_lost_id_is_still_answered(text):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert decision.decision == "answer" and decision.candidates[0].id == "ausweis_verlust_melden"


def test_a_son_moving_back_is_no_child_benefit_answer():
    decision = finder.decide("Unser Sohn zieht wieder zu uns", "request_procedure", 1.0)
    assert not (decision.decision == "answer" and decision.candidates[0].id == "kindergeld")


@pytest.mark.parametrize(
    "text", ["Kindergeld beantragen", "How do I get child benefit for my baby?", "Familienkasse Antrag"]
)
def test_child_benefit_named_is_answered(text):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert decision.decision == "answer" and decision.candidates[0].id == "kindergeld"


# event_terms: a request that asks for a document is about the lost-ID report only when it
# names the loss too. "Reisepass beantragen" offered a choice with the report before.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reisepass beantragen", "reisepass_beantragen"),
        ("Personalausweis beantragen", "personalausweis_beantragen"),
        ("Ich möchte einen neuen Reisepass", "reisepass_beantragen"),
    ],
)
def test_applying_for_a_document_is_not_the_lost_id_report(text, expected):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert decision.decision == "answer" and decision.candidates[0].id == expected


@pytest.mark.parametrize(
    "text",
    ["Pass verloren, wie beantrage ich einen neuen?", "Ausweis geklaut, neuen beantragen", "Perso gestohlen"],
)
def test_applying_after_a_named_loss_is_still_the_report(text):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert decision.decision == "answer" and decision.candidates[0].id == "ausweis_verlust_melden"


@pytest.mark.parametrize("text", ["Ausweis", "Reisepass", "Ausweis beantragen"])
def test_the_document_alone_stays_a_choice_with_the_report(text):
    decision = finder.decide(text, "request_procedure", 1.0)
    assert decision.decision == "choice" and "ausweis_verlust_melden" in [c.id for c in decision.candidates]
