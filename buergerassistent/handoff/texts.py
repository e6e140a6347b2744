"""What the citizen reads about the handoff, in the conversation's language (issues 19, 20).

The sentences are data: the keys ``handoff_*`` of ``messages.yaml`` in German, English and
Leichte Sprache (``buergerassistent/translations.py``; ``content/languages.py`` fails a key that
is missing in one language). The office of the procedure in focus and the 115 come from the
catalogue's ``contact:`` block; nothing here invents a contact, a waiting time or a rule.
Buttons carry intent payloads (``/handoff_accept`` …), which the payload guard lets through only
right after the assistant offered them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional

from buergerassistent import human_answers, translations
from buergerassistent.handoff import ACCEPT_INTENT, CALLBACK_INTENT, DECLINE_INTENT, LEAVE_TEXT, SHARE_ENTITY
from buergerassistent.handoff.office_hours import BERLIN, OfficeHours, day_names
from buergerassistent.language_state import ENGLISH, GERMAN, LANGUAGES


def _lang(lang: Any) -> str:
    return lang if lang in LANGUAGES else GERMAN


def say(lang: Any, key: str, **values: Any) -> str:
    """The sentence ``handoff_<key>`` in ``lang``."""
    return translations.message(_lang(lang), f"handoff_{key}", **values)


def _minutes(seconds: float, lang: Any = GERMAN) -> str:
    minutes = max(1, round(seconds / 60))
    return say(lang, "minute") if minutes == 1 else say(lang, "minutes", n=minutes)


def _button(title: str, intent: str, entities: Optional[dict[str, str]] = None) -> dict[str, str]:
    return {"title": title, "payload": f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")}


def offer_button(lang: Any = GERMAN) -> dict[str, str]:
    """The button that leads to the handoff offer (after failed answers, repeated fallbacks)."""
    return {"title": say(lang, "button_offer"), "payload": "/ask_human"}


OFFER_BUTTON = offer_button(GERMAN)


def offer(timeout_s: float, has_answers: bool, lang: Any = GERMAN) -> tuple[str, list[dict[str, str]]]:
    """Staff are there: offer the handoff, say what happens and how long it may take."""
    text = say(lang, "offer", minutes=_minutes(timeout_s, lang))
    if has_answers:
        text += f" {say(lang, 'offer_answers')} {say(lang, 'offer_question')}"
        buttons = [
            _button(say(lang, "button_share"), ACCEPT_INTENT, {SHARE_ENTITY: "ja"}),
            _button(say(lang, "button_no_share"), ACCEPT_INTENT, {SHARE_ENTITY: "nein"}),
            _button(say(lang, "button_no"), DECLINE_INTENT),
        ]
    else:
        text += f" {say(lang, 'offer_question')}"
        buttons = [_button(say(lang, "button_yes"), ACCEPT_INTENT), _button(say(lang, "button_no"), DECLINE_INTENT)]
    return text, buttons


def callback_buttons(lang: Any = GERMAN) -> list[dict[str, str]]:
    return [_button(say(lang, "button_callback"), CALLBACK_INTENT), _button(say(lang, "button_no"), DECLINE_INTENT)]


def reach_office(proc: Any, lang: Any = GERMAN) -> str:
    """How to reach the responsible office, only with the catalogue's data (German: the text of
    ``human_answers.reach_office``; English: the procedure's English name)."""
    office = human_answers._office(proc)
    if not office:
        return ""
    name = proc.name
    if _lang(lang) == ENGLISH:
        entry = translations.english(getattr(proc, "id", None))
        name = entry.name if entry else name
        # The office's German name with its English explanation (contact name, else authority).
        if entry and human_answers._contact(proc) is not None and entry.contact.get("name"):
            office = entry.contact["name"]
        elif entry and entry.authority and office == getattr(proc, "authority", None):
            office = entry.authority
    parts = [say(lang, "office", name=name, office=office)]
    contact = human_answers._contact(proc)
    if contact is not None:
        phone, email, url = (human_answers._get(contact, k) for k in ("phone", "email", "url"))
        ways = [say(lang, "office_phone", phone=phone)] if phone else []
        ways += [say(lang, "office_email", email=email)] if email else []
        if ways:
            parts.append(say(lang, "office_ways", ways=f" {say(lang, 'office_or')} ".join(ways)))
        if url:
            parts.append(say(lang, "office_more", url=url))
    return " ".join(parts)


