"""Shared fixtures for the discovery tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so that plain `pytest` finds `actions` too
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def discovery():
    from buergerassistent.catalogue import default_catalogue
    from buergerassistent.discovery import Discovery

    return Discovery.from_catalogue(default_catalogue())
