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
