"""Checks of a submitted application against the request envelope and the catalogue.

Deep format validation (dates, postcodes, e-mail addresses …) happens in the chat; here we
check what a backend must never trust a client with: presence of required fields, no unknown
fields, plain strings of bounded length, values of choice fields among their choices.

Envelope errors (``procedure``, ``data``, ``idempotency_key``, ``citizen``) and form-field
errors never come in the same response: the envelope is checked first, so the keys of
``fields`` are unambiguous.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Optional

from buergerassistent.catalogue import Catalogue

MAX_LENGTH = 500
IDEMPOTENCY_KEY_MAX_LENGTH = 200
ENVELOPE_KEYS = ("procedure", "data", "idempotency_key", "citizen")

MSG_REQUIRED = "Dieses Feld ist erforderlich."
MSG_UNKNOWN_FIELD = "Unbekanntes Feld."
MSG_NOT_TEXT = "Bitte als Text angeben."
MSG_NOT_OBJECT = "Bitte als JSON-Objekt angeben."
MSG_TOO_LONG = "Höchstens {max} Zeichen erlaubt."
MSG_BAD_CHARACTERS = "Enthält unzulässige Zeichen."
MSG_UNKNOWN_PROCEDURE = "Dieses Verfahren ist nicht bekannt."
MSG_NO_FORM = "Für dieses Verfahren ist kein Online-Antrag möglich."
MSG_BAD_CHOICE = "Ungültige Auswahl. Erlaubt: {allowed}."


class ValidationFailed(Exception):
    """A request that cannot be accepted (HTTP 422); carries the error body."""

    def __init__(self, error: str, message: str, fields: dict[str, str]):
        super().__init__(error)
        self.error = error
        self.message = message
        self.fields = fields


@dataclass(frozen=True)
class Submission:
    procedure: str
    data: dict[str, Optional[str]]
    idempotency_key: str
    citizen: Optional[str] = None

    def fingerprint(self) -> str:
        """Identifies the body, to tell a retry from a different request with the same key."""
        canonical = json.dumps(
            {"procedure": self.procedure, "data": self.data, "citizen": self.citizen},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _text_problem(value: Any, max_length: int = MAX_LENGTH) -> Optional[str]:
    if not isinstance(value, str):
        return MSG_NOT_TEXT
    if len(value) > max_length:
        return MSG_TOO_LONG.format(max=max_length)
    try:
        value.encode("utf-8")  # lone surrogates from "\ud800" escapes
    except UnicodeEncodeError:
        return MSG_BAD_CHARACTERS
    # NUL cannot be stored in PostgreSQL text; other control characters are never legitimate.
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value) or "\x7f" in value:
        return MSG_BAD_CHARACTERS
    return None


def parse_submission(body: dict[str, Any]) -> Submission:
    """Checks the envelope of ``POST /api/v1/applications``; raises :class:`ValidationFailed`."""
    errors: dict[str, str] = {}
    for key in body:
        if key not in ENVELOPE_KEYS:
            errors[str(key)] = MSG_UNKNOWN_FIELD

    key = body.get("idempotency_key")
    if key is None or (isinstance(key, str) and not key.strip()):
        errors["idempotency_key"] = MSG_REQUIRED
    else:
        problem = _text_problem(key, IDEMPOTENCY_KEY_MAX_LENGTH)
        if problem:
            errors["idempotency_key"] = problem

    procedure = body.get("procedure")
    if procedure is None or (isinstance(procedure, str) and not procedure.strip()):
        errors["procedure"] = MSG_REQUIRED
    else:
        problem = _text_problem(procedure, 100)
        if problem:
            errors["procedure"] = problem

    data = body.get("data")
    if data is None:
        errors["data"] = MSG_REQUIRED
    elif not isinstance(data, dict):
        errors["data"] = MSG_NOT_OBJECT

    citizen = body.get("citizen")
    if citizen is not None:
        if isinstance(citizen, str) and not citizen.strip():
            errors["citizen"] = "Darf nicht leer sein; ohne Anmeldung weglassen."
        else:
            problem = _text_problem(citizen)
            if problem:
                errors["citizen"] = problem

    if errors:
        raise ValidationFailed("validation_failed", "Die Anfrage ist unvollständig oder fehlerhaft.", errors)
    return Submission(procedure=procedure, data=data, idempotency_key=key, citizen=citizen)


def validate_against_catalogue(submission: Submission, catalogue: Catalogue) -> None:
    """Checks ``data`` against the procedure's form fields; raises :class:`ValidationFailed`."""
    proc = catalogue.get(submission.procedure)
    if proc is None:
        raise ValidationFailed("unknown_procedure", MSG_UNKNOWN_PROCEDURE, {"procedure": MSG_UNKNOWN_PROCEDURE})
    if not proc.has_form:
        raise ValidationFailed("procedure_without_form", MSG_NO_FORM, {"procedure": MSG_NO_FORM})

    errors: dict[str, str] = {}
    known = {f.name for f in proc.fields}
    for name in submission.data:
        if name not in known:
            errors[str(name)] = MSG_UNKNOWN_FIELD

    for field in proc.fields:
        value = submission.data.get(field.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                errors[field.name] = MSG_REQUIRED
            continue
        problem = _text_problem(value)
        if problem:
            errors[field.name] = problem
            continue
        if field.choices:
            allowed = [c.value for c in field.choices]
            if value not in allowed:
                errors[field.name] = MSG_BAD_CHOICE.format(allowed=", ".join(allowed))

    if errors:
        raise ValidationFailed("validation_failed", "Einige Angaben fehlen oder sind ungültig.", errors)
