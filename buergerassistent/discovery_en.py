"""English discovery (issue 20): the catalogue as an English-speaking citizen names it.

The same BM25F ranking as German discovery (:mod:`buergerassistent.discovery`), over an index of
English documents, analysed with English stop words, lemmas and stems (``discovery.ENGLISH``):

* each core procedure: its English ``name``, ``synonyms``, ``keywords`` and ``description`` from
  ``catalogue/translations/en/<id>.yaml``, plus its German name, synonyms and keywords (a citizen
  who writes English often uses the German word: "Anmeldung for my flat", "Kindergeld");
* each information entry with English terms in ``catalogue/translations/en/information/<id>.yaml``
  (``name``, ``synonyms``, ``keywords``), plus its German name and synonyms: questions about
  topics outside the core (TV licence, tax ID, pension) find them instead of an unrelated core
  procedure.

Imported Munich services have no English text and are not indexed. No Rasa imports here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from buergerassistent import translations
from buergerassistent.discovery import ENGLISH, Discovery

INFORMATION_DIR = translations.TRANSLATIONS_DIR / "en" / "information"


@dataclass(frozen=True)
class EnglishDocument:
    id: str
    name: str
    synonyms: tuple[str, ...]
    keywords: tuple[str, ...]
    description: str
    curated: bool
    information: bool = False
    defining_terms: tuple[str, ...] = ()


def information_terms(directory: Path = INFORMATION_DIR) -> dict[str, dict]:
    """English name/synonyms/keywords of information entries, by id."""
    out = {}
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else ():
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        out[str(data.get("id") or path.stem)] = data
    return out


def english_documents(catalogue) -> list[EnglishDocument]:
    docs = []
    for proc in catalogue:
        if proc.curated:
            entry = translations.english(proc.id)
            if entry is None:
                continue
            german = (proc.name, *proc.synonyms, *proc.keywords)
            docs.append(
                EnglishDocument(
                    proc.id,
                    entry.name,
                    entry.synonyms,
                    (*entry.keywords, *german),
                    entry.description,
                    curated=True,
                    # English and German words that name its thing (only when the German entry
                    # declares some: the rule is the entry's, the English words extend it)
                    defining_terms=(*entry.defining_terms, *proc.defining_terms) if proc.defining_terms else (),
                )
            )
    info = information_terms()
    for proc in catalogue:
        data = info.get(proc.id)
        if data is None or not getattr(proc, "information", False):
            continue
        docs.append(
            EnglishDocument(
                proc.id,
                str(data.get("name") or ""),
                tuple(str(s) for s in data.get("synonyms") or ()),
                (*(str(s) for s in data.get("keywords") or ()), proc.name, *proc.synonyms),
                "",
                curated=False,
                information=True,
            )
        )
    return docs


_WORD = re.compile(r"[a-zäöüß]+")


def _words(*texts: str) -> set[str]:
    return {w for t in texts for w in _WORD.findall(t.lower())}


@lru_cache(maxsize=1)
def vocabularies() -> tuple[frozenset[str], frozenset[str]]:
    """(words only the English texts use, words only the German catalogue uses): which language
    a message without function words is written in ("parking permit" vs "Reisepass verlängern")."""
    from buergerassistent.catalogue import default_catalogue

    catalogue = default_catalogue()
    english: set[str] = set()
    for entry in translations.english_entries().values():
        english |= _words(entry.name, entry.description, *entry.synonyms, *entry.keywords)
    for data in information_terms().values():
        english |= _words(
            str(data.get("name") or ""), *map(str, data.get("synonyms") or ()), *map(str, data.get("keywords") or ())
        )
    german: set[str] = set()
    for proc in catalogue:
        german |= _words(proc.name, proc.description, *proc.synonyms, *proc.keywords)
    return frozenset(english - german), frozenset(german - english)


def english_discovery(catalogue) -> Discovery:
    return Discovery.from_catalogue(english_documents(catalogue), language=ENGLISH)


@lru_cache(maxsize=1)
def default_english_discovery() -> Discovery:
    from buergerassistent.catalogue import default_catalogue

    return english_discovery(default_catalogue())


@lru_cache(maxsize=1)
def _name_phrases() -> tuple[tuple[str, str], ...]:
    """(phrase, procedure id): the English names and synonyms of the core procedures that have
    at least two words ("certificate of registration", "birth certificate"), lower case."""
    out = []
    for pid, entry in translations.english_entries().items():
        name = re.sub(r"\s*\([^)]*\)", "", entry.name)  # "Certificate of registration (Meldebescheinigung)"
        for term in (name, *entry.synonyms):
            phrase = " ".join(re.findall(r"[a-z0-9äöüß]+", term.lower()))
            if len(phrase.split()) >= 2:
                out.append((phrase, pid))
    return tuple(out)


# Words that say nothing about which service: a message of the name and these is the name.
_FILLER = frozenset(
    "a an the i me my we our you your to for of in on at and or please need want would like get "
    "apply applying hello hi hey do does can could how where what is are it this that some new".split()
)


def named_procedure(text: str) -> str | None:
    """The one core procedure whose English name or multi-word synonym the message contains and
    mostly consists of ("I need a certificate of registration"), or None: no such phrase,
    phrases of several services, or a message that asks more than the name ("a certified copy
    of my birth certificate from abroad" is not simply the birth certificate)."""
    tokens = re.findall(r"[a-z0-9äöüß]+", (text or "").lower())
    words = " " + " ".join(tokens) + " "
    found = {(phrase, pid) for phrase, pid in _name_phrases() if f" {phrase} " in words}
    if len({pid for _, pid in found}) != 1:
        return None
    named = {w for phrase, _ in found for w in phrase.split()}
    content = [w for w in tokens if w not in _FILLER]
    covered = sum(1 for w in content if w in named)
    return next(iter(found))[1] if content and covered * 2 >= len(content) else None
