"""What the citizen reads about the handoff: German, "Sie", short, true.

The office of the procedure in focus and the 115 come from ``buergerassistent.human_answers``
(which reads the catalogue's ``contact:`` block); nothing here invents a contact, a waiting time
or a rule. Buttons carry intent payloads (``/handoff_accept`` …), which the payload guard lets
through only right after the assistant offered them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional

from buergerassistent import human_answers
from buergerassistent.handoff import ACCEPT_INTENT, CALLBACK_INTENT, DECLINE_INTENT, LEAVE_TEXT, SHARE_ENTITY
from buergerassistent.handoff.office_hours import BERLIN, DAY_NAMES, OfficeHours

STAFF = "eine Mitarbeiterin oder ein Mitarbeiter"
STAFF_PREFIX = "Mitarbeiterin/Mitarbeiter: "
TAKEN = "Sie schreiben jetzt mit einer Mitarbeiterin / einem Mitarbeiter."
OFFER_BUTTON = {"title": "Mit einer Person schreiben", "payload": "/ask_human"}


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return "eine Minute" if minutes == 1 else f"{minutes} Minuten"


def _button(title: str, intent: str, entities: Optional[dict[str, str]] = None) -> dict[str, str]:
    return {"title": title, "payload": f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")}


def offer(timeout_s: float, has_answers: bool) -> tuple[str, list[dict[str, str]]]:
    """Staff are there: offer the handoff, say what happens and how long it may take."""
    text = (
        "Ich kann Ihr Anliegen an eine Mitarbeiterin oder einen Mitarbeiter weitergeben. Sie schreiben dann hier im Chat mit einem Menschen weiter. "
        f"Ich warte höchstens {_minutes(timeout_s)} auf eine freie Person. Ist bis dahin niemand frei, sage ich es "
        "Ihnen und nenne Ihnen andere Wege. Was Sie in der Wartezeit schreiben, geht nicht verloren."
    )
    if has_answers:
        text += (
            " Ihre bisherigen Angaben im Formular sieht die Person nur, wenn Sie zustimmen. "
            "Möchten Sie weitergeleitet werden?"
        )
        buttons = [
            _button("Ja, mit meinen Angaben", ACCEPT_INTENT, {SHARE_ENTITY: "ja"}),
            _button("Ja, ohne meine Angaben", ACCEPT_INTENT, {SHARE_ENTITY: "nein"}),
            _button("Nein, danke", DECLINE_INTENT),
        ]
    else:
        text += " Möchten Sie weitergeleitet werden?"
        buttons = [_button("Ja, bitte", ACCEPT_INTENT), _button("Nein, danke", DECLINE_INTENT)]
    return text, buttons


def callback_buttons() -> list[dict[str, str]]:
    return [_button("Rückruf anfordern", CALLBACK_INTENT), _button("Nein, danke", DECLINE_INTENT)]


def _other_ways(proc: Any) -> str:
    office = human_answers.reach_office(proc)
    text = human_answers.HOTLINE
    if office:
        text += f" {office}"
    return text + " Sie können auch um einen Rückruf bitten. Dann meldet sich jemand bei Ihnen."


def _when(moment: Optional[dt.datetime], now: Optional[dt.datetime] = None) -> str:
    if moment is None:
        return ""
    today = (now or dt.datetime.now(moment.tzinfo)).date()
    if moment.date() == today:
        day = "heute"
    elif moment.date() == today + dt.timedelta(days=1):
        day = "morgen"
    else:
        day = f"am {DAY_NAMES[moment.weekday()]}, {moment:%d.%m.}"
    return f" Wieder erreichbar sind wir {day} ab {moment:%H:%M} Uhr."


def closed(hours: OfficeHours, proc: Any = None, now: Optional[dt.datetime] = None) -> tuple[str, list]:
    """Outside office hours or on a public holiday."""
    holiday = hours.closed_for_holiday((now or dt.datetime.now(dt.timezone.utc)).astimezone(BERLIN).date())
    why = (
        f"Heute ist Feiertag ({holiday})."
        if holiday
        else f"Der Chat mit Mitarbeitenden ist besetzt: {hours.describe()}."
    )
    text = (
        f"Gerade ist leider niemand von den Mitarbeitenden im Chat erreichbar. {why}"
        f"{_when(hours.next_opening(now), now)} {_other_ways(proc)}"
    )
    return text, callback_buttons()


def unavailable(proc: Any = None) -> tuple[str, list]:
    """No staff desk configured, or it does not answer."""
    text = f"Ich kann Sie in diesem Chat gerade nicht an eine Person weiterleiten. {_other_ways(proc)}"
    return text, callback_buttons()


def timed_out(timeout_s: float, proc: Any = None, kept: int = 0) -> tuple[str, list]:
    """Nobody took the case in time."""
    text = f"Das tut mir leid: In den letzten {_minutes(timeout_s)} war niemand frei. {_other_ways(proc)}"
    if kept:
        text += " Was Sie in der Wartezeit geschrieben haben, übernehme ich als Anliegen in die Rückrufbitte."
    return text, callback_buttons()


def field_offer(state: str, timeout_s: float) -> str:
    """After three failed answers to one form field (with the button ``OFFER_BUTTON``): a person
    is offered, never forced, and the citizen learns what the button leads to. ``state``:
    ``open`` (staff in the chat now), ``closed`` (outside office hours) or ``unavailable``."""
    if state == "open":
        return (
            "Sie können auch mit einer Mitarbeiterin oder einem Mitarbeiter hier im Chat schreiben: "
            f"Tippen Sie auf „{OFFER_BUTTON['title']}“. Ich frage Sie vorher, ob Sie weitergeleitet werden möchten. "
            f"Auf eine freie Person warten Sie höchstens {_minutes(timeout_s)}."
        )
    if state == "closed":
        return (
            "Mitarbeitende sind gerade nicht im Chat erreichbar. "
            f"Unter „{OFFER_BUTTON['title']}“ sage ich Ihnen, wann wieder jemand da ist, "
            "und nenne Ihnen die Behördennummer 115 und einen Rückruf."
        )
    return (
        f"Unter „{OFFER_BUTTON['title']}“ nenne ich Ihnen die Behördennummer 115, "
        "die zuständige Stelle und einen Rückruf."
    )


LEAVE_BUTTON = {"title": LEAVE_TEXT, "payload": LEAVE_TEXT}  # plain text: works in every turn
LEFT = "In Ordnung, Sie warten nicht mehr. Sie schreiben wieder mit dem Assistenten."


def started(case_id: str, timeout_s: float) -> str:
    return (
        f"Ich habe Ihr Anliegen weitergegeben (Fall {case_id}). Bitte bleiben Sie im Chat. Sobald {STAFF} frei "
        f"ist, schreibt sie oder er Ihnen hier, spätestens nach {_minutes(timeout_s)} melde ich mich wieder. "
        "Sie können schon jetzt schreiben: Ihre Nachrichten werden weitergegeben. Wenn Sie nicht mehr warten "
        f"möchten, schreiben Sie „{LEAVE_TEXT}“."
    )


def staff_message(text: str) -> str:
    return STAFF_PREFIX + text


def ended(resumes_form: bool) -> str:
    text = "Die Mitarbeiterin oder der Mitarbeiter hat das Gespräch beendet. Sie schreiben jetzt wieder mit dem Assistenten."
    return text + (" Wir machen beim Formular weiter." if resumes_form else " Kann ich sonst noch etwas für Sie tun?")


DECLINED = "Gut, dann machen wir hier weiter."

CALLBACK_SAVED = (
    "Vielen Dank. Ihre Rückrufbitte ist eingegangen. Ihr Aktenzeichen ist {case_number}. "
    "Die Mitarbeitenden melden sich bei Ihnen. Wann genau, kann ich Ihnen leider nicht sagen."
)
CALLBACK_PENDING = (
    "Vielen Dank. Ihre Rückrufbitte ist gespeichert und wird gleich übermittelt. "
    "Das Aktenzeichen schreibe ich Ihnen hier, sobald es da ist. "
    "Die Mitarbeitenden melden sich bei Ihnen. Wann genau, kann ich Ihnen leider nicht sagen."
)
CALLBACK_NO_CONSENT = (
    "In Ordnung, ich habe nichts gespeichert. Sie erreichen die Behörden auch über die Behördennummer 115."
)
CALLBACK_FAILED = (
    "Ihre Rückrufbitte konnte ich leider gerade nicht speichern. Bitte versuchen Sie es später noch einmal "
    "oder rufen Sie die Behördennummer 115 an."
)
