"""Our NLU pipeline against Rasa's default pipeline on another team's German data.

``python -m content.evaluate_external`` (``make evaluate-external``): a stratified k-fold
cross-validation (default 5 folds, fixed seed) of the Familienlotse NLU data (Tech4Germany,
``<shared data>/external-nlu/tech4germany_rasa_familienlotse_nlu.md``, see the README there) with

* **ours**: the NLU pipeline of ``bot/config.yml``;
* **Rasa default**: the pipeline Rasa 3.6 uses when a config names none (its
  ``default_config.yml``, language set to German);
* any further config given with ``--config`` (to compare a pipeline change before making it).

Both run in the same process on the same folds, so the figures compare. It is not our domain
and not citizen language: it tells whether a pipeline change helps German intent classification
in general, not how well the assistant understands citizens (that is ``make evaluate``).
Prints intent accuracy (a message below the pipeline's fallback threshold counts as wrong, as in
the chat), the accuracy of the classifier's first intent without that threshold, macro F1, training seconds per fold and parse milliseconds per message.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Optional

import yaml

from content.evaluate import cross_validate
from content.nlu_data import REPO_ROOT

DATA_NAME = "tech4germany_rasa_familienlotse_nlu.md"
OURS = REPO_ROOT / "bot" / "config.yml"

_SECTION = re.compile(r"^##\s*(intent|synonym|regex|lookup)\s*:\s*(.+?)\s*$")


def default_data_file() -> Path:
    """``$BA_SHARED_DATA/external-nlu/…``, else ``<repo>/../shared/data/external-nlu/…``.

    In a git worktree outside the main checkout, ``<repo>`` is also tried as the main checkout.
    """
    import subprocess

    from buergerassistent.settings import get_settings

    configured = get_settings().ba_shared_data
    if configured:
        return configured / "external-nlu" / DATA_NAME
    roots = [REPO_ROOT]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if common:
            roots.append(Path(common).parent)
    candidates = [root.parent / "shared" / "data" / "external-nlu" / DATA_NAME for root in roots]
    return next((path for path in candidates if path.exists()), candidates[0])


def markdown_to_yaml(text: str) -> dict:
    """Rasa's old Markdown NLU format (Rasa 1/2) as a Rasa 3 YAML document.

    Sections ``## intent:``, ``## synonym:``, ``## regex:``, ``## lookup:`` with ``- `` lines.
    Entity annotations (``[Bayern](bundesland)``) are the same in both formats and are kept.
    """
    sections: list[tuple[str, str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        match = _SECTION.match(line)
        if match:
            sections.append((match.group(1), match.group(2), []))
        elif line.startswith("- ") and sections:
            item = line[2:].strip()
            if item:
                sections[-1][2].append(item)
    merged: dict[tuple[str, str], list[str]] = {}
    for kind, name, items in sections:
        merged.setdefault((kind, name), []).extend(items)
    nlu = []
    for (kind, name), items in merged.items():
        if not items:
            continue
        unique = list(dict.fromkeys(items))
        nlu.append({kind: name, "examples": "".join(f"- {item}\n" for item in unique)})
    return {"version": "3.1", "nlu": nlu}


def rasa_default_config(language: str = "de") -> dict:
    """Rasa's default pipeline (what ``rasa init`` gets when config.yml names no pipeline)."""
    import rasa.engine.recipes

    path = Path(rasa.engine.recipes.__file__).parent / "config_files" / "default_config.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["language"] = language
    config["assistant_id"] = "rasa_default_for_comparison"
    config.pop("policies", None)
    return config


def run(data_file: Path, configs: list[tuple[str, Path]], folds: int, seed: int, progress=print) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="ba-external-") as tmp:
        nlu_file = Path(tmp) / "familienlotse.yml"
        nlu_file.write_text(
            yaml.safe_dump(
                markdown_to_yaml(data_file.read_text(encoding="utf-8")), allow_unicode=True, sort_keys=False
            ),
            encoding="utf-8",
        )
        for label, config in configs:
            progress(f"{label} ({config.name}): Kreuzvalidierung mit {folds} Teilen …")
            t0 = time.perf_counter()
            # Every intent stays in (Rasa's own cross-validation keeps them too): an intent with
            # fewer examples than folds is simply missing from some test folds.
            result = cross_validate(folds, seed, progress=progress, config=config, nlu_data=nlu_file, min_examples=2)
            rows.append(
                {
                    "pipeline": label,
                    "config": str(config),
                    "n": result["n"],
                    "accuracy": result["accuracy"],
                    "classifier_accuracy": result["classifier_accuracy"],
                    "macro_f1": result["macro_f1"],
                    "train_seconds": result["train_seconds"],
                    "parse_ms": result["parse_ms"],
                    "seconds": time.perf_counter() - t0,
                }
            )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| Pipeline | Sätze | Intent-Genauigkeit | ohne Rückfrage-Schwelle | Makro-F1 | Training s/Teil "
        "| Parse ms/Satz |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['pipeline']} | {row['n']} | {row['accuracy']:.3f} | {row['classifier_accuracy']:.3f} "
            f"| {row['macro_f1']:.3f} "
            f"| {row['train_seconds']:.1f} | {row['parse_ms']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.evaluate_external", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help=f"Markdown NLU file (default: shared {DATA_NAME})")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--config", type=Path, action="append", default=[], help="a further config.yml to compare (repeatable)"
    )
    parser.add_argument("--no-default", action="store_true", help="leave Rasa's default pipeline out")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds muss mindestens 2 sein")

    data_file = args.data or default_data_file()
    if not data_file.exists():
        print(
            f"Datei nicht gefunden: {data_file}. Bitte BA_SHARED_DATA auf den Ordner shared/data setzen "
            "oder --data angeben.",
            file=sys.stderr,
        )
        return 2

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from nlu.spacy_pipeline import ensure_pipeline

    ensure_pipeline()  # our config loads build/spacy_de

    t_start = time.perf_counter()
    configs = [("unsere Pipeline", OURS)]
    with tempfile.TemporaryDirectory(prefix="ba-external-config-") as tmp:
        if not args.no_default:
            default = Path(tmp) / "rasa_default.yml"
            default.write_text(yaml.safe_dump(rasa_default_config(), sort_keys=False), encoding="utf-8")
            configs.append(("Rasa-Standard", default))
        configs += [(path.stem, path.resolve()) for path in args.config]
        # A fresh Rasa graph cache: the training seconds are real training, not cache hits, and
        # the user's cache (~/.rasa/cache) does not fill with fold models.
        os.environ["RASA_CACHE_DIRECTORY"] = str(Path(tmp) / "rasa-cache")
        cwd = os.getcwd()
        os.chdir(REPO_ROOT)  # bot/config.yml names build/spacy_de relative to the repository
        try:
            rows = run(data_file, configs, args.folds, args.seed)
        finally:
            os.chdir(cwd)
    print(f"\nFamilienlotse ({data_file.name}), {args.folds}-fache Kreuzvalidierung, Seed {args.seed}:\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = time.perf_counter() - t_start
    print(f"\nmake evaluate-external dauerte {total:.0f} s ({total / 60:.1f} min).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
