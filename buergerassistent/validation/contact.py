"""Contact details: ``email`` (email-validator) and ``phone`` (phonenumbers, stored as E.164)."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from .base import Context, Result, clean

# ---------------------------------------------------------------------------------- email

_MAIL_LEAD_IN = re.compile(r"^(?:mailto:|e-?mail(?:-adresse)?:?\s+|meine e-?mail(?:-adresse)? ist\s+)", re.I)


def validate_email_address(text: str, ctx: Context) -> Result:
    s = _MAIL_LEAD_IN.sub("", clean(text)).strip("<>").rstrip(".")
    if not s:
        return ctx.fail("Ich habe keine E-Mail-Adresse erhalten.", refer=False)
    if "@" not in s:
        return ctx.fail("In der E-Mail-Adresse fehlt das @-Zeichen.", refer=False)
    if " " in s:
        return ctx.fail("Eine E-Mail-Adresse enthält keine Leerzeichen.", refer=False)
    try:
        # Syntax only: a DNS lookup would make the chat slow and fail offline.
        info = validate_email(s, check_deliverability=False)
    except EmailNotValidError:
        return ctx.fail("Diese E-Mail-Adresse ist nicht gültig.")
    return Result.success(info.normalized)


# ---------------------------------------------------------------------------------- phone

_PHONE_LEAD_IN = re.compile(
    r"^(?:tel(?:efon)?(?:nummer)?\.?|handy(?:nummer)?|mobil(?:nummer)?|festnetz|"
    r"meine (?:telefon|handy)?nummer ist)\s*:?\s*",
    re.I,
)
_PHONE_CHARS = re.compile(r"[\d\s+()/.\-]+")


def validate_phone(text: str, ctx: Context) -> Result:
    s = _PHONE_LEAD_IN.sub("", clean(text))
    if not s:
        return ctx.fail("Ich habe keine Telefonnummer erhalten.", refer=False)
    # phonenumbers would read letters as a vanity number ("0800 FLOWERS"): not wanted here.
    if not _PHONE_CHARS.fullmatch(s) or not any(ch.isdigit() for ch in s):
        return ctx.fail("Eine Telefonnummer besteht nur aus Ziffern und dem Pluszeichen.", refer=False)
    if re.fullmatch(r"\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{2}|\d{4})?", s):  # "2.1.2027" is a date
        return ctx.fail("Das sieht wie ein Datum aus, nicht wie eine Telefonnummer.", refer=False)
    try:
        number = phonenumbers.parse(s, "DE")  # without country code: a German number
    except phonenumbers.NumberParseException as e:
        if e.error_type in (e.TOO_SHORT_NSN, e.TOO_SHORT_AFTER_IDD):
            return ctx.fail("Die Telefonnummer ist zu kurz. Vermutlich fehlt die Vorwahl.")
        if e.error_type == e.TOO_LONG:
            return ctx.fail("Die Telefonnummer ist zu lang.")
        return ctx.fail("Das habe ich nicht als Telefonnummer erkannt.", refer=False)
    if not phonenumbers.is_valid_number(number):
        if len(re.sub(r"\D", "", s)) < 6:
            return ctx.fail("Die Telefonnummer ist zu kurz. Vermutlich fehlt die Vorwahl.")
        return ctx.fail("Diese Telefonnummer gibt es so nicht.", refer=False)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # German numbers shown as Germans write them ("089 2330"), others internationally.
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 49
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return Result.success(e164, phonenumbers.format_number(number, fmt))
