"""Rasa test stories of the forms (bot/tests/, generated ones in bot/tests/generated/) must be
predicted exactly: NLU intents and next actions, with `--fail-on-prediction-errors`.

One test, one `rasa test core` process, using the cached model (trained only when the training
data changed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.training import REPO_ROOT, ensure_model

STORIES = REPO_ROOT / "bot" / "tests"


def test_form_stories_are_predicted_without_errors(tmp_path: Path):
    model = ensure_model(quiet=True)
    assert list(STORIES.rglob("*.yml")), "no test stories found"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            str(STORIES),
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path),
            "--no-plot",
            "--quiet",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "WrongPredictionException" not in output
    failed = tmp_path / "failed_test_stories.yml"
    assert not failed.exists() or "story:" not in failed.read_text(encoding="utf-8"), failed.read_text(encoding="utf-8")
