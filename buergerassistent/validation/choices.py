"""Answers from a fixed set: ``choice`` (the field's choices) and ``yes_no``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any, Optional

from .base import Context, Result, clean

FUZZY_CUTOFF = 0.8  # difflib ratio; lets "erweitret" or "einfahc" through, not "erwachsen"
MIN_TERM_IN_TEXT = 3  # a one-letter value like "a" must not be found inside any sentence
STRONG_TERM = 5  # among several terms found in one answer, only one this long decides
MAX_ANSWER = 200  # a choice is a short answer; longer texts are not searched
ORDINALS = {
    "erste": 1,
    "ersten": 1,
    "erstes": 1,
    "zweite": 2,
    "zweiten": 2,
    "zweites": 2,
    "dritte": 3,
    "dritten": 3,
    "drittes": 3,
    "vierte": 4,
    "vierten": 4,
    "fünfte": 5,
    "fünften": 5,
    "fünftes": 5,
    "erster": 1,
    "zweiter": 2,
    "dritter": 3,
    "vierter": 4,
    "viertes": 4,
    "fünfter": 5,
    "erstens": 1,
    "zweitens": 2,
    "drittens": 3,
    "eins": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
}
_NEGATION = re.compile(r"\b(?:nicht|kein|keine|keinen)\b")


# Bavarian words ("zwoa Jahr", "des ghört mia"): read as the standard word before matching. Only
# here, for short answers to a list: "mia" is "mir" in "des ghört mia" (it can also mean "wir").
_DIALECT = {
    "oans": "eins",
    "oa": "ein",
    "oan": "ein",
    "oana": "eine",
    "zwoa": "zwei",
    "zwo": "zwei",
    "des": "das",
    "ghört": "gehört",
    "gheert": "gehört",
    "mia": "mir",
    "i": "ich",
    "mei": "mein",
    "meim": "meinem",
}


def _norm(s: str) -> str:
    s = clean(s).casefold()
    s = re.sub(r"[^\w\s-]", " ", s)  # punctuation and emoji
    s = " ".join(_DIALECT.get(w, w) for w in s.split())
    return re.sub(r"\s+", " ", s).strip()


def _terms(choice: Any) -> list[str]:
    terms = [choice.value, choice.label, *(getattr(choice, "synonyms", ()) or ())]
    return [t for t in dict.fromkeys(_norm(str(t)) for t in terms) if t]


# Words around a position that choose nothing: "ich nehme bitte die Nummer 2", "den zweiten".
_POSITION_FILLER = frozenset(
    "ich nehme nehm nimm möchte will wähle hätte gern gerne bitte die das der den dem nummer nr option "
    "möglichkeit punkt ja also dann doch mal ok okay".split()
)
_LAST = frozenset({"letzte", "letzten", "letztes", "letzter"})


def _by_position(s: str, n: int) -> Optional[int]:
    """ "1", "2.", "Nummer 2", "den zweiten", "ich nehme die erste", "die letzte"."""
    words = [w.rstrip(".") for w in s.split()]
    rest = [w for w in words if w not in _POSITION_FILLER]
    if len(rest) != 1 or len(words) > 6:
        return None
    tok = rest[0]
    if tok in _LAST:
        return n
    pos = int(tok) if tok.isdigit() else ORDINALS.get(tok)
    return pos if pos and 1 <= pos <= n else None


def match_choice(text: str, choices: Sequence[Any]) -> Optional[Any]:
    """The choice meant by ``text``, or None when nothing (or more than one) fits."""
    s = _norm(text)
    if not s or len(s) > MAX_ANSWER:
        return None
    terms = [(_terms(c), c) for c in choices]
    # 1. exact match on value, label or synonym
    for ts, c in terms:
        if s in ts:
            return c
    # 2. by position: "1", "2.", "Nummer 2", "die erste"
    pos = _by_position(s, len(choices))
    if pos:
        return choices[pos - 1]
    if _NEGATION.search(s):  # "nicht die einfache": guessing would pick the wrong one
        return None
    # 3. a term inside a longer answer: "die einfache bitte", "gerne erweitert"
    hits = {
        id(c): c
        for ts, c in terms
        for t in ts
        if len(t) >= MIN_TERM_IN_TEXT and re.search(rf"(?<!\w){re.escape(t)}(?!\w)", s)
    }
    if len(hits) == 1:
        return next(iter(hits.values()))
    if len(hits) > 1:
        # Two choices named by their own value or label ("erst Einzelunternehmen, also doch GbR"):
        # not a guess – the answer is asked again.
        named = {
            id(c)
            for c in choices
            for t in {_norm(str(c.value)), _norm(str(c.label))}
            if len(t) >= MIN_TERM_IN_TEXT and re.search(rf"(?<!\w){re.escape(t)}(?!\w)", s)
        }
        if len(named) > 1:
            return None
        # "auf meine Mutter zugelassen, ich fahre es": a full word beats a pronoun ("ich").
        strong = {
            id(c): c
            for ts, c in terms
            for t in ts
            if len(t) >= STRONG_TERM and re.search(rf"(?<!\w){re.escape(t)}(?!\w)", s)
        }
        if len(strong) == 1:
            return next(iter(strong.values()))
    # 4. small typos: the closest term, if it is clearly closer than any other choice's term
    scored = sorted(
        ((difflib.SequenceMatcher(None, s, t).ratio(), i) for i, (ts, _) in enumerate(terms) for t in ts),
        reverse=True,
    )
    if scored and scored[0][0] >= FUZZY_CUTOFF:
        best, idx = scored[0]
        rivals = [r for r, i in scored if i != idx]
        if not rivals or rivals[0] < best - 0.05:
            return choices[idx]
    return None


def validate_choice(text: str, ctx: Context) -> Result:
    if not ctx.choices:
        raise ValueError("validate('choice', …) needs choices")
    choice = match_choice(text, ctx.choices)
    if choice is None:
        labels = [str(c.label) for c in ctx.choices]
        listed = ", ".join(f"{i}. {label}" for i, label in enumerate(labels, 1))
        problem = (
            "Das habe ich keiner Möglichkeit zuordnen können." if clean(text) else "Ich habe keine Antwort erhalten."
        )
        failed = ctx.fail(f"{problem} Bitte wählen Sie eine dieser Möglichkeiten: {listed}.")
        return Result.failure(failed.error or "", problem)
    return Result.success(str(choice.value), str(choice.label))


# --------------------------------------------------------------------------------- yes/no

YES = {
    "ja",
    "jo",
    "jap",
    "jep",
    "jupp",
    "japp",
    "jawohl",
    "jaa",
    "j",
    "gerne",
    "gern",
    "klar",
    "sicher",
    "natürlich",
    "selbstverständlich",
    "ok",
    "okay",
    "oki",
    "okey",
    "genau",
    "richtig",
    "stimmt",
    "korrekt",
    "einverstanden",
    "passt",
    "yes",
    "y",
    "👍",
    "auf jeden fall",
    "na klar",
    "ja bitte",
    "ja gerne",
    "ja klar",
    "ja genau",
    "ja das stimmt",
    "das stimmt",
    "ja richtig",
    "sehr gerne",
    "bitte",
    "ja natürlich",
    "freilich",
    "jawoi",
    "na gut",
    "na sicher",
    "na logo",
    # English (issue 20): the same answers from a citizen who writes English.
    "yeah",
    "yep",
    "yup",
    "sure",
    "of course",
    "correct",
    "right",
    "that's right",
    "that is right",
    "yes please",
    "yes it was",
    "yes that's right",
    "absolutely",
}
NO = {
    "nein",
    "nö",
    "noe",
    "ne",
    "nee",
    "nä",
    "nope",
    "n",
    "no",
    "nicht",
    "niemals",
    "keinesfalls",
    "falsch",
    "auf keinen fall",
    "lieber nicht",
    "nein danke",
    "nein bitte nicht",
    "nicht nötig",
    "bitte nicht",
    "stimmt nicht",
    "das stimmt nicht",
    "👎",
    "eher nicht",
    "danke nein",
    "nöö",
    "na",  # Bavarian: "na, verlorn" (but "na klar", "na gut" are yes, "na ja" is unclear)
    "naa",
    "noa",
    "nah",
    "no thanks",
    "no thank you",
    "not really",
    "no it wasn't",
    "no it was not",
    "wrong",
}
# Words that turn a leading "ja" around ("ja, aber bitte nicht", "bitte keine").
_CONTRA_YES = {"nein", "nicht", "nö", "nee", "kein", "keine", "keinen", "nichts", "no", "not"}


def _yes_no_norm(text: str) -> str:
    s = clean(text).casefold()
    s = re.sub(r"[.,!?;:]+", " ", s)
    s = re.sub(r"(\w)\1{2,}", r"\1\1", s)  # "jaaaa" → "jaa", "neeein" → "neein"
    s = re.sub(r"^(n)e{2,}in", r"\1ein", s)
    return re.sub(r"\s+", " ", s).strip()


def validate_yes_no(text: str, ctx: Context) -> Result:
    s = _yes_no_norm(text)
    answer = None
    if s in YES:
        answer = "ja"
    elif s in NO:
        answer = "nein"
    elif s:
        # the first word decides ("ja, das passt so", "nein, die alte Adresse"), unless it
        # is contradicted later ("ja … nein")
        words = s.split(" ")
        first = words[0]
        later = set(words[1:])
        if len(first) < 2 or first == "nicht" or not all(w.isalpha() for w in later):
            pass  # "j 2 x", "ja 123", "nicht sicher": ask again
        elif first in YES and not later & _CONTRA_YES:
            answer = "ja"
        elif first in NO and not later & {"ja", "doch"}:
            answer = "nein"
    if answer is None:
        return ctx.fail("Ich habe nicht verstanden, ob Sie ja oder nein meinen.")
    return Result.success(answer)
