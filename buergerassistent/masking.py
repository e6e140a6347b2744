"""Mask personal data in citizens' messages before an editor or the insights store sees them.

Replaces e-mail addresses, phone numbers (``phonenumbers``' matcher), IBANs, dates (also of
birth: "geb. 1964", "12/08/1964"), postcodes, street addresses, case numbers, ID card and
passport numbers, long digit runs and names by placeholders such as «E-Mail». Names are masked
after "ich heiße …", after "Frau"/"Herr", as every value the citizen gave in a form in that
conversation, and wherever a capitalised full name appears: a first name from a maintained list
(the German, Austrian, Swiss, Turkish, Polish, Italian and Croatian first names of the ``Faker``
package, MIT licence) followed by a capitalised surname. When a reviewed message becomes a
training example, the placeholders are filled with the validators' harmless example values
(``fill_placeholders``), so no real person's data reaches nlu/data.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

MONTHS = r"(?:januar|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|jan|feb|mär|apr|jun|jul|aug|sep|sept|okt|nov|dez)\.?"
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("E-Mail", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)),
    # Any grouping (spaces, dashes, none): the country, two check digits, 10 to 30 characters.
    # (Letters inside the account part only in capitals, so the words after it stay.)
    ("IBAN", re.compile(r"\b[A-Za-z]{2}[ -]?\d{2}(?:[ -]?[0-9A-Z]){10,30}\b")),
    ("Aktenzeichen", re.compile(r"\b[A-Z]{2}-\d{4}-[0-9A-Z]{8}\b", re.I)),
    ("Datum", re.compile(rf"\b\d{{1,2}}\.\s*(?:\d{{1,2}}\.|{MONTHS})\s*(?:\d{{2,4}})?", re.I)),
    ("Datum", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("Datum", re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})\b")),
    (
        "Adresse",
        re.compile(
            r"\b[\wäöüß.-]*(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer)\s+\d+(?:\s?[a-z](?!\w))?", re.I
        ),
    ),
    ("PLZ", re.compile(r"\b\d{5}\b")),
]
_LONG_NUMBER = re.compile(r"\d[\d\s/-]{5,}\d")
# Personalausweis / Reisepass / eAT serial numbers: 9 characters from C F G H J K L M N P R T V W X
# Y Z 0-9 (no vowels), the first a letter, at least one digit, optionally the check digit.
_ID_NUMBER = re.compile(r"\b(?=[CFGHJKLMNPRTVWXYZ0-9]{0,8}\d)[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\d?\b", re.I)
# The year of birth: "geb. 1964", "geboren 1964", "Jahrgang 1964", "Geburtsjahr: 1964".
_BIRTH_YEAR = re.compile(
    r"(?P<lead>\b(?i:geb\.|geboren(?:\s+(?:im\s+jahr|in))?|jahrgang|geburtsjahr)\s*:?\s*)(?:19|20)\d{2}\b"
)
# "Frau Mustermann", "Herrn Dr. Müller-Lüdenscheidt"
_SALUTATION = re.compile(
    r"(?P<lead>\b(?:Frau|Herrn?|Fr\.|Hr\.)\s+(?:(?:Dr|Prof)\.\s+)*)"
    r"(?P<name>[A-ZÄÖÜ][\w'-]+(?:\s+(?:(?:von|van|de|zu|der|den)\s+)?[A-ZÄÖÜ][\w'-]+){0,2})"
)
# "ich heiße Erika Mustermann", "mein Name ist Max", "Name: Anna-Lena Schmidt"
_NAME_INTRO = re.compile(
    r"(?P<lead>\b(?i:ich hei(?:ß|ss)e|mein name ist|mein name lautet|name\s*:|hier spricht|hier ist)\s+)"
    r"(?P<name>[^\W\d_][\w'-]+(?:\s+(?:(?:von|van|de|zu|der|den)\s+)?[A-ZÄÖÜ][\w'-]+){0,3})"
)

# Locales of the Faker package whose first names are common in Germany.
_NAME_LOCALES = ("de_DE", "de_AT", "de_CH", "tr_TR", "pl_PL", "it_IT", "hr_HR")
# First names that are also everyday capitalised German words (months, nouns): a full name
# starting with one of these is left alone ("im August Urlaub").
_NOT_NAMES = {"August", "Mai", "Juni", "Juli", "Rosa", "Rose", "Heide", "Wolf", "Ernst", "Fried", "Kurz", "Gerade"}


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """First names from the Faker package's person providers (empty if it is not installed)."""
    names: set[str] = set()
    for locale in _NAME_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            value = getattr(provider, attr, ())
            names.update(value.keys() if isinstance(value, dict) else value)
    return frozenset(n for n in names if n[:1].isupper() and n.isalpha() and len(n) >= 2 and n not in _NOT_NAMES)


