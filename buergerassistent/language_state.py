"""Which language the assistant speaks in a conversation (issue 20): German, English or
Leichte Sprache (plain German).

The state is two slots, ``language`` (:data:`GERMAN`, :data:`ENGLISH`, :data:`PLAIN`) and
``language_source`` (how it was chosen: :data:`EXPLICIT`, :data:`WIDGET`, :data:`DETECTED`).
The Rasa process decides after NLU (``rasa_runtime/intent_guard.py``) with :func:`update` and
passes the result as the entities ``language_choice`` and ``language_source``, which fill the
slots (``bot/domain/language.yml``). Rules:

* an explicit switch in the message ("English please", "auf Deutsch bitte", "in Leichter
  Sprache", "einfache Sprache bitte") always wins and persists for the conversation;
* the widget's language setting (metadata ``lang``) switches to English unless the citizen
  chose a language in words (the widget sends ``de`` by default, which therefore changes nothing);
* a message read as English (``language_routing.message_language``) switches to English unless
  a language was chosen explicitly. The citizen's first typed message is read by
  ``procedure_finder.language_of``, the same function ``bot discover`` ranks with, so short,
  misspelt or mixed English first messages ("lost my pasport", "Anmeldung for my flat") are
  English and a German message with one English word ("Ich brauche ein Appointment") is German.
  Later messages are read by the detector (``buergerassistent/language.py``, lingua); then a mixed
  message that names a German catalogue term changes nothing, so the language does not flip back
  and forth;
* inside a form an answer never switches, whatever its words ("Master of Science", "Software
  Engineer", a company name): only an explicit switch or a clear English sentence to the
  assistant ("I don't understand, can you say it in English?",
  ``language_routing.speaks_to_assistant``).

No Rasa imports here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

GERMAN, ENGLISH, PLAIN = "de", "en", "ls"
LANGUAGES = (GERMAN, ENGLISH, PLAIN)
EXPLICIT, WIDGET, DETECTED = "explicit", "widget", "detected"

SLOT, SOURCE_SLOT = "language", "language_source"
CHOICE_ENTITY, SOURCE_ENTITY = "language_choice", "language_source"

# The HTML ``lang`` of texts in each language (Leichte Sprache is German to a screen reader).
HTML_LANG = {GERMAN: "de", ENGLISH: "en", PLAIN: "de"}

_SWITCHES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        PLAIN,
        re.compile(
            r"\b(in |auf )?(leichte[rn]?|einfache[rn]?) sprache\b|\bleicht(er)? erkl[äa]r|\beinfacher erkl[äa]r"
            r"|\bplain (german|language)\b|\beasy (german|language)\b",
            re.I,
        ),
    ),
    (
        ENGLISH,
        re.compile(
            r"\b(in |auf )?english\b(?! (words?|name|word|text))|\b(in |auf )?englisch\b|\bspeak english\b", re.I
        ),
    ),
    (
        GERMAN,
        re.compile(
            r"\b(auf|in) deutsch\b|\bdeutsch,? bitte\b|\bbitte (auf )?deutsch\b|\bin german\b|\bgerman,? please\b"
            r"|\bnormale[rn]? sprache\b|\bstandardsprache\b",
            re.I,
        ),
    ),
)
# Only a short message is a switch ("English please"), not a sentence that mentions a language
# ("Ich brauche eine Übersetzung meiner Geburtsurkunde ins Englische").
MAX_SWITCH_WORDS = 8


@dataclass(frozen=True)
class State:
    language: str = GERMAN
    source: Optional[str] = None

    @classmethod
    def of(cls, language: Any, source: Any) -> State:
        lang = language if language in LANGUAGES else GERMAN
        return cls(lang, source if source in (EXPLICIT, WIDGET, DETECTED) else None)


@dataclass(frozen=True)
class Update:
    """A change of the state, and whether the message was only a request to switch."""

    language: str
    source: str
    switch_request: bool  # an explicit "English please" (answered with a confirmation)


def explicit_switch(text: str) -> Optional[str]:
    """The language a short message asks for ("English please" → ``en``), else None."""
    text = (text or "").strip()
    if not text or text.startswith("/") or len(text.split()) > MAX_SWITCH_WORDS:
        return None
    for lang, pattern in _SWITCHES:
        if pattern.search(text):
            return lang
    return None


def update(
    state: State,
    text: str,
    widget: Optional[str] = None,
    detected: Optional[str] = None,
    names_german_term: bool = False,
    first_message: bool = False,
) -> Optional[Update]:
    """The new state after a message, or None when it stays. ``detected``: the language the
    message is read in (``language_routing.message_language``: ``"en"`` or None);
    ``names_german_term``: the message names a German catalogue term (a mixed message), which keeps the language unless it is
    the first message (there ``language_of`` has weighed the German term against the English
    words already); ``widget``: the widget's setting (metadata ``lang``)."""
    asked = explicit_switch(text)
    if asked is not None:
        return Update(asked, EXPLICIT, True)
    if state.source == EXPLICIT:
        return None  # the citizen's own choice holds for the conversation
    if widget == ENGLISH and state.language != ENGLISH:
        return Update(ENGLISH, WIDGET, False)
    if detected == ENGLISH and (first_message or not names_german_term) and state.language != ENGLISH:
        return Update(ENGLISH, DETECTED, False)
    return None
