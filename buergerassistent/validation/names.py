"""Given and family names (``name``).

Names are kept as the citizen writes them (they know their name best; "McDonald", "ERIKA" as
in the passport). Only an all-lowercase answer is capitalised, since chat users often skip the
shift key: "erika" → "Erika", "von der leyen" → "von der Leyen".
"""

from __future__ import annotations

import re

from .base import Context, Result, clean, count_letters, is_letter, smart_capitalize

MAX_LENGTH = 100

# Name particles that stay lowercase inside a name (German, Dutch, French, Italian, Spanish, …).
PARTICLES = frozenset("von vom zu zum zur van der den de del della dei di da das dos du la le ter ten y af av".split())
# Chat users answer in sentences: "Ich heiße Erika", "Mein Nachname ist Mustermann".
_LEAD_IN = re.compile(
    r"^(?:ich hei(?:ß|ss)e|mein (?:vor|nach|familien|geburts)?name (?:ist|lautet)|"
    r"(?:der )?(?:vor|nach|familien)?name:?)\s+",
    re.IGNORECASE,
)
_ALLOWED_PUNCT = set(" -'.")


def validate_name(text: str, ctx: Context) -> Result:
    s = _LEAD_IN.sub("", clean(text))
    s = re.sub(r"\s*-\s*", "-", s)  # "Müller - Lüdenscheidt" → "Müller-Lüdenscheidt"
    if not s:
        return ctx.fail("Ich habe keinen Namen erhalten.", refer=False)
    if len(s) > MAX_LENGTH:
        return ctx.fail(f"Der Name ist länger als {MAX_LENGTH} Zeichen.")
    if any(ch.isdigit() for ch in s):
        return ctx.fail("Ein Name enthält keine Ziffern.", refer=False)
    if count_letters(s) == 0:
        return ctx.fail("Das sieht nicht wie ein Name aus.", refer=False)
    bad = sorted({ch for ch in s if not is_letter(ch) and ch not in _ALLOWED_PUNCT})
    if bad:
        return ctx.fail(f"Zeichen wie „{''.join(bad)}“ gehören nicht in einen Namen.", refer=False)
    if re.search(r"(^|[ ])-|-($|[ ])|--|''|\.\.", s):
        return ctx.fail("Die Bindestriche oder Satzzeichen im Namen stimmen nicht.", refer=False)
    if s == s.lower():
        s = smart_capitalize(s, PARTICLES, capitalize_first=False)
    return Result.success(s)
