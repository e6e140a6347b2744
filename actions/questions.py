"""Questions about a procedure, inside or outside a form: fees, documents, online, where, and
"Wozu brauchen Sie das?". Used by the dialogue actions and by the form interruption
(``actions/forms.py``); it imports neither, so that they do not import each other.
"""

from __future__ import annotations

from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from buergerassistent import answers
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.dialogue_state import SLOT, Awaiting
from buergerassistent.procedure_finder import ANSWER, CHOICE, decide, intent_of


def procedure_in_focus(tracker: Tracker) -> Optional[Procedure]:
    return default_catalogue().get(tracker.get_slot("procedure"))


def _application_waits(tracker: Tracker) -> bool:
    """A filled application waits for "Ja, absenden" (or a question about it): a question about
    another procedure is answered, but must not make a "ja" submit that other procedure (issue 15)."""
    state = Awaiting.of(tracker.get_slot(SLOT))
    return state is not None and (state.has_application or state is Awaiting.CONFIRM_REQUEST)


def offer_choice(dispatcher: CollectingDispatcher, decision) -> None:
    catalogue = default_catalogue()
    buttons = [
        {"title": catalogue[c.id].name, "payload": f'/choose_procedure{{"procedure": "{c.id}"}}'}
        for c in decision.candidates
    ]
    dispatcher.utter_message(
        text="Ich bin nicht ganz sicher, was Sie meinen. Welche dieser Leistungen passt?",
        buttons=buttons,
    )


class ActionAnswerInfo(Action):
    """Fees, documents, online, where: for the procedure named now, else the one in focus."""

    def name(self) -> str:
        return "action_answer_info"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text") or ""
        events: list[EventType] = []
        proc = None
        # Inside a form the question is about the form's procedure; outside, a procedure named
        # in the question itself ("Was kostet ein Reisepass?") takes the focus.
        if not tracker.active_loop_name:
            decision = decide(text, *intent_of(tracker.latest_message))
            named = [c.id for c in decision.candidates]
            if decision.decision == ANSWER:
                proc = default_catalogue()[named[0]]
                if proc.id != tracker.get_slot("procedure") and not _application_waits(tracker):
                    events.append(SlotSet("procedure", proc.id))
            elif decision.decision == CHOICE and tracker.get_slot("procedure") not in named:
                # The question names procedures other than the one in focus, but not clearly
                # one of them: ask which, rather than answer for the wrong one.
                offer_choice(dispatcher, decision)
                return events
        proc = proc or procedure_in_focus(tracker)
        if proc is None:
            dispatcher.utter_message(
                text="Zu welcher Leistung möchten Sie das wissen? Beschreiben Sie bitte kurz Ihr Anliegen."
            )
            return events
        answer = answers.ANSWERS_BY_INTENT.get(intent, answers.where)
        dispatcher.utter_message(text=answer(proc))
        return events


class ActionExplainField(Action):
    """ "Wozu brauchen Sie das?" inside a form: explain the field asked for; outside: help."""

    def name(self) -> str:
        return "action_explain_field"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue().by_form_name(tracker.active_loop_name or "")
        requested = tracker.get_slot("requested_slot")
        if proc is None or not requested:
            dispatcher.utter_message(response="utter_help")
            return []
        field = proc.field(requested)
        text = field.help or f"Diese Angabe braucht die Behörde für „{proc.name}“."
        if field.example:
            text += f" Zum Beispiel: {field.example}."
        text += " Mit „abbrechen“ können Sie den Antrag jederzeit beenden."
        dispatcher.utter_message(text=text)
        return []
