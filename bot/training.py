"""Train the Rasa model, cached by the content hash of everything that goes into it.

A model is trained only when config, domain, stories, NLU data, custom NLU code, the spaCy
pipeline or the Rasa version changed. Models live in ``$BA_CACHE_DIR/models/<hash>.tar.gz``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from buergerassistent.settings import get_settings
from nlu.spacy_pipeline import PIPELINE_VERSION, ensure_pipeline

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = REPO_ROOT / "bot" / "config.yml"
DOMAIN = REPO_ROOT / "bot" / "domain"
STORY_DATA = REPO_ROOT / "bot" / "data"
NLU_DATA = REPO_ROOT / "nlu" / "data"
NLU_CODE = REPO_ROOT / "nlu"


def cache_dir() -> Path:
    return get_settings().cache_dir / "models"


def training_inputs() -> list[Path]:
    files = [CONFIG]
    for folder, pattern in ((DOMAIN, "*.yml"), (STORY_DATA, "*.yml"), (NLU_DATA, "*.yml"), (NLU_CODE, "*.py")):
        files.extend(sorted(folder.rglob(pattern)))
    return files


def fingerprint() -> str:
    import rasa

    digest = hashlib.sha256()
    digest.update(f"rasa={rasa.__version__};spacy_pipeline={PIPELINE_VERSION}".encode())
    for path in training_inputs():
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def model_path() -> Path:
    return cache_dir() / f"{fingerprint()}.tar.gz"


def train_command(out_dir: Path, name: str, nlu_only: bool = False) -> list[str]:
    command = [sys.executable, "-m", "rasa", "train"]
    if nlu_only:
        command.append("nlu")
        command += ["--nlu", str(NLU_DATA)]
    else:
        command += ["--data", str(NLU_DATA), str(STORY_DATA)]
    command += [
        "--config",
        str(CONFIG),
        "--domain",
        str(DOMAIN),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    return command


def ensure_model(force: bool = False, quiet: bool = False) -> Path:
    """Return the path of the model for the current content, training it if needed."""
    ensure_pipeline()
    target = model_path()
    if target.exists() and not force:
        if not quiet:
            print(f"Modell ist aktuell: {target}", flush=True)
        return target
    # One training at a time on this machine (2 cores): a second caller waits, then finds the
    # model the first one trained if the content is the same.
    with training_lock():
        if target.exists() and not force:
            return target
        _train(target)
    return target


@contextmanager
def training_lock():
    """Hold the machine-wide training lock (``<cache>/models/.train.lock``) while training.

    Everything that trains a model (also cross-validation in ``content.evaluate``) takes it.
    """
    cache_dir().mkdir(parents=True, exist_ok=True)
    with (cache_dir() / ".train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _train(target: Path) -> None:
    print(f"Trainiere das Modell (Inhalt geändert) → {target}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ba-train-") as tmp:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        subprocess.run(train_command(Path(tmp), target.name[: -len(".tar.gz")]), cwd=REPO_ROOT, env=env, check=True)
        produced = Path(tmp) / target.name
        # Move into place atomically so a concurrent reader never sees a half-written model.
        partial = target.with_suffix(".partial")
        shutil.move(str(produced), partial)
        os.replace(partial, target)
