"""Login in the chat: the login button, what happens after the IdP returned, "Bin ich
angemeldet?", "abmelden", and taking over account data into a form with consent.

The identity itself is read from the server-side store (``buergerassistent.identity``), never from slots.
Whether a procedure needs a login comes from the catalogue (``online.trust_level``). Login is
enforced unless ``BA_LOGIN_REQUIRED=0`` switches it off: ``make run``'s local demo without an
IdP does that (``bot/cli.py``), and only where the operator has not set it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.feedback import insight
from actions.forms import check_field
from actions.turns import current_state, set_awaiting
from buergerassistent import form_texts, language_state
from buergerassistent import identity as ids
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.dialogue_state import KEEP, Answer, Awaiting, after_logout, login_state, next_step
from buergerassistent.identity import greeting
from buergerassistent.settings import get_settings

logger = logging.getLogger(__name__)

YES_NO_BUTTONS = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}]
# What "ja"/"nein" mean in the login states: buergerassistent/dialogue_state.py.
PREFILL_QUESTION = form_texts.say("de", "login_prefill_question", labels="").split(" Das wären")[0]


def login_enforced() -> bool:
    """On unless switched off explicitly: a deployment that forgets the setting is safe."""
    return get_settings().login_required


def required_level(proc: Optional[Procedure]) -> Optional[str]:
    if proc is None or not login_enforced():
        return None
    return proc.trust_level if proc.trust_level in ids.LEVELS else None


def _activity(tracker: Tracker) -> list[float]:
    """When the citizen wrote (Rasa's timestamps, not settable by the citizen)."""
    return [float(e["timestamp"]) for e in tracker.events if e.get("event") == "user" and e.get("timestamp")]


def identity_for(tracker: Tracker) -> tuple[Optional[ids.Identity], str]:
    return ids.identity_status(tracker.sender_id, activity=_activity(tracker))


def _label(level: str, lang: str = "de") -> str:
    if lang != "de":  # issue 20: the level's name in the conversation's language
        return form_texts.say(lang, f"login_level_{level}")
    return ids.LEVEL_LABELS[level]


def _lang(tracker: Tracker) -> str:
    return form_texts.language_of(tracker.get_slot(language_state.SLOT))


def welcome(ident: ids.Identity, lang: str = "de") -> str:
    """``identity.greeting`` in the conversation's language."""
    if lang == "de":
        return greeting(ident)
    text = form_texts.say(lang, "login_greeting", name=ident.display_name, level=_label(ident.level, lang))
    if ident.temporary:
        text += " " + form_texts.say(lang, "login_temporary")
    return text


def offer_login(
    dispatcher: CollectingDispatcher, tracker: Tracker, level: str, text: str, awaiting: Awaiting = Awaiting.LOGIN
) -> list[EventType]:
    lang = _lang(tracker)
    url = ids.login_url(tracker.sender_id, level, lang=lang)  # the login pages speak it too
    key = "login_offer_eid" if level == "hoch" else "login_offer"
    offer = form_texts.say(lang, key, chat=ids.chat_label(tracker.sender_id))
    button = form_texts.say(lang, "login_button")
    dispatcher.utter_message(
        text=f"{text} {offer}",
        buttons=[{"title": button, "payload": url, "type": "web_url", "url": url}],
        **({"lang": "en"} if lang == "en" else {}),
    )
    # Often reached through a FollowupAction that no rule covers: wait for the citizen explicitly,
    # or the core fallback would answer (and rewind the slot just set).
    return [set_awaiting(awaiting), FollowupAction("action_listen")]


def _prefill_fields(proc: Procedure, ident: ids.Identity):
    values = ident.prefill_values()
    return [(f, values[f.prefill]) for f in proc.fields if f.prefill and values.get(f.prefill)]


def before_form(dispatcher: CollectingDispatcher, tracker: Tracker, proc: Procedure) -> Optional[list[EventType]]:
    """Called before a form starts. Returns events to stop there (login needed, or the consent
    question for prefill), or None to start the form."""
    level = required_level(proc)
    if level is None:
        return None
    ident, status = identity_for(tracker)
    lang = _lang(tracker)
    name = form_texts.procedure_name(proc, lang)
    if ident is None:
        text = form_texts.say(lang, "login_needed", name=name, level=_label(level, lang))
        if status == "expired":
            text = form_texts.say(lang, "login_expired") + " " + text
        return offer_login(dispatcher, tracker, level, text)
    if ids.level_rank(ident.level) < ids.level_rank(level):
        text = form_texts.say(
            lang, "login_level_too_low", have=_label(ident.level, lang), name=name, need=_label(level, lang)
        )
        return offer_login(dispatcher, tracker, level, text)
    fields = _prefill_fields(proc, ident)
    if tracker.get_slot("login_prefill") is None and fields:
        labels = ", ".join(form_texts.field_text(proc, f, lang).label for f, _ in fields)
        buttons = [
            {"title": form_texts.say(lang, "form_button_yes"), "payload": "/affirm"},
            {"title": form_texts.say(lang, "form_no").capitalize(), "payload": "/deny"},
        ]
        dispatcher.utter_message(
            text=form_texts.say(lang, "login_prefill_question", labels=labels),
            buttons=buttons,
            **({"lang": "en"} if lang == "en" else {}),
        )
        return [set_awaiting(Awaiting.PREFILL), FollowupAction("action_listen")]
    return None


def prefill_events(tracker: Tracker, proc: Procedure) -> list[EventType]:
    """Slot values from the account, only after the citizen said yes; always resets the consent."""
    events: list[EventType] = [SlotSet("login_prefill", None)]
    if tracker.get_slot("login_prefill") != "accepted" or required_level(proc) is None:
        return events
    ident, _ = identity_for(tracker)
    if ident is None:
        return events
    for field, value in _prefill_fields(proc, ident):
        result = check_field(field, value)
        if result.ok:  # a value the form would refuse is asked for instead
            events.append(SlotSet(field.name, result.value))
    return events


def before_submit(
    dispatcher: CollectingDispatcher, tracker: Tracker, proc: Optional[Procedure]
) -> Optional[list[EventType]]:
    """The session limits also hold at the moment of submission."""
    level = required_level(proc)
    if level is None:
        return None
    ident, status = identity_for(tracker)
    if ident is not None and ids.level_rank(ident.level) >= ids.level_rank(level):
        return None
    text = "Ihre Anmeldung ist abgelaufen." if status == "expired" else "Sie sind nicht mehr angemeldet."
    text += f" Zum Absenden melden Sie sich bitte noch einmal an (Vertrauensniveau {_label(level)}). Ihre Angaben bleiben erhalten."
    return offer_login(dispatcher, tracker, level, text, awaiting=Awaiting.LOGIN_SUBMIT)


def _focus(tracker: Tracker) -> Optional[Procedure]:
    return default_catalogue().get(tracker.get_slot("procedure"))


class ActionLogin(Action):
    """ "anmelden": a login link at the level the procedure in focus needs (else the lowest)."""

    def name(self) -> str:
        return "action_login"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        state = current_state(tracker)
        level = required_level(_focus(tracker)) if state is not None and state.waits_for_login else None
        ident, _ = identity_for(tracker)
        if ident is not None and (level is None or ids.level_rank(ident.level) >= ids.level_rank(level)):
            dispatcher.utter_message(text=welcome(ident, _lang(tracker)))
            return []
        return offer_login(
            dispatcher,
            tracker,
            level or "basisregistriert",
            form_texts.say(_lang(tracker), "login_start"),
            awaiting=login_state(state),
        )


class ActionLoginDeclined(Action):
    def name(self) -> str:
        return "action_login_declined"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = _focus(tracker)
        text = "In Ordnung. Ohne Anmeldung kann ich diesen Antrag hier im Chat nicht aufnehmen."
        if proc is not None and proc.in_person:
            text += f" Sie können „{proc.name}“ auch vor Ort beantragen."
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(response="utter_anything_else")
        return [set_awaiting(None), FollowupAction("action_listen")]


class ActionLoginResult(Action):
    """Runs when the login service reports back (intent ``EXTERNAL_login_result`` via Rasa's HTTP API)."""

    def name(self) -> str:
        return "action_login_result"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        conversation_id = tracker.sender_id
        state = current_state(tracker)
        outcome = ids.pop_outcome(conversation_id)
        ident = ids.current_identity(conversation_id)
        proc = _focus(tracker)
        if ident is not None:
            dispatcher.utter_message(text=welcome(ident, _lang(tracker)))
            step = next_step(state, Answer.LOGGED_IN)
            if step.action is not None and proc is not None:
                # Before a form, the prefill question is asked anew for this login.
                reset = [SlotSet("login_prefill", None)] if state is Awaiting.LOGIN else []
                return [
                    set_awaiting(None),
                    *reset,
                    insight("login_result", outcome="success"),
                    FollowupAction(step.action),
                ]
            dispatcher.utter_message(response="utter_anything_else")  # the default step
            return [set_awaiting(None), insight("login_result", outcome="success")]
        if outcome is None:
            dispatcher.utter_message(
                text="Ich habe für dieses Gespräch keine Anmeldung erhalten. "
                "Schreiben Sie „anmelden“, wenn Sie sich anmelden möchten."
            )
            return []
        reason = outcome["outcome"]
        needed = outcome.get("level_required") or "basisregistriert"
        if reason == "level_too_low":
            achieved = outcome.get("level_achieved")
            text = (
                f"Ihre Anmeldung hatte das Vertrauensniveau {_label(achieved) if achieved else 'unbekannt'}. "
                f"Nötig ist das Vertrauensniveau {_label(needed)}, darum habe ich Sie nicht angemeldet."
            )
            return [
                insight("login_result", outcome=reason),
                *offer_login(dispatcher, tracker, needed, text, awaiting=login_state(state)),
            ]
        if reason == "cancelled":
            text = "Sie haben die Anmeldung abgebrochen."
        else:
            text = "Die Anmeldung hat nicht geklappt."
        dispatcher.utter_message(
            text=f"{text} Sie sind nicht angemeldet. Schreiben Sie „anmelden“, wenn Sie es noch einmal versuchen möchten."
        )
        return [insight("login_result", outcome=str(reason))]


class ActionLoginStatus(Action):
    """ "Bin ich angemeldet?\""""

    def name(self) -> str:
        return "action_login_status"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ident, status = identity_for(tracker)
        if ident is None:
            text = "Nein, Sie sind nicht angemeldet."
            if status == "expired":
                text = "Nein. Ihre Anmeldung ist abgelaufen, darum habe ich Sie abgemeldet."
            dispatcher.utter_message(text=text + " Mit „anmelden“ können Sie sich anmelden.")
            return []
        max_age, max_idle = ids.SESSION_LIMITS[ident.level]
        until = dt.datetime.fromtimestamp(ident.logged_in_at + max_age, ids_timezone()).strftime("%H:%M")
        dispatcher.utter_message(
            text=f"Ja. {greeting(ident)} Die Anmeldung gilt bis längstens {until} Uhr und endet früher, "
            f"wenn Sie {max_idle // 60} Minuten nichts schreiben. Mit „abmelden“ melden Sie sich ab."
        )
        return []


def ids_timezone():
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Berlin")
    except Exception:  # pragma: no cover - tzdata missing
        return None


class ActionLogout(Action):
    """ "abmelden": end the local session and forget the account data taken over."""

    def name(self) -> str:
        return "action_logout"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = [SlotSet("login_prefill", None)]
        if ids.logout(tracker.sender_id):
            dispatcher.utter_message(
                text="Sie sind abgemeldet. Für Anträge, die eine Anmeldung brauchen, melden Sie sich bitte neu an."
            )
        else:
            # Nobody to log out: "PKW abmelden" means a procedure; discovery answers and says
            # "Sie sind nicht angemeldet." only when no procedure fits (actions/dialogue.py).
            return [*events, FollowupAction("action_discover_procedure")]
        if after_logout(current_state(tracker)) is not KEEP:
            events.append(set_awaiting(None))
        return events


class ActionPrefillAccept(Action):
    def name(self) -> str:
        return "action_prefill_accept"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return [SlotSet("login_prefill", "accepted"), set_awaiting(None), FollowupAction("action_start_application")]


class ActionPrefillDecline(Action):
    def name(self) -> str:
        return "action_prefill_decline"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text="In Ordnung, ich übernehme nichts. Sie geben die Angaben selbst ein.")
        return [SlotSet("login_prefill", "declined"), set_awaiting(None), FollowupAction("action_start_application")]
