"""The structure rules of DEVELOPERS.md, checked with the maintained tools that state them:
import-linter's contracts (``[tool.importlinter]`` in pyproject.toml: the domain never imports
Rasa, rasa-sdk or an edge; services import only the domain; layers; no import cycles) and ruff
(lint and format, ``[tool.ruff]``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


def test_ruff_lint_is_clean():
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_format_is_clean():
    result = run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_domain_package_imports_no_rasa_at_run_time():
    # import-linter reads the source; this imports the domain in a fresh interpreter and checks
    # that neither Rasa nor rasa-sdk was loaded as a side effect.
    code = (
        "import importlib, pkgutil, sys, buergerassistent\n"
        "for m in pkgutil.walk_packages(buergerassistent.__path__, 'buergerassistent.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('rasa', 'rasa_sdk', 'tensorflow'))\n"
        "print(bad[:5]); sys.exit(1 if bad else 0)\n"
    )
    result = run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
