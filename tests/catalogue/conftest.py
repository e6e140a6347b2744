"""Shared fixtures for the catalogue tests."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so that plain `pytest` finds `actions` too
    sys.path.insert(0, str(ROOT))


def _load_importer():
    # catalogue/ is data, not a package (it would shadow the PyPI "catalogue" spaCy needs),
    # so the importer script is loaded by path.
    spec = importlib.util.spec_from_file_location("ba_import_munich", ROOT / "catalogue" / "import_munich.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def importer():
    return _load_importer()


@pytest.fixture(scope="session")
def munich_file(importer) -> Path:
    path = importer.default_data_file()
    if not path.exists():
        pytest.skip(
            f"shared data not found at {path}: set BA_SHARED_DATA to the folder holding "
            "munich_services_de.json (CI clones the repo next to shared/)"
        )
    return path


@pytest.fixture(scope="session")
def munich_services(munich_file) -> dict:
    with munich_file.open(encoding="utf-8") as fh:
        return {str(s["id"]): s for s in json.load(fh)["data"]}