def _other_ways(proc: Any, lang: Any = GERMAN) -> str:
    office = reach_office(proc, lang)
    return " ".join(t for t in (say(lang, "hotline"), office, say(lang, "callback_possible")) if t)


def _when(moment: Optional[dt.datetime], now: Optional[dt.datetime] = None, lang: Any = GERMAN) -> str:
    if moment is None:
        return ""
    today = (now or dt.datetime.now(moment.tzinfo)).date()
    if moment.date() == today:
        day = say(lang, "today")
    elif moment.date() == today + dt.timedelta(days=1):
        day = say(lang, "tomorrow")
    else:
        day = say(lang, "on_day", day=day_names(lang)[moment.weekday()], date=say(lang, "date", d=moment))
    return " " + say(lang, "back_at", day=day, time=f"{moment:%H:%M}")


def closed(
    hours: OfficeHours, proc: Any = None, now: Optional[dt.datetime] = None, lang: Any = GERMAN
) -> tuple[str, list]:
    """Outside office hours or on a public holiday."""
    today = (now or dt.datetime.now(dt.timezone.utc)).astimezone(BERLIN).date()
    holiday = hours.closed_for_holiday(today, language="en_US" if _lang(lang) == ENGLISH else "de")
    why = say(lang, "holiday", holiday=holiday) if holiday else say(lang, "hours", hours=hours.describe(_lang(lang)))
    text = f"{say(lang, 'closed')} {why}{_when(hours.next_opening(now), now, lang)} {_other_ways(proc, lang)}"
    return text, callback_buttons(lang)


def unavailable(proc: Any = None, lang: Any = GERMAN) -> tuple[str, list]:
    """No staff desk configured, or it does not answer."""
    return f"{say(lang, 'unavailable')} {_other_ways(proc, lang)}", callback_buttons(lang)


def timed_out(timeout_s: float, proc: Any = None, kept: int = 0, lang: Any = GERMAN) -> tuple[str, list]:
    """Nobody took the case in time."""
    text = f"{say(lang, 'timed_out', minutes=_minutes(timeout_s, lang))} {_other_ways(proc, lang)}"
    if kept:
        text += " " + say(lang, "timed_out_kept")
    return text, callback_buttons(lang)


def field_offer(state: str, timeout_s: float, lang: Any = GERMAN) -> str:
    """After three failed answers to one form field, or a second fallback in a row (with the
    button :func:`offer_button`): a person is offered, never forced, and the citizen learns what
    the button leads to. ``state``: ``open`` (staff in the chat now), ``closed`` (outside office
    hours) or ``unavailable``."""
    key = {"open": "field_offer_open", "closed": "field_offer_closed"}.get(state, "field_offer_unavailable")
    return say(lang, key, button=say(lang, "button_offer"), minutes=_minutes(timeout_s, lang))


def leave_button(lang: Any = GERMAN) -> dict[str, str]:
    """Plain text, not a payload: it works in every turn (``handoff.leaves_queue`` reads it)."""
    title = say(lang, "button_leave")
    return {"title": title, "payload": title}


LEAVE_BUTTON = {"title": LEAVE_TEXT, "payload": LEAVE_TEXT}


def left(resumes_form: bool, lang: Any = GERMAN) -> str:
    return say(lang, "left") + (" " + say(lang, "resume_form") if resumes_form else "")


def started(case_id: str, timeout_s: float, lang: Any = GERMAN) -> str:
    return say(lang, "started", case_id=case_id, minutes=_minutes(timeout_s, lang), leave=say(lang, "button_leave"))


def staff_message(text: str, lang: Any = GERMAN) -> str:
    return say(lang, "staff_message", text=text)


def taken(lang: Any = GERMAN) -> str:
    return say(lang, "taken")


def ended(resumes_form: bool, lang: Any = GERMAN) -> str:
    return f"{say(lang, 'ended')} {say(lang, 'resume_form' if resumes_form else 'anything_else')}"


def declined(lang: Any = GERMAN) -> str:
    return say(lang, "declined")
