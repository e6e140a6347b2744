"""German address parts: ``postcode``, ``street`` (with house number) and ``city``."""

from __future__ import annotations

import re

from .base import Context, Result, clean, count_letters, is_letter, smart_capitalize

# Small words that stay lowercase inside street and place names ("Straße des 17. Juni",
# "Frankfurt am Main", "An der Alster"); the first word is always capitalised.
SMALL_WORDS = frozenset(
    "am an auf bei d. da de den der des dem die im in ob of unter vom von vor zu zum zur und über a. i. v.".split()
)

# ------------------------------------------------------------------------------- postcode

_PLZ_PREFIX = re.compile(r"^(?:de?|plz:?)\s*-?\s*", re.IGNORECASE)  # "D-80331", "PLZ 80331"


def validate_postcode(text: str, ctx: Context) -> Result:
    s = _PLZ_PREFIX.sub("", clean(text))
    digits = re.sub(r"[\s.]", "", s)  # " 80 331 ", "80.331"
    if not digits:
        return ctx.fail("Ich habe keine Postleitzahl erhalten.", refer=False)
    if not digits.isdigit():
        return ctx.fail("Eine Postleitzahl besteht nur aus Ziffern.", refer=False)
    if len(digits) != 5:
        n = len(digits)
        return ctx.fail(
            f"Die Postleitzahl hat {n} {'Ziffer' if n == 1 else 'Ziffern'}. Deutsche Postleitzahlen haben 5 Ziffern."
        )
    if digits.startswith("00"):  # the lowest German postcode is 01067 (Dresden)
        return ctx.fail("Diese Postleitzahl gibt es in Deutschland nicht.", refer=False)
    return Result.success(digits)


# --------------------------------------------------------------------------------- street

# The house number ends the answer: "8", "12a", "12 a", "3-5", "3/5", "12a-c", "Nr. 8".
_STREET = re.compile(
    r"(?P<name>.*?)[\s,]*(?:\b(?:nr|hausnr|hausnummer)\.?\s*)?"
    r"(?P<num>(?<!\d)\d{1,4}(?:\s?[a-z])?(?:\s?[-/]\s?(?:\d{1,4}(?:\s?[a-z])?|[a-z]))?)",
    re.IGNORECASE,
)
_STREET_CHARS = set(" .-'/()")
_QUADRAT = re.compile(r"[A-U] ?[1-7]")  # Mannheim's city centre: "Q5 12", "Q 5, 12"
MAX_STREET = 100


def _plausible_street_name(name: str) -> bool:
    if not (is_letter(name[0]) or name[0].isdigit()) or name.count("(") != name.count(")"):
        return False
    if re.search(r"[-'/()]{2,}", name):
        return False
    # Digits glued to letters ("Haupt5str") are typos, except Mannheim's squares ("Q5 12").
    for token in name.split(" "):
        if re.search(r"[^\W\d_]\d|\d[^\W\d_]", token) and not _QUADRAT.fullmatch(token):
            return False
    return True


def _house_number(raw: str) -> str:
    num = re.sub(r"\s+", "", raw)  # "12 a" → "12a", "3 - 5" → "3-5"
    return re.sub(r"[A-Z]", lambda m: m.group(0).lower(), num)


# What citizens put before an address: "ich wohne in der Hauptstraße 5", "meine Adresse ist …".
# "In der Au 5" and "Am Anger 3" are street names: only words before them are removed.
_STREET_LEAD_IN = re.compile(
    r"^(?:(?:meine|die|unsere)\s+)?(?:adresse|anschrift|straße|strasse)\s*(?:ist|lautet|:)\s*|"
    r"^(?:ich\s+|wir\s+)?(?:wohne|wohnen|lebe|leben)\s+(?:jetzt\s+|seit\s+\S+\s+)?"
    r"(?:(?:in\s+der|in\s+dem|in\s+den|im|in)\s+(?=\S+\s+\S*\d)|(?=\S))|"
    # "vor der Schleißheimer Straße 120" (where the no-parking zone goes); "In der Au 3" stays.
    r"^(?:vor|in|bei|an)\s+(?:der|dem|den)\s+"
    r"(?=(?:\S+\s+){0,2}\S*(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm)\s*\d)",
    re.IGNORECASE,
)
# Words of a sentence that never belong to a street name.
_NOT_STREET_WORDS = frozenset(
    "ich wir wohne wohnen lebe leben meine mein unsere adresse anschrift ist lautet bitte weiß weiss nicht".split()
)


