"""Conversation actions of issue 15: ask before a request with consequences, carry it out on a
clear "ja"; human answers (person?, talk to someone, contact data, complaints); a reply to
English messages. Fallbacks that vary: ``actions/fallbacks.py``.

The decisions live in the domain: ``buergerassistent/intent_guard.py`` (act, ask or
reinterpret; applied in the Rasa process by ``rasa_runtime/intent_guard.py``),
``buergerassistent/human_answers.py``, ``buergerassistent/language.py``,
and ``buergerassistent/fallback.py``. This module only reads the tracker and says the result.
"""

from __future__ import annotations

from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.types import DomainDict

from actions.dialogue import ActionCancelApplication
from actions.drafts import ActionSaveDraft
from actions.fallbacks import again, fallbacks_in_a_row
from actions.handoff import offer as offer_handoff
from actions.login import ActionLogin, ActionLogout
from actions.questions import replies_to_offer
from actions.turns import current_state, ends_turn, set_awaiting
from buergerassistent import answers, human_answers, intent_guard, language_replies, language_state, translations
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.dialogue_state import SLOT, Awaiting

PENDING_REQUEST = "pending_request"  # the request to confirm: save_draft | cancel | login | logout
PENDING_RETURN = "pending_return"  # where "nein" goes back to: "form:<form name>" or "state:<awaiting>"


def _focus(tracker: Tracker) -> Optional[Procedure]:
    catalogue = default_catalogue()
    return catalogue.by_form_name(tracker.active_loop_name or "") or catalogue.get(tracker.get_slot("procedure"))


class ActionConfirmRequest(Action):
    """The guard was not sure the citizen meant a request with consequences: ask first. Inside
    a form the form pauses (its answers stay); "nein" continues it."""

    def name(self) -> str:
        return "action_confirm_request"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if replies_to_offer(tracker):
            # "Abmelden, ich hab ihn verkauft" to [Fahrzeug zulassen | Fahrzeug abmelden]: a choice, no logout.
            return [FollowupAction("action_choose_procedure")]
        request = next(tracker.get_latest_entity_values(intent_guard.ACTION_ENTITY), None)
        proc = _focus(tracker)
        if request not in intent_guard.REQUESTS:
            dispatcher.utter_message(response="utter_default")
            return []
        name = proc.name if proc is not None and request != intent_guard.LOGIN else None
        dispatcher.utter_message(
            text=intent_guard.confirm_question(request, name), buttons=intent_guard.confirm_buttons(request)
        )
        if request == intent_guard.SUBMIT:
            return []  # the summary's question stands: "ja" submits, as before
        state = current_state(tracker)
        events: list[EventType] = []
        if tracker.active_loop_name:
            back: Optional[str] = f"form:{tracker.active_loop_name}"
            # Paused without a requested slot: when the form starts again, the "nein" that
            # resumes it must not be read as the answer to that question.
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        elif state is not None and state is not Awaiting.CONFIRM_REQUEST:
            back = f"state:{state.value}"
        else:
            back = tracker.get_slot(PENDING_RETURN) if state is Awaiting.CONFIRM_REQUEST else None
        return [
            *events,
            SlotSet(PENDING_REQUEST, request),
            SlotSet(PENDING_RETURN, back),
            set_awaiting(Awaiting.CONFIRM_REQUEST),
        ]


def _request_action(request: Optional[str]) -> Optional[Action]:
    return {
        intent_guard.SAVE_DRAFT: ActionSaveDraft,
        intent_guard.CANCEL: ActionCancelApplication,
        intent_guard.LOGIN: ActionLogin,
        intent_guard.LOGOUT: ActionLogout,
    }.get(request or "", lambda: None)()


class ActionCarryOutRequest(Action):
    """ "ja" to the question of :class:`ActionConfirmRequest`: do what was asked."""

    def name(self) -> str:
        return "action_carry_out_request"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        request = tracker.get_slot(PENDING_REQUEST)
        action = _request_action(request)
        cleared: list[EventType] = [SlotSet(PENDING_REQUEST, None), SlotSet(PENDING_RETURN, None)]
        if action is None:
            dispatcher.utter_message(response="utter_anything_else")
            return [*cleared, set_awaiting(None)]
        back = _return_state(tracker)
        if back is not None:
            # The request means what it meant before the question ("abbrechen" while a saved
            # draft was offered deletes the draft): the action sees the state from then.
            tracker.slots[SLOT] = back.value
        events = list(await action.run(dispatcher, tracker, domain))
        if request in (intent_guard.LOGIN, intent_guard.LOGOUT) and not any(e.get("name") == SLOT for e in events):
            # Logging in or out leaves what waited before the question as it was.
            events.append(set_awaiting(_return_state(tracker)))
        return [*cleared, *events]


