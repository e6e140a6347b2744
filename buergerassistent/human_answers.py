"""Answers a person expects from a person (issue 15): "sind Sie ein Mensch?", "ich möchte mit
jemandem sprechen", the office's phone number and opening hours, complaints, and a word of
sympathy when a citizen reports a death.

Short, kind and true: the assistant is a computer program; it names the 115 and the responsible
office from the catalogue. "Ich möchte mit jemandem sprechen" in the chat is answered by the
handoff to staff (issue 19, ``buergerassistent/handoff/``, which reuses ``reach_office``);
``ask_human`` here is the text for where no handoff exists.
Contact data come only from the catalogue entry's ``contact:`` block (shape in the entry's
``Procedure.contact``: name, phone, email, opening_hours, address, url, appointment_url, source,
as_of); what it does not hold is "weiß ich nicht".
"""

from __future__ import annotations

import re
from typing import Any, Optional

from buergerassistent import answers

HOTLINE = "Die Behördennummer 115 hilft Ihnen weiter."

CONDOLENCE = "Das tut mir sehr leid. Mein herzliches Beileid."

_DEATH = re.compile(
    r"\b(gestorben|verstorben|verstarb|starb|stirbt|tot|tod|todesfall|sterbefall|verschieden|"
    r"entschlafen|beerdigung|beerdigen|bestattung|trauerfall|ums leben)\b",
    re.IGNORECASE,
)


def reports_death(text: str) -> bool:
    """The message tells of a death ("mein Vater ist gestorben", "Todesfall in der Familie")."""
    return bool(_DEATH.search(text or ""))


def _contact(proc: Any) -> Any:
    return getattr(proc, "contact", None) if proc is not None else None


def _get(contact: Any, key: str) -> Optional[str]:
    value = contact.get(key) if isinstance(contact, dict) else getattr(contact, key, None)
    return str(value).strip() if value else None


def _office(proc: Any) -> Optional[str]:
    """Who is responsible: the contact's name, else the entry's authority."""
    contact = _contact(proc)
    name = _get(contact, "name") if contact is not None else None
    return name or (getattr(proc, "authority", None) if proc is not None else None)


def reach_office(proc: Any) -> str:
    """One or two sentences: how to reach the responsible office, only with known data."""
    office = _office(proc)
    if not office:
        return ""
    contact = _contact(proc)
    parts = [f"Zuständig für „{proc.name}“ ist: {office}."]
    if contact is not None:
        phone, email, url = _get(contact, "phone"), _get(contact, "email"), _get(contact, "url")
        ways = []
        if phone:
            ways.append(f"Telefon {phone}")
        if email:
            ways.append(f"E-Mail {email}")
        if ways:
            parts.append("Sie erreichen die Stelle unter " + " oder ".join(ways) + ".")
        if url:
            parts.append(f"Mehr dazu: {url}")
    return " ".join(parts)


def bot_challenge(proc: Any = None) -> str:
    """ "Sind Sie ein Mensch?" """
    text = (
        "Nein, ich bin kein Mensch. Ich bin ein Computerprogramm, ein Chat-Assistent. "
        "Ich kann mich auch irren. Mit einem Menschen sprechen Sie unter der Behördennummer 115."
    )
    office = reach_office(proc)
    return f"{text} {office}" if office else text


def ask_human(proc: Any = None) -> str:
    """ "Ich möchte mit jemandem sprechen." """
    text = (
        "Ich bin ein Computerprogramm. An eine Mitarbeiterin oder einen Mitarbeiter weiterleiten "
        f"kann ich Sie in diesem Chat leider noch nicht. {HOTLINE}"
    )
    office = reach_office(proc)
    return f"{text} {office}" if office else text


def contact(proc: Any = None) -> str:
    """Phone number, opening hours, address, e-mail of the responsible office: the answer of
    ``answers.contact`` (one text for the same question); without a procedure, which one."""
    if proc is None:
        return (
            "Für welche Leistung suchen Sie die Kontaktdaten? Nennen Sie mir bitte Ihr Anliegen, dann sage ich "
            f"Ihnen, welche Stelle zuständig ist. {HOTLINE}"
        )
    return answers.contact(proc)


def complain(proc: Any = None) -> str:
    """A complaint: sorry, where it goes (the responsible office, the 115), nothing invented."""
    text = (
        "Das tut mir leid. Eine Beschwerde kann ich hier im Chat nicht aufnehmen. Bitte richten Sie sie "
        "direkt an die zuständige Stelle."
    )
    office = reach_office(proc)
    if office:
        text += f" {office}"
    return f"{text} Wenn Sie nicht wissen, wohin: {HOTLINE}"


ANSWERS = {
    "bot_challenge": bot_challenge,
    "ask_human": ask_human,
    "ask_contact": contact,
    "complain": complain,
}
