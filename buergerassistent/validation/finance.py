"""Money matters: ``iban`` and ``steuer_id`` (checksums by python-stdnum) and ``amount`` (babel)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, format_currency, parse_decimal
from stdnum import iban as stdnum_iban
from stdnum import numdb
from stdnum.de import idnr
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from .base import Context, Result, clean, english_input

# ----------------------------------------------------------------------------------- IBAN

_IBAN_LEAD_IN = re.compile(r"^(?:iban)\s*:?\s*", re.I)


def validate_iban(text: str, ctx: Context) -> Result:
    s = _IBAN_LEAD_IN.sub("", clean(text))
    if not s:
        return ctx.fail("Ich habe keine IBAN erhalten.", refer=False)
    compact = stdnum_iban.compact(s)
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact):
        return ctx.fail("Eine IBAN beginnt mit dem Ländercode, zum Beispiel DE, und zwei Ziffern.", refer=False)
    # stdnum checks the checksum first; a wrong country, length or letter deserves a clearer message
    if not numdb.get("iban").info(compact)[0][1]:
        return ctx.fail(f"Den Ländercode „{compact[:2]}“ gibt es bei IBANs nicht.", refer=False)
    if compact.startswith("DE"):
        if len(compact) != 22:
            return ctx.fail(f"Eine deutsche IBAN hat 22 Stellen, Ihre Angabe hat {len(compact)}.", refer=False)
        if not compact[2:].isdigit():
            return ctx.fail("Eine deutsche IBAN hat nach „DE“ nur Ziffern.", refer=False)
    try:
        value = stdnum_iban.validate(compact)
    except InvalidChecksum:
        return ctx.fail("Die Prüfziffer der IBAN stimmt nicht. Vermutlich ist eine Ziffer falsch.", refer=False)
    except InvalidLength:
        return ctx.fail("Die IBAN hat nicht die richtige Länge.")
    except (InvalidComponent, ValidationError):
        return ctx.fail("Das ist keine gültige IBAN.", refer=False)
    return Result.success(value, stdnum_iban.format(value))


# ------------------------------------------------------------------------------ Steuer-ID

_IDNR_LEAD_IN = re.compile(r"^(?:steuer-?id(?:entifikationsnummer)?|idnr|id-nr\.?)\s*:?\s*", re.I)


def validate_steuer_id(text: str, ctx: Context) -> Result:
    s = _IDNR_LEAD_IN.sub("", clean(text))
    compact = idnr.compact(s)
    if not compact:
        return ctx.fail("Ich habe keine Steuer-ID erhalten.", refer=False)
    if not compact.isdigit():
        return ctx.fail("Die Steuer-ID besteht nur aus Ziffern.")
    if len(compact) != 11:
        return ctx.fail(f"Die Steuer-ID hat 11 Ziffern, Ihre Angabe hat {len(compact)}.")
    try:
        # length, leading zero, the rule for repeated digits and the check digit (ISO 7064)
        value = idnr.validate(compact)
    except InvalidChecksum:
        return ctx.fail("Die Prüfziffer der Steuer-ID stimmt nicht. Vermutlich ist eine Ziffer falsch.", refer=False)
    except ValidationError:
        return ctx.fail("Das ist keine gültige Steuer-ID.", refer=False)
    return Result.success(value, idnr.format(value))


# --------------------------------------------------------------------------------- amount

MAX_AMOUNT = Decimal("1000000000")
_CURRENCY = re.compile(r"€|\beuros?\b|\beur\b", re.I)
_CENTS = re.compile(r"^(\d[\d.]*)\s*(?:€|euros?|eur)\s*(?:und\s*)?(\d{1,2})\s*(?:cent|ct)?$", re.I)  # "12 Euro 50"


def _parse_amount(s: str) -> Decimal:
    m = _CENTS.match(s)
    if m:
        s = f"{m[1]},{int(m[2]):02d}"
    s = _CURRENCY.sub("", s).strip()
    s = re.sub(r",-+$", "", s)  # "12,-" / "12,--"
    s = re.sub(r"(?<=\d)[ '](?=\d{3}\b)", ".", s)  # "1 200" / "1'200" → German grouping
    if not re.fullmatch(r"-?[\d.,]+", s):
        raise NumberFormatError("not a number")
    if english_input() and re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d{1,2})?", s):
        # English grouping ("58,000", "1,200.50") from a citizen who writes English (issue 20);
        # "12,50" does not match and stays German.
        return parse_decimal(s, locale="en_US", strict=True)
    try:
        # German rules: "1.200" is 1200, "12,50" is 12.5; strict rejects odd grouping like "12.50".
        return parse_decimal(s, locale="de_DE", strict=True)
    except NumberFormatError:
        # "12.50" / "1200.00": a decimal point as on a receipt or in our own stored value
        if re.fullmatch(r"-?\d+\.\d{1,2}", s):
            return Decimal(s)
        raise


def validate_amount(text: str, ctx: Context) -> Result:
    s = clean(text)
    if not s:
        return ctx.fail("Ich habe keinen Betrag erhalten.", refer=False)
    try:
        amount = _parse_amount(s)
    except (NumberFormatError, InvalidOperation):
        return ctx.fail("Das habe ich nicht als Betrag erkannt.", refer=False)
    if amount < 0:
        return ctx.fail("Der Betrag darf nicht negativ sein.")
    if amount > MAX_AMOUNT:
        return ctx.fail("Der Betrag ist unrealistisch hoch.", refer=False)
    if amount.as_tuple().exponent < -2:  # also "1,200": a thousands comma is not guessed
        return ctx.fail("Ein Betrag in Euro hat höchstens zwei Stellen nach dem Komma.", refer=False)
    amount = amount.quantize(Decimal("0.01"))
    return Result.success(f"{amount:.2f}", format_currency(amount, "EUR", locale="de_DE"))
