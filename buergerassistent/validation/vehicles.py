"""Vehicles: German number plates (``kfz_kennzeichen``) and the vehicle identification number (``fin``)."""

from __future__ import annotations

import re

from .base import Context, Result, clean

# ------------------------------------------------------------------------------ Kennzeichen
# Unterscheidungszeichen (1–3 letters, umlauts allowed: "LÖ", "TÜ"), Erkennungsbuchstaben
# (1–2 letters A–Z), Erkennungszahl (1–4 digits, no leading 0), optional E (electric) or
# H (historic). At most 8 characters on the plate, the E/H included.
# Not covered: official plates without letters ("B-12345"), Bundeswehr ("Y-…"), and whether the
# Unterscheidungszeichen actually exists (no maintained list in a package).
_PLATE = re.compile(
    r"(?P<area>[A-ZÄÖÜ]{1,3})\s*[-\s]\s*(?P<letters>[A-Z]{1,2})\s*-?\s*(?P<num>\d{1,4})\s*(?P<suffix>[EH])?"
)
_PLATE_COMPACT = re.compile(r"(?P<block>[A-ZÄÖÜ]{2,5})\s*(?P<num>\d{1,4})\s*(?P<suffix>[EH])?")
MAX_PLATE = 8


def validate_kfz(text: str, ctx: Context) -> Result:
    raw = clean(text)
    s = raw.upper().strip(".")
    if not s:
        return ctx.fail("Ich habe kein Kennzeichen erhalten.", refer=False)
    if "ß" in raw.lower():  # upper() would turn it into "SS"
        return ctx.fail("Das habe ich nicht als Kfz-Kennzeichen erkannt.", refer=False)
    m = _PLATE.fullmatch(s)
    if m:
        area, letters, num, suffix = m["area"], m["letters"], m["num"], m["suffix"] or ""
    else:
        m = _PLATE_COMPACT.fullmatch(s)
        if not m:
            return ctx.fail("Das habe ich nicht als Kfz-Kennzeichen erkannt.", refer=False)
        block = m["block"]
        # Without a separator only 2 letters (1 + 1) or 5 letters (3 + 2) split one way:
        # "MAB 1234" could be M-AB or MA-B.
        if len(block) not in (2, 5):
            return ctx.fail("Ich kann nicht erkennen, wo das Ortskürzel endet. Es fehlt der Bindestrich.")
        cut = 1 if len(block) == 2 else 3
        area, letters, num, suffix = block[:cut], block[cut:], m["num"], m["suffix"] or ""
    if re.search(r"[ÄÖÜ]", letters):
        return ctx.fail("Nach dem Ortskürzel stehen nur Buchstaben ohne Umlaut.")
    if num.startswith("0"):
        return ctx.fail("Die Zahl auf dem Kennzeichen beginnt nicht mit 0.")
    if len(area + letters + num + suffix) > MAX_PLATE:
        return ctx.fail(f"Ein Kennzeichen hat höchstens {MAX_PLATE} Zeichen.")
    return Result.success(f"{area}-{letters} {num}{suffix}")


# ------------------------------------------------------------------------------------ FIN
# 17 characters (ISO 3779), digits and capital letters without I, O and Q. The check digit at
# position 9 is only mandatory in North America; EU vehicles need not have one, so it is not
# checked here.
_FIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_FIN_LEAD_IN = re.compile(r"^(?:fin|vin|fahrgestellnummer)\s*:?\s*", re.I)


def validate_fin(text: str, ctx: Context) -> Result:
    s = re.sub(r"[\s\-.]", "", _FIN_LEAD_IN.sub("", clean(text))).upper()
    if not s:
        return ctx.fail("Ich habe keine FIN erhalten.", refer=False)
    if not s.isalnum() or not s.isascii():
        return ctx.fail("Eine FIN besteht nur aus Buchstaben und Ziffern.", refer=False)
    if len(s) != 17:
        return ctx.fail(f"Eine FIN hat genau 17 Zeichen, Ihre Angabe hat {len(s)}.", refer=False)
    if re.search(r"[IOQ]", s):
        return ctx.fail(
            "Die Buchstaben I, O und Q kommen in einer FIN nicht vor (Verwechslung mit 1 und 0).",
            refer=False,
        )
    if not _FIN.fullmatch(s):
        return ctx.fail("Das ist keine gültige FIN.", refer=False)
    return Result.success(s)
