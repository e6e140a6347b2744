"""What the assistant says when it does not understand, again and again (issue 15).

The first time it says its usual sentence for the kind of failure. When the previous turn was
already such an answer, the text gets shorter and different, and concrete topics come as buttons:
a citizen who is not understood twice should tap, not guess new words. The same long help text
never comes back in a row.

The actions pass the assistant's texts of the previous turns (:func:`fallbacks_in_a_row`); no
state is kept elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

from buergerassistent import translations
from buergerassistent.language_state import GERMAN

# The first answer of each kind (the texts the assistant always had).
FIRST = {
    "not_understood": "Das habe ich leider nicht verstanden. Können Sie es bitte anders formulieren? "
    "Sie können auch „Hilfe“ schreiben.",
    "out_of_scope": "Dazu kann ich leider nichts sagen. Ich helfe bei Anliegen an die Verwaltung, zum Beispiel "
    "Ummeldung, Ausweis oder Hundesteuer. Allgemeine Auskunft erhalten Sie auch unter der Behördennummer 115.",
}
# Second, third, … in a row: shorter each time, with topics as buttons.
# The texts are data (fallback_again_1..3 in catalogue/translations/<language>/messages.yaml).
AGAIN = tuple(translations.message(GERMAN, f"fallback_again_{n}") for n in (1, 2, 3))
# Topics offered as buttons: (label, catalogue id).
TOPICS = (
    ("Umzug melden", "wohnsitz_anmelden"),
    ("Personalausweis", "personalausweis_beantragen"),
    ("Reisepass", "reisepass_beantragen"),
    ("Auto zulassen", "kfz_zulassen"),
    ("Gewerbe anmelden", "gewerbe_anmelden"),
    ("Kindergeld", "kindergeld"),
)

# The beginning of the help text (response utter_help in bot/domain/core.yml; a test checks it).
HELP_START = "Beschreiben Sie mir einfach Ihr Anliegen"
# The beginnings of the English variants of utter_help and utter_out_of_scope (issue 20).
HELP_START_EN = "Just describe what you need"
OUT_OF_SCOPE_START_EN = "I am sorry, I cannot say anything about that"


def is_help_text(text: Optional[str]) -> bool:
    return bool(text) and text.startswith((HELP_START, HELP_START_EN))


# Beginnings of the assistant's fallback texts (the ones above and the finder's "nichts gefunden").
_MARKERS = (
    "Das habe ich leider nicht verstanden",
    "Dazu kann ich leider nichts sagen",
    "Dazu habe ich leider keine passende Leistung gefunden",
    "Leider verstehe ich Sie noch nicht",
    "Ich bin nicht sicher, was Sie meinen",
    "Bitte wählen Sie ein Thema",
    HELP_START,
    HELP_START_EN,
    OUT_OF_SCOPE_START_EN,
)


def is_fallback_text(text: Optional[str]) -> bool:
    return bool(text) and any(text.startswith(marker) for marker in _MARKERS)


def fallbacks_in_a_row(previous_turns: Iterable[Sequence[str]]) -> int:
    """How many of the assistant's previous turns in a row (newest first; each the list of its
    texts) were fallbacks."""
    count = 0
    for texts in previous_turns:
        if any(is_fallback_text(t) for t in texts):
            count += 1
        else:
            break
    return count


def topic_buttons(known_ids: Optional[Iterable[str]] = None) -> list[dict[str, str]]:
    """Buttons for the topics that exist in the catalogue (``known_ids``; all when None)."""
    known = set(known_ids) if known_ids is not None else None
    return [
        {"title": label, "payload": f'/choose_procedure{{"procedure": "{proc_id}"}}'}
        for label, proc_id in TOPICS
        if known is None or proc_id in known
    ]


def reply(kind: str, before: int, first_text: Optional[str] = None) -> tuple[str, bool]:
    """The text for a fallback of ``kind`` after ``before`` fallbacks in a row, and whether to
    show the topic buttons. ``first_text`` replaces the first answer of the kind."""
    if before <= 0:
        return (first_text or FIRST.get(kind) or FIRST["not_understood"]), False
    return AGAIN[min(before, len(AGAIN)) - 1], True
