"""Nationality (``nationality``): the state the citizen names, checked against the Destatis code
list when the operator has loaded it (``buergerassistent/nationality.py``).

With the list: „indisch“, „Indien“, „India“, „indsich“ → „Indien“ (the state's official short name;
the data document carries its code); a name the list does not know for sure is asked again.
Without the list: taken as typed, like free text (the documented state before the import).
"""

from __future__ import annotations

from .base import Context, Result, clean
from .text import validate_text

MAX_LENGTH = 100


def validate_nationality(text: str, ctx: Context) -> Result:
    from buergerassistent import nationality

    s = clean(text)
    if not s:
        return ctx.fail("Ich habe keine Staatsangehörigkeit erhalten.", refer=False)
    if len(s) > MAX_LENGTH:
        return ctx.fail(f"Die Angabe ist länger als {MAX_LENGTH} Zeichen.", refer=False)
    table = nationality.loaded_table()
    if table is None:
        return validate_text(s, ctx)
    found = nationality.find(s, table)
    if found is None:
        return ctx.fail("Diese Staatsangehörigkeit finde ich nicht sicher in der amtlichen Liste.", refer=False)
    return Result.success(found.name)
