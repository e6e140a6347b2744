"""The compiled response validator accepts and refuses what Rasa's own validation does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_process import _validate_action_result

ORIGINAL = RemoteAction._validate_action_result  # Rasa's own, before any patch
ACTION = RemoteAction("validate_meldebescheinigung_form", None)

GOOD = {"events": [{"event": "slot", "name": "plz", "value": "80331"}],
        "responses": [{"text": "Danke"}]}
BAD = {"events": [{"event": "slot", "name": 5, "value": "x"}], "responses": []}


def test_valid_response_passes_both():
    assert ORIGINAL(ACTION, GOOD) is True
    assert _validate_action_result(ACTION, GOOD) is True


def test_invalid_response_is_refused_by_both():
    with pytest.raises(ValidationError):
        ORIGINAL(ACTION, BAD)
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        _validate_action_result(ACTION, BAD)
