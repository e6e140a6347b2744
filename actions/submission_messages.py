"""What the citizen reads about a submission, shared by the submit action (immediate outcome)
and the announcing action (outcome delivered later by the worker)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Optional

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.turns import set_awaiting
from buergerassistent import answers, form_texts, translations
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


def local_date(iso: Optional[str], lang: str = "de") -> str:
    """The day of ``iso`` in Munich's time: "03.12.2026", in English "3 December 2026"."""
    if not iso:
        return form_texts.say(lang, "status_date_unknown")
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    try:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo("Europe/Berlin"))
    except Exception:  # noqa: BLE001 - no time zone data: show UTC
        moment = moment.astimezone(timezone.utc)
    if form_texts.language_of(lang) == "en":
        return translations.english_date(moment.date())
    return moment.strftime("%d.%m.%Y")


def status_label(status: Optional[str], lang: str = "de") -> str:
    """The status in words (``messages.yaml``: ``status_<status>``) in ``lang``."""
    if status in STATUS_LABELS:
        return form_texts.say(lang, f"status_{status}")
    return status or "unbekannt"


def tell_delivered(
    dispatcher: CollectingDispatcher,
    proc_name: str,
    case_number: str,
    citizen: Optional[str] = None,
    lang: str = "de",
) -> None:
    """``proc_name``: the procedure's name in ``lang`` (``form_texts.procedure_name``)."""
    dispatcher.utter_message(
        text=form_texts.say(lang, "receipt_delivered", name=proc_name, case_number=case_number),
        # The web chat highlights the number and offers to copy it.
        json_message={"type": "case_number", "case_number": case_number},
    )
    if not case_numbers_in(case_number):
        # Not a number of the portal backend (e.g. a FIT-Connect caseId): it has no receipt PDF.
        return
    link = receipts.receipt_url(case_number, citizen, lang=lang)
    text = form_texts.say(lang, "receipt_link", link=link, ttl=form_texts.duration(receipts.ttl_seconds(), lang))
    if citizen:
        text += " " + form_texts.say(lang, "receipt_postbox")
    dispatcher.utter_message(text=text)


def tell_saved(dispatcher: CollectingDispatcher, proc_name: str, citizen: Optional[str], lang: str = "de") -> None:
    where = form_texts.say(lang, "receipt_where_postbox" if citizen else "receipt_where_chat")
    dispatcher.utter_message(text=form_texts.say(lang, "receipt_saved", name=proc_name, where=where))


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

# The German texts, for callers and tests that name them (the catalogue is the source).
STATUS_ON = form_texts.say("de", "status_on")
STATUS_OFF = form_texts.say("de", "status_off")


def ask_status_consent(dispatcher: CollectingDispatcher, lang: str = "de") -> None:
    buttons = [
        {"title": form_texts.say(lang, "status_button_yes"), "payload": "/affirm"},
        {"title": form_texts.say(lang, "status_button_no"), "payload": "/deny"},
    ]
    dispatcher.utter_message(text=form_texts.say(lang, "status_question"), buttons=buttons)


def status_on(lang: str = "de") -> str:
    return form_texts.say(lang, "status_on")


def status_off(lang: str = "de") -> str:
    return form_texts.say(lang, "status_off")


def tell_status_change(
    dispatcher: CollectingDispatcher, case_number: str, status: str, note: Optional[str], lang: str = "de"
) -> None:
    """ "Neuer Stand zu Ihrem Antrag <Aktenzeichen>: …" (the authority's note as it wrote it)."""
    text = form_texts.say(lang, "status_change", case_number=case_number, label=status_label(status, lang))
    if note:
        text += " " + form_texts.say(lang, "status_note", note=note)
    dispatcher.utter_message(text=text, json_message={"type": "case_number", "case_number": case_number})
