"""Build the German spaCy pipeline used by Rasa's SpacyNLP.

No German spaCy model can be installed here, so we build a blank German pipeline (spaCy's
German tokenizer rules) with the lookup lemmatizer from ``spacy-lookups-data`` and save it to
disk. Rasa loads it by path (see ``bot/config.yml``).

    python -m nlu.spacy_pipeline [--out build/spacy_de]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO_ROOT / "build" / "spacy_de"
# Bump when the pipeline's content changes: it is part of the model cache key.
PIPELINE_VERSION = "1"


def build_pipeline():
    import spacy

    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # Loads the German lookup table from spacy-lookups-data into the pipeline, so the saved
    # pipeline needs no lookups package at run time.
    nlp.initialize()
    nlp.meta["name"] = "buergerassistent_de"
    nlp.meta["version"] = f"0.0.{PIPELINE_VERSION}"
    nlp.meta["description"] = "Blank German tokenizer + lookup lemmatizer (spacy-lookups-data)"
    return nlp


def is_built(path: Path = DEFAULT_PATH) -> bool:
    meta = path / "meta.json"
    if not meta.exists():
        return False
    try:
        return json.loads(meta.read_text())["version"] == f"0.0.{PIPELINE_VERSION}"
    except (ValueError, KeyError):
        return False


def ensure_pipeline(path: Path = DEFAULT_PATH) -> Path:
    if not is_built(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        build_pipeline().to_disk(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args()
    if args.force or not is_built(args.out):
        args.out.parent.mkdir(parents=True, exist_ok=True)
        build_pipeline().to_disk(args.out)
        print(f"German spaCy pipeline written to {args.out}")
    else:
        print(f"German spaCy pipeline up to date in {args.out}")


if __name__ == "__main__":
    main()
