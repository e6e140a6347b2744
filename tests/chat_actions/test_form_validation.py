from __future__ import annotations

import pytest
from support.forms import MELDEBESCHEINIGUNG

from actions.forms import ValidateMeldebescheinigungForm, summary_text

from .conftest import make_tracker, slot_events, texts


def run(action, tracker, dispatcher):
    import asyncio

    return asyncio.run(action.run(dispatcher, tracker, {}))


def slot_set_event(name, value):
    return {"event": "slot", "name": name, "value": value}


def answer(slot: str, typed: str, dispatcher) -> list[dict]:
    """The Meldebescheinigung form's validation of ``typed`` as the answer to ``slot``."""
    tracker = make_tracker(
        text=typed,
        slots={slot: typed, "requested_slot": slot},
        active_loop="meldebescheinigung_form",
        events=[slot_set_event(slot, typed)],
    )
    return run(ValidateMeldebescheinigungForm(), tracker, dispatcher)


@pytest.mark.parametrize(
    "slot, typed, stored",
    [
        ("vorname", "erika", "Erika"),
        ("geburtsdatum", "12.8.1964", "1964-08-12"),
        ("plz", " 80331 ", "80331"),
        ("art_meldebescheinigung", "die erweiterte", "erweitert"),
        ("email", "Erika.Mustermann@example.org", None),
    ],
)
def test_valid_answers_are_normalised(slot, typed, stored, dispatcher):
    events = answer(slot, typed, dispatcher)
    value = slot_events(events)[slot]
    assert value is not None
    if stored is not None:
        assert value == stored
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "slot, typed, expected_word",
    [
        ("geburtsdatum", "31.02.1964", "Datum"),
        ("geburtsdatum", "01.01.2090", "Zukunft"),
        ("plz", "8033", "Postleitzahl"),
        ("vorname", "   ", "Namen"),
        ("strasse", "Marienplatz", "Hausnummer"),
        ("email", "erika(at)example", "E-Mail"),
    ],
)
def test_invalid_answers_are_refused_with_a_german_reprompt(slot, typed, expected_word, dispatcher):
    events = answer(slot, typed, dispatcher)
    assert slot_events(events)[slot] is None
    message = texts(dispatcher)
    assert expected_word.lower() in message.lower()
    assert "Bitte" in message or "bitte" in message


def test_summary_shows_german_formats():
    tracker = make_tracker(
        slots={"procedure": "meldebescheinigung", **MELDEBESCHEINIGUNG},
    )
    from buergerassistent.catalogue import default_catalogue

    text = summary_text(default_catalogue()["meldebescheinigung"], tracker)
    assert "Geburtsdatum: 12.08.1964" in text
    assert "Postleitzahl: 80331" in text
    assert "Art der Bescheinigung: Einfach" in text or "Art der Bescheinigung: einfach" in text
