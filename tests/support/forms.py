"""Filled forms and the chat that fills them: one Meldebescheinigung for every test.

``MELDEBESCHEINIGUNG`` is the form as the action server keeps it (slot values: ISO date);
``MELDEBESCHEINIGUNG_DIALOGUE`` is how a citizen fills it in the chat, each answer with a
piece of the question that must follow it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from buergerassistent.catalogue import Procedure
from buergerassistent.validation import default_example

MELDEBESCHEINIGUNG = {
    "vorname": "Erika",
    "nachname": "Mustermann",
    "geburtsdatum": "1964-08-12",
    "strasse": "Marienplatz 8",
    "plz": "80331",
    "ort": "München",
    "art_meldebescheinigung": "einfach",
    "email": "erika@example.org",
}

# (what the citizen types, a part of the assistant's answer to it)
MELDEBESCHEINIGUNG_DIALOGUE = [
    ("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen"),
    ("Ja", "Schritt 1 von 8"),
    ("Erika", "Familienname"),
    ("Mustermann", "geboren"),
    ("12.08.1964", "Straße"),
    ("Marienplatz 8", "Postleitzahl"),
    ("80331", "Ort"),
    ("München", "einfache oder eine erweiterte"),
    ("einfach", "E-Mail"),
    ("erika.mustermann@example.org", "sende ich den Antrag ab"),
]


def meldebescheinigung(**changes: str) -> dict[str, str]:
    """A fresh copy of the filled form, with ``changes``."""
    return {**MELDEBESCHEINIGUNG, **changes}


def fill_in_chat(say_text: Callable[[str], str], start: int = 0, stop: int | None = None) -> str:
    """Type the answers ``start:stop`` of ``MELDEBESCHEINIGUNG_DIALOGUE`` and check each answer;
    returns the last answer (with the defaults: the summary before "Ja, absenden")."""
    reply = ""
    for text, expected in MELDEBESCHEINIGUNG_DIALOGUE[start:stop]:
        reply = say_text(text)
        assert expected in reply, f"{text!r} → {reply!r}"
    return reply


def step(text: str) -> int:
    """The index of ``text`` in ``MELDEBESCHEINIGUNG_DIALOGUE`` (for ``fill_in_chat``)."""
    return [t for t, _ in MELDEBESCHEINIGUNG_DIALOGUE].index(text)


# The case number in the assistant's answer to "Ja, absenden".
CASE_NUMBER = re.compile(r"Aktenzeichen lautet (\S+?)\.(?:\s|$)")
SUMMARY = "sende ich den Antrag ab"


def fill_from_examples(say_text: Callable[[str], str], procedure: Procedure) -> str:
    """After the offer to apply in the chat: "Ja", then every field's example from the catalogue
    (optional ones skipped), checking that each question is asked in turn. Returns the summary."""
    reply = say_text("Ja")
    for f in procedure.fields:
        assert f.prompt in reply, f"{f.name} not asked: {reply!r}"
        reply = say_text(
            (f.example or default_example(f.type, choices=f.choices or None)) if f.required else "überspringen"
        )
    assert SUMMARY in reply, reply
    return reply
