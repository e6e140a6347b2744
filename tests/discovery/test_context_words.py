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
