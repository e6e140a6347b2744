"""Brown clusters of German words, from spaCy's lookup tables (``spacy-lookups-data``, pinned).

The intent examples are short and varied: a held-out "Moinsen" or "Niemals" shares no n-gram
with the training examples, but it shares a Brown cluster (words used in the same contexts of a
large German corpus) with "Moin" or "Nee". ``rasa_runtime.ngram_intents`` adds the clusters of a
message's words as features (docs/nlu.md, twelfth round). The table of the most frequent words
is small enough to travel with the trained model, so the running assistant needs no lookup data.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

WORDS = 100_000  # the most frequent words (by spaCy's probabilities): 100,000 and all 1,000,000 score the same
_WORD = re.compile(r"\w+")


def _table(name: str) -> dict:
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / f"de_lexeme_{name}.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def german_clusters(words: int = WORDS) -> dict[str, str]:
    """Word → its Brown cluster as a bit string, for the ``words`` most frequent words."""
    clusters = _table("cluster")
    probability = _table("prob")
    frequent = sorted(probability, key=probability.get, reverse=True)[:words]
    # spaCy stores the bit string as an integer; 0 and 1 mean no cluster
    return {w: bin(clusters[w])[2:] for w in frequent if clusters.get(w, 0) > 1}


def cluster_features(text: str, clusters: dict[str, str], prefixes=(4, 6, 8, 10, 12, 16)) -> list[str]:
    """The cluster features of a message: per known word, the prefixes of its bit string (coarser
    and finer groups of words) and the whole string."""
    out: list[str] = []
    for word in _WORD.findall(text):
        bits = clusters.get(word) or clusters.get(word.lower()) or clusters.get(word.capitalize())
        if not bits:
            continue
        out.extend(f"c{n}_{bits[:n]}" for n in prefixes if len(bits) >= n)
        out.append(f"c_{bits}")
    return out
