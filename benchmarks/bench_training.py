"""Training and evaluation times for the content workflow (targets from issue #8).

    python -m benchmarks.bench_training [--skip-evaluate]

Prints, on this machine and with the whole catalogue:

* **full retrain**: ``rasa train`` (the command ``bot.training`` runs) with an empty Rasa graph
  cache, i.e. everything trained (target < 5 min);
* **NLU-only retrain**: the same ``rasa train`` after one new NLU example (in a copy of
  ``nlu/data``), with the cache of the first run: Rasa's graph cache reuses the dialogue
  policies and retrains only the NLU components — what ``python -m bot reload`` does after an
  editor's change (target < 2 min). ``rasa train nlu`` is not used: its NLU-only model cannot
  replace the running full model;
* **make evaluate** (``python -m content.evaluate --no-cv-cache`` into a temporary folder, so
  the cross-validation really trains; target < 5 min).

Every training holds the machine-wide training lock (one model at a time); lock waits are not
counted. Models go to temporary folders: the model cache and the repository stay untouched.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.training import NLU_DATA, REPO_ROOT, STORY_DATA, train_command, training_lock

TARGETS = {"full": 300, "nlu_only": 120, "evaluate": 300}


def _train(nlu_dir: Path, out: Path, cache: Path) -> float:
    command = train_command(out, "bench")
    # train_command trains on the repository's nlu/data; point it at the copy.
    command[command.index(str(NLU_DATA))] = str(nlu_dir)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", RASA_CACHE_DIRECTORY=str(cache))
    with training_lock():
        t0 = time.perf_counter()
        subprocess.run(
            command, cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return time.perf_counter() - t0


def _verdict(seconds: float, target: int) -> str:
    return f"{seconds:6.0f} s  ({seconds / 60:.1f} min; Ziel < {target // 60} min: {'ok' if seconds < target else 'VERFEHLT'})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-evaluate", action="store_true")
    args = parser.parse_args(argv)

    from buergerassistent.catalogue import default_catalogue

    cat = default_catalogue()
    print(
        f"Katalog: {len(cat)} Einträge ({len(cat.curated())} kuratiert, {len(cat.with_forms())} mit Formular); "
        f"{os.cpu_count()} Kerne"
    )
    with tempfile.TemporaryDirectory(prefix="ba-bench-train-") as tmp:
        tmp = Path(tmp)
        nlu = tmp / "nlu"
        shutil.copytree(NLU_DATA, nlu)
        cache = tmp / "cache"
        full = _train(nlu, tmp / "full", cache)
        print(f"volles Training (leerer Cache):       {_verdict(full, TARGETS['full'])}", flush=True)

        from content.nlu_data import append_example

        append_example("greet", f"Grüß Gott beisammen {int(time.time())}", directory=nlu)
        nlu_only = _train(nlu, tmp / "nlu_only", cache)
        print(f"Training nach NLU-Änderung (Cache):   {_verdict(nlu_only, TARGETS['nlu_only'])}", flush=True)

        if not args.skip_evaluate:
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "content.evaluate", "--no-cv-cache", "--out", str(tmp / "report")],
                cwd=REPO_ROOT,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            evaluate = time.perf_counter() - t0
            print(f"make evaluate (inkl. Kreuzvalidierung): {_verdict(evaluate, TARGETS['evaluate'])}")
            print("  (mit Wartezeit auf die Trainingssperre, falls andere gerade trainieren)")
    print(f"Daten: {STORY_DATA.relative_to(REPO_ROOT)}, nlu/data; Konfiguration bot/config.yml")


if __name__ == "__main__":
    main()
