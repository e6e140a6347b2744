"""Shared helpers for the validation tests."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so that plain `pytest` finds `actions` too, not only `python -m pytest`
    sys.path.insert(0, str(ROOT))

# A Wednesday; every relative date in the tests is computed from it.
TODAY = dt.date(2025, 6, 18)

_ENGLISH = re.compile(r"\b(?:invalid|error|please|must|the|is|not|value|field|required|enter)\b", re.I)


def check_german_error(result, example: str) -> None:
    """A failed result with a German, polite re-prompt that contains ``example``."""
    assert result.ok is False
    assert result.value is None and result.display is None
    msg = result.error
    assert isinstance(msg, str) and msg.strip() == msg
    assert example in msg, f"example {example!r} missing in {msg!r}"
    assert msg[0].isupper() and msg.endswith("."), msg
    assert "Bitte" in msg and "Sie" in msg, msg  # polite "Sie" form with a request
    assert not _ENGLISH.search(msg), msg
    assert "  " not in msg and ".." not in msg, msg


@pytest.fixture
def german_error():
    return check_german_error


@pytest.fixture
def today():
    return TODAY


@pytest.fixture
def check(today):
    """validate() with the fixed test date."""
    from buergerassistent.validation import validate

    def _check(field_type, text, **kwargs):
        kwargs.setdefault("today", today)
        return validate(field_type, text, **kwargs)

    return _check
