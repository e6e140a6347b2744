"""What the citizen reads about a submission, shared by the submit action (immediate outcome)
and the announcing action (outcome delivered later by the worker)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Optional

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.turns import set_awaiting
from buergerassistent import answers
from buergerassistent.catalogue import Procedure
from buergerassistent.submission import receipts

STATUS_LABELS = {
    "eingegangen": "eingegangen",
    "in_bearbeitung": "in Bearbeitung",
    "abgeschlossen": "abgeschlossen",
    "abgelehnt": "abgelehnt",
    "zurueckgezogen": "zurückgezogen",
}

# What people may type as an Aktenzeichen (any case, O for 0, I/L for 1).
_CASE_NUMBER = re.compile(r"\b([A-Za-z]{2})\s*-\s*(\d{4})\s*-\s*([0-9A-Za-z]{8})\b")
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def case_numbers_in(text: str) -> list[str]:
    found = []
    for prefix, year, rest in _CASE_NUMBER.findall(text or ""):
        number = f"{prefix.upper()}-{year}-{rest.upper().translate(_LOOKALIKES)}"
        if number not in found:
            found.append(number)
    return found


def local_date(iso: Optional[str]) -> str:
    if not iso:
        return "unbekannt"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    try:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo("Europe/Berlin"))
    except Exception:  # noqa: BLE001 - no time zone data: show UTC
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%d.%m.%Y")


def tell_delivered(
    dispatcher: CollectingDispatcher,
    proc_name: str,
    case_number: str,
    citizen: Optional[str] = None,
) -> None:
    dispatcher.utter_message(
        text=f"Vielen Dank! Ihr Antrag „{proc_name}“ ist eingegangen. "
        f"Ihr Aktenzeichen lautet {case_number}. Bitte notieren Sie es für Rückfragen.",
        # The web chat highlights the number and offers to copy it.
        json_message={"type": "case_number", "case_number": case_number},
    )
    if not case_numbers_in(case_number):
        # Not a number of the portal backend (e.g. a FIT-Connect caseId): it has no receipt PDF.
        return
    link = receipts.receipt_url(case_number, citizen)
    text = (
        f"Ihre Eingangsbestätigung als PDF: [Eingangsbestätigung herunterladen]({link}) "
        f"Der Link gilt {receipts.ttl_text()} und ist nur für Sie bestimmt."
    )
    if citizen:
        text += " Die Bestätigung liegt auch in Ihrem Postfach."
    dispatcher.utter_message(text=text)


def tell_saved(dispatcher: CollectingDispatcher, proc_name: str, citizen: Optional[str]) -> None:
    where = "hier im Chat und in Ihrem Postfach" if citizen else "hier im Chat"
    dispatcher.utter_message(
        text=f"Ihr Antrag „{proc_name}“ ist gespeichert. Das Antragssystem ist gerade nicht "
        "erreichbar. Ich übermittle den Antrag automatisch, sobald es wieder erreichbar ist. "
        f"Sie müssen nichts weiter tun. Das Aktenzeichen erhalten Sie {where}, sobald es "
        "vorliegt."
    )


def fix_rejected(
    dispatcher: CollectingDispatcher,
    proc: Procedure,
    fields: dict[str, str],
    reopen: bool = True,
) -> list[EventType]:
    """Names the fields the backend refused and, if ``reopen``, asks for exactly those again."""
    known = [f for f in proc.fields if f.name in fields]
    if not known:
        dispatcher.utter_message(
            text=f"Das Antragssystem hat den Antrag „{proc.name}“ leider nicht angenommen. {answers.UNKNOWN_HINT}"
        )
        return [set_awaiting(None), SlotSet("application_id", None)]
    problems = "\n".join(f"- {f.label}: {fields[f.name]}" for f in known)
    if not reopen:
        dispatcher.utter_message(
            text=f"Das Antragssystem hat Ihren Antrag „{proc.name}“ nicht angenommen. "
            f"Diese Angaben müssen Sie ändern:\n{problems}\n"
            "Bitte stellen Sie den Antrag danach noch einmal."
        )
        return []
    dispatcher.utter_message(
        text=f"Das Antragssystem hat diese Angaben nicht angenommen:\n{problems}\nBitte geben Sie sie noch einmal an."
    )
    return [
        *[SlotSet(f.name, None) for f in known],
        set_awaiting(None),
        SlotSet("application_id", None),
        FollowupAction(proc.form_name),
    ]


# --------------------------------------------------------------------------- status messages (issue 17)

STATUS_QUESTION = "Möchten Sie hier eine Nachricht bekommen, wenn sich der Stand Ihres Antrags ändert?"
STATUS_BUTTONS = [{"title": "Ja, bitte", "payload": "/affirm"}, {"title": "Nein, danke", "payload": "/deny"}]
STATUS_ON = "Gut. Sobald sich der Stand Ihres Antrags ändert, schreibe ich Ihnen hier."
STATUS_OFF = "In Ordnung. Nach dem Stand können Sie mich jederzeit fragen: „Wie ist der Stand meines Antrags?“"


def ask_status_consent(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(text=STATUS_QUESTION, buttons=STATUS_BUTTONS)


def tell_status_change(dispatcher: CollectingDispatcher, case_number: str, status: str, note: Optional[str]) -> None:
    """ "Neuer Stand zu Ihrem Antrag <Aktenzeichen>: …" (the authority's note as it wrote it)."""
    label = STATUS_LABELS.get(status, status or "unbekannt")
    text = f"Neuer Stand zu Ihrem Antrag {case_number}: {label}."
    if note:
        text += f" Hinweis der Behörde: {note}"
    dispatcher.utter_message(text=text, json_message={"type": "case_number", "case_number": case_number})