def _return_state(tracker: Tracker) -> Optional[Awaiting]:
    back = tracker.get_slot(PENDING_RETURN) or ""
    return Awaiting.of(back[len("state:") :]) if back.startswith("state:") else None


class ActionKeepGoing(Action):
    """ "nein" to the question of :class:`ActionConfirmRequest`: nothing happens; back to the
    paused form, or to the question that was open before."""

    def name(self) -> str:
        return "action_keep_going"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        back = tracker.get_slot(PENDING_RETURN) or ""
        events: list[EventType] = [SlotSet(PENDING_REQUEST, None), SlotSet(PENDING_RETURN, None)]
        if back.startswith("form:"):
            dispatcher.utter_message(text="Gut, dann machen wir weiter.")
            return [*events, set_awaiting(None), FollowupAction(back[len("form:") :])]
        state = _return_state(tracker)
        if state is Awaiting.CONFIRM_SUMMARY:
            return [*events, set_awaiting(state), FollowupAction("action_show_summary")]
        dispatcher.utter_message(text="In Ordnung, dann bleibt alles, wie es ist.")
        if state is None:
            dispatcher.utter_message(response="utter_anything_else")
        return [*events, set_awaiting(state)]


class ActionHumanAnswer(Action):
    """ "Sind Sie ein Mensch?", "Ich möchte mit jemandem sprechen", phone number and opening
    hours, complaints: short, true answers with the office of the procedure in focus."""

    def name(self) -> str:
        return "action_human_answer"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "ask_human":
            # Issue 19: a person on the staff desk when there is one; else 115, office, call-back.
            offer_handoff(dispatcher, tracker)
            return []
        proc = _focus(tracker)
        # The catalogue's own contact answer (answers.contact, branch `content`) where it exists.
        answer = answers.ANSWERS_BY_INTENT.get(intent) if proc is not None else None
        answer = answer or human_answers.ANSWERS.get(intent, human_answers.ask_human)
        dispatcher.utter_message(text=answer(proc))
        return []


class ActionOtherLanguage(Action):
    """A language switch ("English please", "in Leichter Sprache") or a message in English:
    the reply of ``buergerassistent/language_replies.py`` in the conversation's language."""

    def name(self) -> str:
        return "action_other_language"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        entities = {e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities") or []}
        lang = entities.get(language_state.CHOICE_ENTITY) or tracker.get_slot(language_state.SLOT) or "de"
        source = entities.get(language_state.SOURCE_ENTITY) or tracker.get_slot(language_state.SOURCE_SLOT)
        switched = (tracker.latest_message.get("guard") or {}).get("reason") == "language switch" or (
            language_state.explicit_switch(tracker.latest_message.get("text") or "") is not None
        )
        in_form = bool(tracker.active_loop_name)
        out = language_replies.reply(
            lang, source, tracker.latest_message.get("text") or "", switched, in_form, _focus(tracker)
        )
        if out.texts == [translations.message(language_state.ENGLISH, "not_found")]:
            before = fallbacks_in_a_row(tracker)
            if before > 0:  # not understood twice in a row: topics and a person, as in German
                again(dispatcher, before, out.language)
                return []
        # ``lang`` marks the text's language for the web chat (the widget's lang attribute).
        html_lang = language_state.HTML_LANG.get(out.language, "de")
        with_buttons = out.offer_form or bool(out.choices)
        for index, text in enumerate(out.texts[:-1] if with_buttons else out.texts):
            # A switch in words: the web chat's own texts follow it (custom "language").
            switch = {"type": "language", "language": lang} if switched and index == 0 else None
            dispatcher.utter_message(text=text, lang=html_lang, json_message=switch)
        if out.choices and out.texts:
            # a choice in English: each button sends the service's English name, which the
            # English path then presents (buergerassistent/language_replies.py)
            buttons = [{"title": name, "payload": name} for name in out.choices]
            dispatcher.utter_message(text=out.texts[-1], buttons=buttons, lang=html_lang)
        events: list[EventType] = []
        if out.procedure:
            events.append(SlotSet("procedure", out.procedure))
        if out.offer_form and out.texts:
            yes_no = [
                {"title": translations.message("en", "button_yes"), "payload": "/affirm"},
                {"title": translations.message("en", "button_no"), "payload": "/deny"},
            ]
            dispatcher.utter_message(text=out.texts[-1], buttons=yes_no, lang=html_lang)
            events.append(set_awaiting(Awaiting.START_FORM))
        return events
