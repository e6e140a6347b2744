"""Counts (``count``): a positive whole number, as digits or as a German number word."""

from __future__ import annotations

import re

from .base import Context, Result, clean

MAX_COUNT = 9999

# Small counts are often written out ("zwei Exemplare"); larger ones come as digits.
NUMBER_WORDS = {
    "ein": 1,
    "eins": 1,
    "eine": 1,
    "einen": 1,
    "einer": 1,
    "einem": 1,
    "zwei": 2,
    "zwo": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "fuenf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "zwoelf": 12,
}
# "zwanzig Meter", "fünfundzwanzig": the tens and their compounds up to 99 (Bavarian "zwoa" too).
_UNITS = {
    "ein": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "fuenf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
}
_TEENS = {
    "dreizehn": 13,
    "vierzehn": 14,
    "fünfzehn": 15,
    "fuenfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
}
_TENS = {
    "zwanzig": 20,
    "dreißig": 30,
    "dreissig": 30,
    "vierzig": 40,
    "fünfzig": 50,
    "fuenfzig": 50,
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
}
NUMBER_WORDS.update(_TEENS)
NUMBER_WORDS.update(_TENS)
NUMBER_WORDS.update({"zwoa": 2, "hundert": 100, "einhundert": 100})
NUMBER_WORDS.update({f"{u}und{t}": nu + nt for u, nu in _UNITS.items() for t, nt in _TENS.items()})
# Bavarian and colloquial spellings: "zwanzg", "fuchzg", "fimfazwanzg", "oans", "viere", "fuffzehn".
NUMBER_WORDS.update({"oans": 1, "oa": 1, "oane": 1, "viere": 4, "fünfe": 5, "fimfe": 5, "sechse": 6, "siebne": 7})
NUMBER_WORDS.update({"neine": 9, "zehne": 10, "elfe": 11, "zwölfe": 12, "fuchzehn": 15, "fuffzehn": 15})
_DIALECT_UNITS = {**_UNITS, "oa": 1, "oan": 1, "zwoa": 2, "fimf": 5, "fimpf": 5, "sieb": 7}
_DIALECT_TENS = {
    "zwan": 20, "dreiß": 30, "dreiss": 30, "vier": 40, "fünf": 50, "fuenf": 50, "fuch": 50, "fuff": 50, "fuf": 50,
    "sech": 60, "sieb": 70, "siem": 70, "acht": 80, "neun": 90,
}  # fmt: skip
_DIALECT_NUMBER = re.compile(
    r"(?:(?P<unit>" + "|".join(sorted(_DIALECT_UNITS, key=len, reverse=True)) + r")(?:und|ara|ar|ra|a|e|n|ad)?)?"
    r"(?P<tens>" + "|".join(sorted(_DIALECT_TENS, key=len, reverse=True)) + r")(?:z|zi|ze|s|i)?g"
)


def _number_word(word: str):
    """The value of a number word, in standard or dialect spelling ("zwanzg" → 20), or None."""
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    m = _DIALECT_NUMBER.fullmatch(word)
    if m is None:
        return None
    return _DIALECT_TENS[m["tens"]] + (_DIALECT_UNITS[m["unit"]] if m["unit"] else 0)


ZERO_WORDS = {"null", "kein", "keine", "keinen", "keins", "nichts"}
# A count may be followed by what is counted ("2 Exemplare", "drei Stück", "zwei mal"), but not
# by words that make it vague or a range.
_VAGUE_WORDS = {"paar", "bis", "oder", "mehr", "mehrere", "weniger", "circa", "ca", "etwa"}
# "nur ich", "ich allein": the citizen alone.
_ONLY_ME = re.compile(
    r"(?:nur|bloß|bloss)\s+(?:ich|mich)(?:\s+selbst)?|ich\s+(?:allein|alleine|selbst)|(?:allein|alleine)"
)
# "wir sind zu viert", "zu zweit": a group of so many.
_GROUP = {"zweit": 2, "dritt": 3, "viert": 4, "fünft": 5, "fuenft": 5, "sechst": 6, "siebt": 7, "acht": 8}
_GROUP_RE = re.compile(
    r"(?:(?:wir|mia|mir)\s+(?:sind|san|ziehen|ziagn)\s+(?:\w+\s+)?)?zu\s+(" + "|".join(_GROUP) + r")(?:\s+\w+)?"
)
# A single estimate is one number: "so 2 Kubikmeter", "ungefähr 15 Meter" (not "so 2 bis 3").
_ESTIMATE = re.compile(r"^(?:so|etwa|ca\.?|circa|ungefähr|ungefaehr|rund|knapp|gut)\s+(?=\S)")


def validate_count(text: str, ctx: Context) -> Result:
    s = clean(text).lower().rstrip(".!")
    if not s:
        return ctx.fail("Ich habe keine Anzahl erhalten.", refer=False)
    if _ONLY_ME.fullmatch(s):
        return Result.success("1")
    group = _GROUP_RE.fullmatch(s)
    if group:
        return Result.success(str(_GROUP[group[1]]))
    s = _ESTIMATE.sub("", s)
    s = re.sub(r"^(\d+)\s*(?:x|mal|stück|stk)\b\.?", r"\1", s)  # "2x", "3 Stück"
    tokens = s.split(" ")
    first, rest = tokens[0], tokens[1:]
    if len(rest) > 1 or any(t in _VAGUE_WORDS or not t.isalpha() for t in rest):
        return ctx.fail("Ich brauche eine genaue Anzahl.", refer=False)
    if first in ZERO_WORDS or re.fullmatch(r"[-−]\s*\d+|0+", first):
        return ctx.fail("Die Anzahl muss mindestens 1 sein.")
    if _number_word(first) is not None:
        n = _number_word(first)
    elif first.isdigit() and first.isascii():
        n = int(first)
    elif re.fullmatch(r"\d+[.,]\d+", first):
        return ctx.fail("Die Anzahl ist eine ganze Zahl.")
    else:
        return ctx.fail("Das habe ich nicht als Anzahl erkannt.", refer=False)
    if n > MAX_COUNT:
        return ctx.fail(f"Die Anzahl ist größer als {MAX_COUNT}.", refer=False)
    return Result.success(str(n))
