"""Free text (``text``): anything non-empty up to 500 characters."""

from __future__ import annotations

import re
import unicodedata

from .base import Context, Result

MAX_TEXT = 500


def validate_text(text: str, ctx: Context) -> Result:
    s = unicodedata.normalize("NFC", "" if text is None else str(text))
    # Keep line breaks (a citizen may list things), drop other control characters.
    s = "".join(ch for ch in s if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    s = re.sub(r"[ \t]+", " ", s)
    s = re.sub(r" *\n *", "\n", s)
    s = re.sub(r"\n{3,}", "\n\n", s).strip()
    if not s or not any(ch.isalnum() for ch in s):
        return ctx.fail("Ich habe keinen Text erhalten.")
    if len(s) > MAX_TEXT:
        return ctx.fail(f"Der Text ist {len(s)} Zeichen lang, erlaubt sind höchstens {MAX_TEXT}.")
    return Result.success(s)
