"""German form-field validation for the Bürgerassistent.

A citizen types a value in their own words; ``validate`` returns the normalised value (stored in
a Rasa text slot), how to show it in a summary, or a short German re-prompt that says what was
wrong and gives an example of a valid answer::

    >>> import datetime
    >>> r = validate("birth_date", "am 12.8.64", today=datetime.date(2025, 6, 18))
    >>> r.ok, r.value, r.display
    (True, '1964-08-12', '12.08.1964')

A stored value validates again to itself, so ``display`` can be recomputed from a slot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Optional

from .address import validate_city, validate_postcode, validate_street
from .base import Context, Result
from .choices import validate_choice, validate_yes_no
from .contact import validate_email_address, validate_phone
from .dates import default_example as _date_example
from .dates import validate_date
from .finance import validate_amount, validate_iban, validate_steuer_id
from .names import validate_name
from .nationality import validate_nationality
from .numbers import validate_count
from .text import validate_text
from .vehicles import validate_fin, validate_kfz

__all__ = ["validate", "Result", "FIELD_TYPES", "default_example", "today_in_germany"]

_VALIDATORS: dict[str, Callable[[str, Context], Result]] = {
    "name": validate_name,
    "birth_date": validate_date,
    "date": validate_date,
    "future_date": validate_date,
    "past_date": validate_date,
    "postcode": validate_postcode,
    "street": validate_street,
    "city": validate_city,
    "email": validate_email_address,
    "phone": validate_phone,
    "iban": validate_iban,
    "steuer_id": validate_steuer_id,
    "kfz_kennzeichen": validate_kfz,
    "fin": validate_fin,
    "count": validate_count,
    "amount": validate_amount,
    "choice": validate_choice,
    "yes_no": validate_yes_no,
    "text": validate_text,
    "nationality": validate_nationality,
}
FIELD_TYPES: tuple[str, ...] = tuple(_VALIDATORS)

# Each default example is itself a valid answer (the tests check that).
_EXAMPLES = {
    "name": "Erika",
    "postcode": "80331",
    "street": "Marienplatz 8",
    "city": "München",
    "email": "erika.mustermann@example.org",
    "phone": "089 233-0",
    "iban": "DE89 3704 0044 0532 0130 00",
    "steuer_id": "36 574 261 809",  # the example number in python-stdnum's documentation
    "kfz_kennzeichen": "M-AB 1234",
    "fin": "WVWZZZ1JZ3W386752",
    "count": "2",
    "amount": "12,50 €",
    "yes_no": "ja",
    "text": "Ich brauche die Bescheinigung für meinen Arbeitgeber.",
    "nationality": "Indien",
}


def today_in_germany() -> dt.date:
    """Today's date in Germany: "morgen" at 00:30 in Berlin must not depend on the server's zone."""
    try:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo("Europe/Berlin")).date()
    except Exception:  # no time zone data on this machine
        return dt.date.today()


def default_example(
    field_type: str, *, choices: Optional[Sequence[Any]] = None, today: Optional[dt.date] = None
) -> str:
    """The example shown in re-prompts when the field has none of its own."""
    if field_type in ("birth_date", "date", "future_date", "past_date"):
        return _date_example(field_type, today or today_in_germany())
    if field_type == "choice":
        return str(choices[0].label) if choices else ""
    return _EXAMPLES[field_type]


def validate(
    field_type: str,
    text: Any,
    *,
    choices: Optional[Sequence[Any]] = None,
    today: Optional[dt.date] = None,
    example: Optional[str] = None,
) -> Result:
    """Check and normalise one answer; see the module docstring.

    Raises ``ValueError`` for an unknown ``field_type`` (a catalogue error, not the citizen's),
    and for ``choice`` without choices.
    """
    try:
        validator = _VALIDATORS[field_type]
    except KeyError:
        raise ValueError(f"unknown field type {field_type!r}; known: {', '.join(FIELD_TYPES)}") from None
    if isinstance(today, dt.datetime):  # a datetime is a date too; only the day counts
        today = today.date()
    today = today or today_in_germany()
    choices = tuple(choices or ())
    example = example if example not in (None, "") else default_example(field_type, choices=choices, today=today)
    ctx = Context(field_type=field_type, today=today, example=str(example), choices=choices)
    return validator("" if text is None else str(text), ctx)
