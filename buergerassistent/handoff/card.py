"""The context card staff see when they take a conversation.

Built by the action server from the conversation (``actions/handoff.py``), rendered by the staff
desk. It holds the procedure in focus, what the citizen asked (their last messages outside the
form, with e-mail addresses, phone numbers, IBANs and dates masked), the form progress, the
channel and the language. The answers in the form are shown only if the citizen agreed
(``shared``); otherwise staff see which fields are filled, not their values.

Two views: ``render_queue`` (the shared queue room: nothing personal, no messages) and
``render_case`` (the room of the member of staff who took the case).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from buergerassistent.catalogue import Procedure

CHANNELS = {
    "webchat": "Web-Chat",
    "socketio": "Web-Chat",
    "rest": "REST",
    "telegram": "Telegram",
    "threema": "Threema",
    "matrix": "Matrix",
}
LANGUAGES = {"de": "Deutsch", "en": "Englisch"}
MASK = "▒▒▒"

_PERSONAL = re.compile(
    r"""
    [\w.+-]+@[\w-]+(?:\.[\w-]+)+                  # e-mail
  | \b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b   # IBAN
  | \b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b          # dates (birth dates)
  | (?:\+|\b0)\d[\d\s/-]{5,}\d                    # phone numbers
  | \b\d{5,}\b                                    # long numbers (IDs, tax ids)
    """,
    re.VERBOSE,
)


def mask_text(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers, IBANs, dates and long numbers masked."""
    return _PERSONAL.sub(MASK, text or "")


def build(
    procedure: Optional[Procedure],
    asked: Iterable[str],
    answers: Mapping[str, Any],
    *,
    shared: bool,
    channel: Optional[str],
    language: str = "de",
    requested: Optional[str] = None,
) -> dict[str, Any]:
    """The card as JSON-able data. ``answers``: slot values of the form's fields; ``requested``:
    the field the form was asking when the citizen asked for a person."""
    progress: list[dict[str, Any]] = []
    if procedure is not None and procedure.has_form:
        for f in procedure.fields:
            value = answers.get(f.name)
            filled = value not in (None, "", [])
            progress.append(
                {
                    "label": f.label,
                    "filled": filled,
                    "value": (str(value) if shared else None) if filled else None,
                    "current": f.name == requested,
                }
            )
    return {
        "procedure": procedure.name if procedure is not None else None,
        "asked": [mask_text(t) for t in list(asked)[-3:]],
        "progress": progress,
        "shared": shared,
        "channel": CHANNELS.get(channel or "", channel or "unbekannt"),
        "language": LANGUAGES.get(language, language),
    }


def _progress_line(card: Mapping[str, Any]) -> Optional[str]:
    progress = card.get("progress") or []
    if not progress:
        return None
    done = sum(1 for p in progress if p.get("filled"))
    return f"Formular: {done} von {len(progress)} Angaben ausgefüllt"


def render_queue(case_id: str, card: Mapping[str, Any]) -> str:
    """For the shared queue room: no personal data, not even the citizen's words."""
    lines = [
        f"Neuer Fall {case_id}: Eine Bürgerin oder ein Bürger möchte mit einer Person schreiben.",
        f"Anliegen: {card.get('procedure') or 'noch offen'}",
        f"Kanal: {card.get('channel')} · Sprache: {card.get('language')}",
    ]
    progress = _progress_line(card)
    if progress:
        lines.append(progress)
    lines.append(f"Übernehmen: !übernehmen {case_id}")
    return "\n".join(lines)


def render_case(case_id: str, card: Mapping[str, Any]) -> str:
    """For the member of staff who took the case."""
    lines = [f"Fall {case_id}", f"Anliegen: {card.get('procedure') or 'noch offen'}"]
    lines.append(f"Kanal: {card.get('channel')} · Sprache: {card.get('language')}")
    asked = card.get("asked") or []
    if asked:
        lines.append("Zuletzt gefragt:")
        lines += [f"  „{text}“" for text in asked]
    progress = _progress_line(card)
    if progress:
        lines.append(progress + ("" if card.get("shared") else " (Werte verborgen: keine Einwilligung)"))
        for p in card.get("progress") or []:
            mark = "→ " if p.get("current") else "  "
            if p.get("filled"):
                value = p.get("value") if card.get("shared") else MASK
                lines.append(f"{mark}{p['label']}: {value}")
            else:
                lines.append(f"{mark}{p['label']}: –" + (" (wird gerade gefragt)" if p.get("current") else ""))
    lines.append("Antworten Sie hier; alles geht an die Person im Chat. Zurück an den Assistenten: !zurück")
    return "\n".join(lines)
