"""Is a text the assistant says to an English citizen German? Two independent checks (issue 20):

* ``catalogue_german``: the text contains a fixed part of a German message of the catalogue
  (``catalogue/translations/de/messages.yaml``): the German sentence came instead of its
  translation. This needs no model and cannot be fooled by short sentences.
* ``detected_german``: the sentences the language detector (lingua, German and English models)
  reads as German, names in quotes or parentheses left out (“Certificate of registration
  (Meldebescheinigung)”).
"""

from __future__ import annotations

import re
from functools import cache

import yaml

from buergerassistent import language, translations

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
MIN_FRAGMENT = 12  # shorter fixed parts ("Ja", "{n} Tage") are no evidence


@cache
def german_fragments() -> tuple[str, ...]:
    """Fixed parts of the German messages that differ from every English and Leichte-Sprache text
    (a key whose text is the same in German and English, a name or "115", is not German)."""
    path = translations.TRANSLATIONS_DIR / "de" / translations.MESSAGES_FILE
    german = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    english = " ".join(str(v) for v in translations._messages("en").values())
    out = set()
    for text in german.values():
        for part in _PLACEHOLDER.split(str(text)):
            part = part.strip(" .,:;()„“")
            if len(part) >= MIN_FRAGMENT and part not in english:
                out.add(part)
    return tuple(sorted(out))


def catalogue_german(text: str) -> list[str]:
    return [f for f in german_fragments() if f in (text or "")]


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|https?://\S+")
_NAMES = re.compile(r"“[^”]*”|\([^)]*\)")
# Case numbers are random letters ("BA-2026-ZEXHEEND"): some read as German to the detector.
_CASE_NUMBER = re.compile(r"\b[A-Z]{2,}-\d{4}-[A-Z0-9]{6,}\b")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")


def detected_german(text: str) -> list[str]:
    found = []
    for sentence in _SENTENCE_END.split(_NAMES.sub("it", _CASE_NUMBER.sub("it", _LINK.sub(r"\1", text or "")))):
        words = re.findall(r"[A-Za-zÄÖÜäöüß]{2,}", sentence)
        if len(words) < 3:
            continue  # a value ("- Postcode: 80331"), a button, a case number
        confidence = {
            v.language.name: v.value for v in language.detector().compute_language_confidence_values(sentence)
        }
        if confidence.get("GERMAN", 0) > 0.5:
            found.append(sentence)
    return found


def german_in(messages: list[dict]) -> list[str]:
    """Everything German in the assistant's messages (texts and button titles)."""
    text = "\n".join(m.get("text") or "" for m in messages)
    buttons = [b.get("title") or "" for m in messages for b in m.get("buttons") or []]
    return (
        catalogue_german(text)
        + detected_german(text)
        + [b for b in buttons if language.has_german_words(b) or catalogue_german(b)]
    )
