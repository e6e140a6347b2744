"""Mask personal data in citizens' messages before an editor sees them.

Replaces e-mail addresses, phone numbers (``phonenumbers``' matcher), IBANs, dates, postcodes,
street addresses, case numbers, long digit runs and names (after "ich heiße …", and every value
the citizen gave in a form in that conversation) by placeholders such as «E-Mail». When a
reviewed message becomes a training example, the placeholders are filled with the validators'
harmless example values (``fill_placeholders``), so no real person's data reaches nlu/data.
"""

from __future__ import annotations

import re
from typing import Iterable

import phonenumbers

MONTHS = r"(?:januar|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|jan|feb|mär|apr|jun|jul|aug|sep|sept|okt|nov|dez)\.?"
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("E-Mail", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b", re.I)),
    ("Aktenzeichen", re.compile(r"\b[A-Z]{2}-\d{4}-[0-9A-Z]{8}\b", re.I)),
    ("Datum", re.compile(rf"\b\d{{1,2}}\.\s*(?:\d{{1,2}}\.|{MONTHS})\s*(?:\d{{2,4}})?", re.I)),
    ("Datum", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("Adresse", re.compile(
        r"\b[\wäöüß.-]*(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer)\s+\d+(?:\s?[a-z](?!\w))?", re.I)),
    ("PLZ", re.compile(r"\b\d{5}\b")),
]
_LONG_NUMBER = re.compile(r"\d[\d\s/-]{5,}\d")
# "ich heiße Erika Mustermann", "mein Name ist Max", "Name: Anna-Lena Schmidt"
_NAME_INTRO = re.compile(
    r"(?P<lead>\b(?i:ich hei(?:ß|ss)e|mein name ist|mein name lautet|name\s*:|hier spricht|hier ist)\s+)"
    r"(?P<name>[^\W\d_][\w'-]+(?:\s+(?:(?:von|van|de|zu|der|den)\s+)?[A-ZÄÖÜ][\w'-]+){0,3})"
)

# Harmless values for placeholders (the validators' examples), for training examples.
FILL = {
    "E-Mail": "erika.mustermann@example.org",
    "Telefon": "089 233-0",
    "IBAN": "DE89 3704 0044 0532 0130 00",
    "Aktenzeichen": "BA-2026-7F3K9Q2M",
    "Datum": "12.08.1964",
    "Adresse": "Marienplatz 8",
    "PLZ": "80331",
    "Nummer": "12345678",
    "Name": "Erika Mustermann",
    "Angabe": "Erika",
}
_PLACEHOLDER = re.compile(r"«([^»]+)»")


def _mask_phones(text: str) -> str:
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "DE")]
    for start, end in reversed(spans):
        text = text[:start] + "«Telefon»" + text[end:]
    return text


def mask(text: str, known: Iterable[tuple[str, str]] = ()) -> str:
    """``text`` with personal data replaced; ``known`` = (value, placeholder) from the form."""
    text = _PATTERNS[0][1].sub("«E-Mail»", text)  # first: names and digits inside addresses
    text = _PATTERNS[1][1].sub("«IBAN»", text)
    text = _PATTERNS[2][1].sub("«Aktenzeichen»", text)
    for label, pattern in _PATTERNS[3:5]:
        text = pattern.sub(f"«{label}»", text)
    text = _mask_phones(text)
    for label, pattern in _PATTERNS[5:]:
        text = pattern.sub(f"«{label}»", text)
    text = _LONG_NUMBER.sub("«Nummer»", text)
    for value, label in sorted(known, key=lambda kv: -len(kv[0])):
        value = value.strip()
        if len(value) >= 2:
            text = re.sub(rf"(?<![\w«]){re.escape(value)}(?![\w»])", f"«{label}»", text, flags=re.I)
    text = _NAME_INTRO.sub(lambda m: m.group("lead") + "«Name»", text)
    return text


def fill_placeholders(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: FILL.get(m.group(1), FILL["Angabe"]), text)


# Form answers of these validator types identify a person; the values are masked wherever
# the citizen repeats them in the conversation. (Choices, yes/no, counts and the city are not.)
PERSONAL_TYPES = frozenset(
    {"name", "email", "phone", "iban", "birth_date", "date", "postcode", "street", "steuer_id",
     "kfz_kennzeichen", "fin", "text"}
)


def placeholder_for(field_type: str) -> str:
    """The placeholder for a form answer of a validator type."""
    return {
        "name": "Name", "email": "E-Mail", "phone": "Telefon", "iban": "IBAN", "birth_date": "Datum",
        "date": "Datum", "future_date": "Datum", "postcode": "PLZ", "street": "Adresse",
    }.get(field_type, "Angabe")
