"""Simple checks of the Leichte-Sprache rules (issue 20), used by ``content/lint.py``.

They measure what can be measured without a parser; an editor still reads every text:

* a sentence has at most :data:`MAX_SENTENCE_WORDS` words;
* a word has at most :data:`MAX_WORD_LETTERS` letters unless it is split with hyphens
  ("Wohnungs-Geber-Bestätigung");
* no abbreviations (z. B., bzw., ggf., usw., …);
* no passive that is easy to see: a form of "werden" and a past participle in the same sentence
  ("Der Antrag wird geprüft").
"""

from __future__ import annotations

import re

MAX_SENTENCE_WORDS = 15
MAX_WORD_LETTERS = 20

ABBREVIATIONS = (
    "z. B.", "z.B.", "bzw.", "ggf.", "usw.", "etc.", "d. h.", "d.h.", "u. a.", "u.a.", "evtl.", "inkl.",
    "ca.", "Nr.", "vgl.", "sog.", "zzgl.", "o. Ä.", "u. U.", "i. d. R.", "Abs.", "gem.",
)  # fmt: skip
_ABBREVIATION = re.compile("|".join(rf"(?<!\w){re.escape(a)}" for a in ABBREVIATIONS))
# Abbreviations are masked before sentences are split so that "z. B." ends no sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß0-9][A-Za-zÄÖÜäöüß0-9\-]*")
_WERDEN = re.compile(r"\b(wird|werden|wurde|wurden|worden|würde|würden)\b", re.I)
# A past participle: ge…t / ge…en ("geprüft", "gegeben"), or a verb on -iert ("informiert").
_PARTICIPLE = re.compile(r"\b(ge[a-zäöüß]{2,}(t|en)|[a-zäöüß]+iert|[a-zäöüß]+ge[a-zäöüß]{2,}(t|en))\b")
# "ge…en" nouns and adjectives that are no participles.
_NOT_PARTICIPLES = frozenset({"gegen", "genug", "gern", "gerne", "genau", "gestern", "geben", "gehen", "gelten"})


def sentences(text: str) -> list[str]:
    masked = _ABBREVIATION.sub(lambda m: m.group(0).replace(".", "").replace(" ", ""), text or "")
    return [s.strip() for s in _SENTENCE_END.split(masked) if s.strip()]


def problems(text: str) -> list[str]:
    """What breaks the rules in ``text`` (German messages for the editors), empty when nothing."""
    found: list[str] = []
    for abbreviation in sorted({m.group(0) for m in _ABBREVIATION.finditer(text or "")}):
        found.append(f"Abkürzung „{abbreviation}“: bitte ausschreiben")
    for sentence in sentences(text):
        words = _WORD.findall(sentence)
        if len(words) > MAX_SENTENCE_WORDS:
            found.append(f"Satz mit {len(words)} Wörtern (höchstens {MAX_SENTENCE_WORDS}): „{sentence}“")
        for word in words:
            if "-" not in word and len(word) > MAX_WORD_LETTERS:
                found.append(f"langes Wort „{word}“ ({len(word)} Buchstaben): bitte mit Bindestrich teilen")
        if _WERDEN.search(sentence):
            participles = [
                p.group(0) for p in _PARTICIPLE.finditer(sentence) if p.group(0).lower() not in _NOT_PARTICIPLES
            ]
            if participles:
                found.append(f"Passiv („{_WERDEN.search(sentence).group(0)} … {participles[0]}“): „{sentence}“")
    return found