_SURNAME = r"(?:(?:von|van|de|zu|der|den|vom|zur)\s+)*[A-ZÄÖÜ][\w'-]*[a-zäöüß][\w'-]*"


@lru_cache(maxsize=1)
def _full_name() -> re.Pattern:
    """First name (also "Anna-Lena", or two first names) + surname; also "Mustermann, Erika"."""
    names = "|".join(sorted((re.escape(n) for n in first_names()), key=len, reverse=True)) or "(?!)"
    first = rf"(?:{names})(?:-(?:{names}))?"
    return re.compile(
        rf"\b(?:{first})(?:\s+(?:{first}))?\s+{_SURNAME}(?:-[A-ZÄÖÜ][\w'-]+)?\b"
        rf"|\b[A-ZÄÖÜ][\w'-]*[a-zäöüß][\w'-]*,\s*(?:{first})\b"
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
    "Ausweisnummer": "T22000129",
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
    text = _PATTERNS[2][1].sub("«Aktenzeichen»", text)  # before IBANs: "BA-2026-…" looks like one
    text = _PATTERNS[1][1].sub("«IBAN»", text)
    for label, pattern in _PATTERNS[3:5]:
        text = pattern.sub(f"«{label}»", text)
    text = _mask_phones(text)
    for label, pattern in _PATTERNS[5:]:
        text = pattern.sub(f"«{label}»", text)
    text = _LONG_NUMBER.sub("«Nummer»", text)
    text = _ID_NUMBER.sub("«Ausweisnummer»", text)
    text = _BIRTH_YEAR.sub(lambda m: m.group("lead") + "«Datum»", text)
    for value, label in sorted(known, key=lambda kv: -len(kv[0])):
        value = value.strip()
        if len(value) >= 2:
            text = re.sub(rf"(?<![\w«]){re.escape(value)}(?![\w»])", f"«{label}»", text, flags=re.I)
    text = _NAME_INTRO.sub(lambda m: m.group("lead") + "«Name»", text)
    text = _SALUTATION.sub(lambda m: m.group("lead") + "«Name»", text)
    text = _full_name().sub("«Name»", text)
    return text


def fill_placeholders(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: FILL.get(m.group(1), FILL["Angabe"]), text)


# Form answers of these validator types identify a person; the values are masked wherever
# the citizen repeats them in the conversation. (Choices, yes/no, counts and the city are not.)
PERSONAL_TYPES = frozenset(
    {
        "name",
        "email",
        "phone",
        "iban",
        "birth_date",
        "date",
        "past_date",
        "postcode",
        "street",
        "steuer_id",
        "kfz_kennzeichen",
        "fin",
        "text",
    }
)


def placeholder_for(field_type: str) -> str:
    """The placeholder for a form answer of a validator type."""
    return {
        "name": "Name",
        "email": "E-Mail",
        "phone": "Telefon",
        "iban": "IBAN",
        "birth_date": "Datum",
        "date": "Datum",
        "future_date": "Datum",
        "past_date": "Datum",
        "postcode": "PLZ",
        "street": "Adresse",
    }.get(field_type, "Angabe")
