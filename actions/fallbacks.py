"""Fallbacks that vary and get shorter (issue 15): the usual answer first; when the previous turn
was a fallback too, a shorter one with topics as buttons (``buergerassistent/fallback.py``)."""

from __future__ import annotations

from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.responses import utter_response
from buergerassistent import fallback, form_texts, language_state, translations
from buergerassistent.catalogue import default_catalogue
from buergerassistent.handoff import office_hours as handoff_office_hours
from buergerassistent.handoff import texts as handoff_texts
from buergerassistent.settings import get_settings


def previous_turns(tracker: Tracker) -> list[list[str]]:
    """The assistant's texts per earlier turn, newest first (the current message excluded)."""
    turns: list[list[str]] = []
    current: list[str] = []
    seen_current_user = False
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            if seen_current_user:
                turns.append(current)
            seen_current_user = True
            current = []
        elif kind == "bot" and seen_current_user:
            current.append(event.get("text") or "")
    return turns


def _topics(lang: str = language_state.GERMAN) -> list[dict[str, str]]:
    buttons = fallback.topic_buttons(p.id for p in default_catalogue().curated())
    if lang != language_state.ENGLISH:
        return buttons
    # English: the service's English name (data of catalogue/translations/en/), which the English
    # path presents when it comes back as a message.
    english = []
    for button in buttons:
        entry = next((e for e in translations.english_entries().values() if f'"{e.id}"' in button["payload"]), None)
        english.append({"title": entry.name, "payload": entry.name} if entry else button)
    return english


def _fallback_starts() -> list[str]:
    keys = [(lang, f"fallback_again_{n}") for lang in language_state.LANGUAGES for n in (1, 2, 3)]
    return [translations.message(lang, key)[:30] for lang, key in [*keys, (language_state.ENGLISH, "not_found")]]


def _is_fallback(text: str) -> bool:
    """A fallback answer of the assistant in any language (German markers of
    ``buergerassistent/fallback.py``, the English "not found", the repeated fallbacks)."""
    return fallback.is_fallback_text(text) or bool(text) and any(text.startswith(s) for s in _fallback_starts())


def fallbacks_in_a_row(tracker: Tracker) -> int:
    count = 0
    for texts in previous_turns(tracker):
        if not any(_is_fallback(t) for t in texts):
            break
        count += 1
    return count


def again(dispatcher: CollectingDispatcher, before: int, lang: str) -> None:
    """The second, third … fallback in a row in ``lang``: shorter, topics as buttons, and a person
    offered (issue 19: never forced; the citizen learns what the button leads to)."""
    text = translations.message(lang, f"fallback_again_{min(max(before, 1), 3)}")
    dispatcher.utter_message(text=text, buttons=[*_topics(lang), handoff_texts.offer_button(lang)])
    offer = handoff_texts.field_offer(
        handoff_office_hours.availability(), get_settings().handoff_queue_timeout_s, lang=lang
    )
    dispatcher.utter_message(text=offer)


# First answers whose domain response has an English variant (bot/domain/core.yml): Rasa picks it.
_ENGLISH_RESPONSES = frozenset({"utter_help", "utter_out_of_scope"})


def say_fallback(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    kind: str,
    first_response: Optional[str] = None,
    first_text: Optional[str] = None,
) -> None:
    """A fallback answer: the usual one first (the domain response ``first_response``, or
    ``first_text``), then shorter ones with topic buttons. Rasa sends actions no domain
    (selective domain), so responses are named, not read."""
    before = fallbacks_in_a_row(tracker)
    lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
    if before <= 0 and lang == language_state.ENGLISH and first_response not in _ENGLISH_RESPONSES:
        # No English variant of that first answer: the English path's own "not found" says the same.
        dispatcher.utter_message(text=translations.message(lang, "not_found"))
        return
    if before <= 0 and first_response:
        utter_response(dispatcher, tracker, first_response)
        return
    text, with_topics = fallback.reply(kind, before, first_text)
    if with_topics:
        again(dispatcher, before, lang)
    else:
        dispatcher.utter_message(text=text)


def reask_offer(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """ "das erste" to "Möchten Sie … jetzt hier im Chat beantragen?": the question is still open,
    so the first "not understood" asks it again with its buttons instead of a general "please
    rephrase". False (nothing said) when no offer waits or this is not the first fallback."""
    from actions.turns import current_state  # noqa: PLC0415 (actions.turns imports the dialogue)
    from buergerassistent.dialogue_state import Awaiting  # noqa: PLC0415

    proc = default_catalogue().get(tracker.get_slot("procedure"))
    if current_state(tracker) is not Awaiting.START_FORM or proc is None or fallbacks_in_a_row(tracker) > 0:
        return False
    lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
    yes, no = form_texts.say(lang, "place_button_yes"), form_texts.say(lang, "place_button_no")
    dispatcher.utter_message(
        text=form_texts.say(lang, "offer_not_understood", name=form_texts.procedure_name(proc, lang)),
        buttons=[{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}],
    )
    return True


class ActionFallback(Action):
    """Not understood (outside a form)."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if reask_offer(dispatcher, tracker):
            return []
        say_fallback(dispatcher, tracker, "not_understood", first_response="utter_default")
        return []


class ActionHelp(Action):
    """ "Hilfe": the full help text (utter_help); asked again right after, short with topics."""

    def name(self) -> str:
        return "action_help"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        from actions.context import chosen_by_reply  # noqa: PLC0415 (actions.context imports much)
        from actions.life_situations import chosen_step  # noqa: PLC0415

        if chosen_by_reply(tracker) is not None or chosen_step(tracker) is not None:
            # "die erste" to the list just offered, misread as a request for help.
            return [FollowupAction("action_choose_procedure")]
        turns = previous_turns(tracker)
        if turns and any(fallback.is_help_text(t) for t in turns[0]):
            lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
            if lang == language_state.ENGLISH:
                again(dispatcher, 1, lang)
            else:
                text, _ = fallback.reply("help", 1)
                dispatcher.utter_message(text=text, buttons=_topics())
        else:
            utter_response(dispatcher, tracker, "utter_help")
        return []
