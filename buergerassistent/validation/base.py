"""Shared pieces: the result type, the per-call context, German messages and text helpers."""

from __future__ import annotations

import contextvars
import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Result:
    ok: bool
    value: Optional[str] = None  # normalised; stored in a Rasa text slot
    display: Optional[str] = None  # German presentation for summaries
    error: Optional[str] = None  # German re-prompt: what was wrong + an example
    # The German sentence saying only what was wrong (without the hint); other languages look it
    # up in their message catalogues (buergerassistent/form_texts.py, issue 20).
    problem: Optional[str] = None

    @classmethod
    def success(cls, value: str, display: Optional[str] = None) -> Result:
        return cls(ok=True, value=value, display=value if display is None else display)

    @classmethod
    def failure(cls, error: str, problem: Optional[str] = None) -> Result:
        return cls(ok=False, error=error, problem=problem)


# The language the citizen writes in (``de``, ``en``, ``ls``), set by the form actions for one
# turn (issue 20). It changes only how ambiguous input is read ("08/12/1964" is a question in
# English), never the stored value's format.
INPUT_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("input_language", default="de")


def english_input() -> bool:
    return INPUT_LANGUAGE.get() == "en"


@dataclass(frozen=True)
class Context:
    field_type: str
    today: dt.date
    example: str
    choices: Sequence[Any] = ()

    def fail(self, problem: str, *, refer: bool = True) -> Result:
        """A German error: the problem, then how to answer, with the example.

        ``refer=True`` when ``problem`` already names the thing, so the hint can say "es"/"sie"
        instead of repeating the noun ("Das Geburtsdatum liegt … Bitte geben Sie es so an: …").
        """
        return Result.failure(f"{problem} {hint(self.field_type, self.example, refer=refer)}", problem)


# Accusative noun phrase and pronoun per type, used in "Bitte geben Sie … so an: <example>."
_OBJECTS: dict[str, tuple[str, str]] = {
    "name": ("den Namen", "ihn"),
    "birth_date": ("das Geburtsdatum", "es"),
    "date": ("das Datum", "es"),
    "future_date": ("das Datum", "es"),
    "past_date": ("das Datum", "es"),
    "postcode": ("die Postleitzahl", "sie"),
    "street": ("Straße und Hausnummer", "sie"),
    "city": ("den Ort", "ihn"),
    "email": ("die E-Mail-Adresse", "sie"),
    "phone": ("die Telefonnummer", "sie"),
    "iban": ("die IBAN", "sie"),
    "steuer_id": ("die Steuer-ID", "sie"),
    "kfz_kennzeichen": ("das Kennzeichen", "es"),
    "fin": ("die Fahrzeug-Identifizierungsnummer (FIN)", "sie"),
    "count": ("die Anzahl als Zahl", "sie"),
    "amount": ("den Betrag", "ihn"),
    "nationality": ("den Staat", "ihn"),
}


def _sentence_end(example: str) -> str:
    return example if example.endswith((".", "!", "?")) else example + "."


def hint(field_type: str, example: str, *, refer: bool = True) -> str:
    ex = _sentence_end(example)
    if field_type == "choice":
        return f"Zum Beispiel: {ex}"
    if field_type == "yes_no":
        return f"Bitte antworten Sie mit ja oder nein, zum Beispiel: {ex}"
    if field_type == "text":
        return f"Bitte schreiben Sie Ihre Antwort als kurzen Text, zum Beispiel: {ex}"
    noun, pronoun = _OBJECTS[field_type]
    return f"Bitte geben Sie {pronoun if refer else noun} so an: {ex}"


# ------------------------------------------------------------------------------ text helpers

# Zero-width and similar invisible characters that sneak in through copy & paste.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})


def clean(text: Any, typography: bool = True) -> str:
    """NFC-normalised, invisible characters removed, whitespace collapsed and trimmed; with
    ``typography`` also apostrophes and dashes made plain (free text keeps them as typed).

    NFC matters for German: a pasted "ü" can be "u" + combining diaeresis.
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFC", str(text)).translate(_INVISIBLE)
    if typography:
        s = s.translate(_APOSTROPHES).translate(_DASHES)
    return re.sub(r"\s+", " ", s).strip()


def is_letter(ch: str) -> bool:
    # Letters of any script plus combining marks (names like "Nguyễn" in decomposed form).
    return unicodedata.category(ch)[0] in ("L", "M")


def count_letters(s: str) -> int:
    return sum(1 for ch in s if is_letter(ch))


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:] if word else word


def _cap_compound(word: str) -> str:
    """Capitalise each hyphen part, the word after "(" and after "O'"/"D'"."""
    out = []
    for part in word.split("-"):
        if part.startswith("("):
            out.append("(" + _cap(part[1:]))
            continue
        m = re.match(r"^([a-zäöü])'(\w.*)$", part)
        if m:  # o'brien → O'Brien, d'angelo → D'Angelo
            out.append(m.group(1).upper() + "'" + _cap(m.group(2)))
            continue
        out.append(_cap(part))
    return "-".join(out)


def smart_capitalize(text: str, lowercase_words: frozenset[str], *, capitalize_first: bool) -> str:
    """Capitalise an all-lowercase answer like Germans write it.

    Words in ``lowercase_words`` ("von", "am", "der", …) stay lowercase, except the first word
    when ``capitalize_first`` (streets and places: "Am Anger", names: "von der Leyen") and the
    last word (a name that is only a particle is still a name).
    """
    words = text.split(" ")
    out = []
    for i, w in enumerate(words):
        keep_lower = w in lowercase_words and i < len(words) - 1 and not (i == 0 and capitalize_first)
        out.append(w if keep_lower else _cap_compound(w))
    return " ".join(out)
