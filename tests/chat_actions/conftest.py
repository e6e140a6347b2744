"""Tracker fixtures for running custom actions directly, without Rasa."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from support.trackers import make_tracker, slot_events, texts  # noqa: F401 (shared helpers)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()
