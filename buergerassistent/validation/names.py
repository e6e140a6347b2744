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
    r"(?:der )?(?:vor|nach|familien)?name:?|my (?:first |last |family )?name is|i am|i'm)\s+",
    re.IGNORECASE,
)
_ALLOWED_PUNCT = set(" -'.")
MAX_WORDS = 6  # "Maria de los Angeles Garcia" has five

# Words that are part of a sentence, never of a name (German and English). Short names of other
# languages that look like such words ("An", "No", "Mir", "Will", "bin") are deliberately absent.
SENTENCE_WORDS = frozenset(
    """ich du wir mein meine meinen meiner bin bist ist sind heiße heisse heißt habe hab hat nicht kein keine
    keinen was wie warum wieso wo wann soll sollte kann muss möchte bitte danke hallo hier
    jetzt nein ja okay ok und oder aber auch noch schon eine einen einem weil dass egal keine ahnung
    i my you your is are the what why how don't dont know please hello hi it this that yes want have
    erste ersten erster erstes zweite zweiten zweiter zweites dritte dritten beide beides first second""".split()
)  # ordinals: "das erste" picks from a list ("Das Erste" is no name)
# A short list of German and English swear words: such an answer is not stored as a name.
SWEAR_WORDS = frozenset(
    """arsch arschloch scheiße scheisse scheiß scheiss fick ficken ficker fuck fucker fucking shit wichser
    hurensohn fotze missgeburt spast spasti vollidiot idiot penner bastard schlampe hure kacke bitch asshole
    dummkopf depp trottel""".split()
)


def validate_name(text: str, ctx: Context) -> Result:
    s = _LEAD_IN.sub("", clean(text))
    s = re.sub(r"\s*-\s*", "-", s)  # "Müller - Lüdenscheidt" → "Müller-Lüdenscheidt"
    if not s:
        return ctx.fail("Ich habe keinen Namen erhalten.", refer=False)
    if len(s) > MAX_LENGTH:
        return ctx.fail(f"Der Name ist länger als {MAX_LENGTH} Zeichen.")
    if any(ch.isdigit() for ch in s):
        return ctx.fail("Ein Name enthält keine Ziffern.", refer=False)
    if "?" in s:
        return ctx.fail("Das ist eine Frage, kein Name.", refer=False)
    words = [w.strip(".,!'").casefold() for w in s.split()]
    if any(w in SWEAR_WORDS or w.startswith(("scheiß", "scheiss", "fick")) for w in words):
        return ctx.fail("Das habe ich nicht als Namen erkannt.", refer=False)
    if len(words) > MAX_WORDS or any(w in SENTENCE_WORDS for w in words):
        return ctx.fail("Das sieht nach einem Satz aus, nicht nach einem Namen.", refer=False)
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
