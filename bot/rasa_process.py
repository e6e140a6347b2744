"""Start the Rasa server with our run-time fixes applied.

    python -m bot.rasa_process run --model … (the same arguments as `rasa`)

Rasa 3.6 validates every action server response with ``jsonschema.validate()``, which first
checks the (large) response schema itself against the JSON Schema meta-schema — on every call.
Profiling our stack (py-spy, one conversation) showed ~72 % of the Rasa process's time there.
We validate with one compiled validator instead: same schema, same errors, no repeated
meta-schema check.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)  # once, not per response
    return cls(spec)


def _validate_action_result(self, result) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from "
        f"the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply_patches() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


def main() -> None:
    apply_patches()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