def strip_address_lead_in(text: str) -> str:
    original = s = clean(text)
    for _ in range(2):  # "meine Adresse ist: ich wohne in …" is rare but costs nothing
        s = _STREET_LEAD_IN.sub("", s, count=1)
    # "wohne am Anger 3" → "Am Anger 3" (an all-lowercase answer is capitalised later anyway)
    if s != original and s != s.lower() and s[:1].islower() and s.split(" ")[0] in SMALL_WORDS:
        s = s[:1].upper() + s[1:]
    return s


def validate_street(text: str, ctx: Context) -> Result:
    s = strip_address_lead_in(text).rstrip(".,;")
    if not s:
        return ctx.fail("Ich habe keine Anschrift erhalten.", refer=False)
    if len(s) > MAX_STREET:
        return ctx.fail(f"Die Angabe ist länger als {MAX_STREET} Zeichen.", refer=False)
    if re.search(r"\b\d{5}\b", s):
        return ctx.fail("Postleitzahl und Ort gehören nicht in dieses Feld.", refer=False)
    m = _STREET.fullmatch(s)
    if not m or (count_letters(m["name"]) < 2 and not _QUADRAT.fullmatch(m["name"].strip(" ,"))):
        if count_letters(s) >= 2 and not any(ch.isdigit() for ch in s):
            return ctx.fail("Die Hausnummer fehlt.", refer=False)
        return ctx.fail("Das habe ich nicht als Straße mit Hausnummer erkannt.", refer=False)
    name = m["name"].strip(" ,")
    if any(w.casefold() in _NOT_STREET_WORDS for w in name.split()):
        return ctx.fail("Bitte nennen Sie nur Straße und Hausnummer.", refer=False)
    if re.search(r"\d{1,2}\.\s?\d{1,2}\.", name) or re.search(r"(?:^|\s)\d+$", name):
        # a date ("geb. 1.2.1980") or two numbers ("Hauptstr. 1 12") are no street
        return ctx.fail("Das habe ich nicht als Straße mit Hausnummer erkannt.", refer=False)
    if not _plausible_street_name(name):
        return ctx.fail("Das habe ich nicht als Straße mit Hausnummer erkannt.", refer=False)
    bad = sorted({ch for ch in name if not (is_letter(ch) or ch.isdigit() or ch in _STREET_CHARS)})
    if bad:
        return ctx.fail(f"Zeichen wie „{''.join(bad)}“ gehören nicht in einen Straßennamen.", refer=False)
    num = _house_number(m["num"])
    if int(re.match(r"\d+", num).group(0)) == 0:
        return ctx.fail("Die Hausnummer 0 gibt es nicht.", refer=False)
    num = num.lstrip("0")
    if name == name.lower():
        name = smart_capitalize(name, SMALL_WORDS, capitalize_first=True)
    return Result.success(f"{name} {num}")


# ----------------------------------------------------------------------------------- city

MAX_CITY = 100
_CITY_CHARS = set(" -.'()/")


_CITY_LEAD_IN = re.compile(
    r"^(?:(?:ich\s+|wir\s+)?(?:wohne|wohnen|lebe|leben)\s+in|wohnhaft\s+in|(?:der\s+)?(?:wohn)?ort\s*(?:ist|:)|in)\s+",
    re.IGNORECASE,
)


def validate_city(text: str, ctx: Context) -> Result:
    s = _CITY_LEAD_IN.sub("", clean(text)).rstrip(",;")
    s = re.sub(r"\s*-\s*", "-", s)
    s = re.sub(r"\(\s*", "(", re.sub(r"\s*\)", ")", s))
    if not s:
        return ctx.fail("Ich habe keinen Ort erhalten.", refer=False)
    if len(s) > MAX_CITY:
        return ctx.fail(f"Der Ortsname ist länger als {MAX_CITY} Zeichen.")
    if any(ch.isdigit() for ch in s):
        return ctx.fail("Der Ortsname enthält keine Ziffern, auch keine Postleitzahl.", refer=False)
    bad = sorted({ch for ch in s if not is_letter(ch) and ch not in _CITY_CHARS})
    if bad:
        return ctx.fail(f"Zeichen wie „{''.join(bad)}“ gehören nicht in einen Ortsnamen.", refer=False)
    if count_letters(s) < 2 or not is_letter(s[0]) or s.count("(") != s.count(")"):
        return ctx.fail("Das sieht nicht wie ein Ortsname aus.", refer=False)
    if len(s.split()) > 6 or any(w.casefold() in _NOT_STREET_WORDS for w in s.split()):
        return ctx.fail("Bitte nennen Sie nur den Ort.", refer=False)
    if s == s.lower():
        s = smart_capitalize(s, SMALL_WORDS, capitalize_first=True)
    return Result.success(s)
