"""A second opinion for discovery: which core procedures a message is close to in meaning.

The ranking (``discovery.py``, BM25F) finds an entry by the words of its catalogue entry. A
citizen who writes "ich will meine Selbständigkeit an den Nagel hängen" or "Zweitpass wegen
Visum" uses none of them, and the ranking offers a choice without the procedure, or nothing.
The sentence encoder (``nlu/sentence_encoder.py``, multilingual-e5-small) compares meanings.
Every entry of the catalogue is represented by its own phrases: name, synonyms, keywords and the
first sentences of its description (data, no list here). A message's closeness to an entry is the
mean closeness to the entry's three nearest phrases.

It never decides an answer. ``procedure_finder.decide`` asks it only when the ranking offers a
choice or finds nothing, and only core procedures come from it:

* a **choice** gets the closest core procedures the ranking did not offer (filled up to three, or
  the closest in place of the ranking's third), when a core procedure is at least as close as any
  other entry (``FILL_GAP``);
* an **answer** keeps its first; the closest core procedure after the ranking's first two is
  the third of its ranking and an alternative after "nein, das meine ich nicht";
* **nothing found** becomes a choice of the three closest core procedures when a core procedure
  is clearly closer than every information entry and imported service (``RESCUE_GAP``) and close
  in absolute terms (``RESCUE_MIN``), and NLU does not read the message as something else.

The thresholds were chosen on the development sets (docs/discovery.md, fifteenth round): a
question outside the core has an information entry or an imported service closer than every core
procedure (median 0.034 closer), a question about a core procedure the other way round.
Where the encoder cannot run, the ranking decides alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

from buergerassistent.catalogue import Catalogue, default_catalogue
from buergerassistent.discovery import memoised
from buergerassistent.settings import get_settings
from nlu import sentence_encoder

# A choice gets core procedures when the closest is at least as close as every other entry;
# nothing found becomes a choice only when a core procedure is RESCUE_GAP closer than every other
# entry and at least RESCUE_MIN close (cosine; e5's scale is narrow: 0.85 to 0.95). Chosen on the
# development sets (docs/discovery.md, fifteenth round).
FILL_GAP = 0.0
RESCUE_GAP = 0.02
RESCUE_MIN = 0.88
DESCRIPTION_SENTENCES = 3
# An entry's closeness is the mean of its NEAREST closest phrases: one stray keyword counts less
# than with the single closest (development sets: the core procedure among the encoder's first
# three 96.3 -> 97.5 %, and questions outside the core told apart better).
NEAREST = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Closeness:
    """The core procedures by closeness to a message, and how much closer the closest is than
    the closest other entry (negative: an information entry or imported service is closer)."""

    core: tuple[str, ...]
    best: float
    gap: float


def phrases_of(entry) -> list[str]:
    """The phrases that stand for an entry: its name, synonyms, keywords, first sentences."""
    description = (entry.description or "").strip()
    sentences = [s for s in _SENTENCE.split(description) if s][:DESCRIPTION_SENTENCES]
    return [entry.name, *entry.synonyms, *entry.keywords, *sentences]


class SemanticIndex:
    def __init__(self, catalogue: Catalogue, cache_dir: Optional[Path] = None):
        owners: list[int] = []
        texts: list[str] = []
        self._ids: list[str] = []
        for k, entry in enumerate(catalogue):
            self._ids.append(entry.id)
            for phrase in phrases_of(entry):
                owners.append(k)
                texts.append(phrase)
        self._core = np.array([e.curated and not e.information for e in catalogue], dtype=bool)
        # Each entry's phrases as one row of phrase numbers, padded with len(texts) (no phrase).
        width = max(NEAREST, *np.bincount(owners, minlength=len(self._ids)))
        self._grid = np.full((len(self._ids), width), len(texts), dtype=np.int64)
        fill = np.zeros(len(self._ids), dtype=np.int64)
        for number, owner in enumerate(owners):
            self._grid[owner, fill[owner]] = number
            fill[owner] += 1
        self._count = np.minimum(fill, NEAREST).astype(np.float32)
        # The catalogue's phrases only (never a citizen's message) are kept between starts.
        self._rows = sentence_encoder.encode_cached(texts, cache_dir) if cache_dir else sentence_encoder.encode(texts)

    @property
    def available(self) -> bool:
        return self._rows is not None

    def closeness(self, text: str) -> Optional[Closeness]:
        """None when the encoder cannot run here."""
        if self._rows is None or not text.strip():
            return None
        query = sentence_encoder.encode([text])
        if query is None:
            return None
        per_phrase = np.append(self._rows @ query[0], np.float32(-np.inf))[self._grid]
        nearest = -np.partition(-per_phrase, NEAREST - 1, axis=1)[:, :NEAREST]
        per_entry = np.where(np.isfinite(nearest), nearest, 0.0).sum(axis=1) / self._count
        core = np.flatnonzero(self._core)
        order = core[np.argsort(-per_entry[core], kind="stable")]
        others = per_entry[~self._core]
        best = float(per_entry[order[0]])
        return Closeness(tuple(self._ids[i] for i in order), best, best - float(others.max()) if others.size else best)


@lru_cache(maxsize=1)
def default_index() -> SemanticIndex:
    """The index of the default catalogue; the phrases' embeddings are cached in
    ``$BA_CACHE_DIR/sentence_embeddings`` (a new catalogue phrase costs milliseconds, the whole
    catalogue about half a minute)."""
    return SemanticIndex(default_catalogue(), get_settings().cache_dir / "sentence_embeddings")


def closeness(text: str) -> Optional[Closeness]:
    """The default index's reading of ``text``, once per message (``discovery.one_message``)."""
    return memoised(("semantic", text), lambda: default_index().closeness(text))


def complete_choice(text: str, offered: list[str], top: int = 3) -> list[str]:
    """The ids to offer: the ranking's choice with the closest core procedures it missed."""
    found = closeness(text)
    if found is None or found.gap < FILL_GAP or not found.core:
        return offered
    if offered == [found.core[0]]:
        # The ranking's one candidate is the closest too: it stays alone (a question about it
        # is then answered for it: actions/dialogue.py).
        return offered
    if len(offered) >= top:
        if found.core[0] in offered:
            return offered
        offered = offered[: top - 1]  # the ranking's weakest gives way to the closest
    return [*offered, *(i for i in found.core if i not in offered)][:top]


def closest_core(text: str, exclude: Sequence[str] = ()) -> Optional[str]:
    """The closest core procedure not in ``exclude`` (None: the encoder cannot run here)."""
    found = closeness(text)
    if found is None:
        return None
    return next((i for i in found.core if i not in exclude), None)


def rescue(text: str, top: int = 3) -> list[str]:
    """Core procedures to offer when the ranking found nothing ([] when none is close enough)."""
    found = closeness(text)
    if found is None or found.gap < RESCUE_GAP or found.best < RESCUE_MIN:
        return []
    return list(found.core[:top])


def main() -> None:
    """Embeds the catalogue's phrases into the cache (the image does it at build time)."""
    index = default_index()
    print(f"Katalog-Embeddings: {'bereit' if index.available else 'nicht verfügbar (nur die Wortsuche)'}")


if __name__ == "__main__":
    main()
