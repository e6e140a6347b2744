"""Custom actions of the conversation: find the procedure, answer questions about it,
start the form, show the summary, submit, cancel.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import answers
from actions.catalogue import Procedure, default_catalogue
from actions.forms import form_data, summary_text
from actions.portal_client import PortalClient, PortalRejected, PortalUnavailable

logger = logging.getLogger(__name__)

YES_NO_BUTTONS = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}]


@lru_cache(maxsize=1)
def discovery():
    from actions.discovery import Discovery

    return Discovery.from_catalogue(default_catalogue())


def procedure_in_focus(tracker: Tracker) -> Optional[Procedure]:
    return default_catalogue().get(tracker.get_slot("procedure"))


def _clear_form(proc: Procedure) -> list[EventType]:
    return [SlotSet(f.name, None) for f in proc.fields]


def _offer_form(dispatcher: CollectingDispatcher, proc: Procedure) -> list[EventType]:
    dispatcher.utter_message(
        text=f"Möchten Sie „{proc.name}“ jetzt hier im Chat beantragen?", buttons=YES_NO_BUTTONS
    )
    return [SlotSet("procedure", proc.id), SlotSet("awaiting", "start_form")]


def present_procedure(dispatcher: CollectingDispatcher, proc: Procedure) -> list[EventType]:
    dispatcher.utter_message(text=answers.overview(proc))
    if proc.has_form:
        return _offer_form(dispatcher, proc)
    if proc.links:
        dispatcher.utter_message(
            text="Mehr dazu: " + ", ".join(f"[{l.title}]({l.url})" for l in proc.links)
        )
    return [SlotSet("procedure", proc.id), SlotSet("awaiting", None)]


class ActionDiscoverProcedure(Action):
    def name(self) -> str:
        return "action_discover_procedure"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        decision = discovery().decide(text)
        catalogue = default_catalogue()
        if decision.kind == "confident":
            return present_procedure(dispatcher, catalogue[decision.candidates[0].id])
        if decision.kind == "choose":
            buttons = [
                {
                    "title": catalogue[c.id].name,
                    "payload": f'/choose_procedure{{"procedure": "{c.id}"}}',
                }
                for c in decision.candidates
            ]
            dispatcher.utter_message(
                text="Ich bin nicht ganz sicher, was Sie meinen. Welche dieser Leistungen passt?",
                buttons=buttons,
            )
            return [SlotSet("awaiting", None)]
        dispatcher.utter_message(text=answers.no_procedure_found())
        return [SlotSet("awaiting", None)]


class ActionChooseProcedure(Action):
    def name(self) -> str:
        return "action_choose_procedure"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        chosen = next(tracker.get_latest_entity_values("procedure"), None)
        proc = default_catalogue().get(chosen)
        if proc is None:
            dispatcher.utter_message(text=answers.no_procedure_found())
            return []
        return present_procedure(dispatcher, proc)


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
            decision = discovery().decide(text)
            if decision.kind == "confident":
                proc = default_catalogue()[decision.candidates[0].id]
                if proc.id != tracker.get_slot("procedure"):
                    events.append(SlotSet("procedure", proc.id))
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
    """"Wozu brauchen Sie das?" inside a form: explain the field asked for; outside: help."""

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


class ActionStartApplication(Action):
    def name(self) -> str:
        return "action_start_application"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        if proc is None or not proc.has_form:
            dispatcher.utter_message(
                text="Welchen Antrag möchten Sie stellen? Beschreiben Sie bitte kurz Ihr Anliegen."
            )
            return [SlotSet("awaiting", None)]
        dispatcher.utter_message(
            text=f"Gut, ich nehme Ihren Antrag „{proc.name}“ auf. Es sind {len(proc.fields)} "
            "Fragen. Mit „abbrechen“ können Sie jederzeit aufhören."
        )
        return [
            *_clear_form(proc),
            SlotSet("awaiting", None),
            SlotSet("application_id", None),
            FollowupAction(proc.form_name),
        ]


class ActionShowSummary(Action):
    def name(self) -> str:
        return "action_show_summary"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        if proc is None:
            return []
        dispatcher.utter_message(text=summary_text(proc, tracker))
        dispatcher.utter_message(
            text="Sind alle Angaben richtig? Dann sende ich den Antrag ab.",
            buttons=[
                {"title": "Ja, absenden", "payload": "/affirm"},
                {"title": "Nein, etwas ändern", "payload": "/deny"},
            ],
        )
        # A fresh idempotency key per confirmed application: retries reuse it, so the backend
        # never records the same application twice.
        application_id = tracker.get_slot("application_id") or str(uuid.uuid4())
        return [SlotSet("awaiting", "confirm_summary"), SlotSet("application_id", application_id)]


class ActionSubmitApplication(Action):
    def name(self) -> str:
        return "action_submit_application"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        application_id = tracker.get_slot("application_id")
        if proc is None or not application_id:
            dispatcher.utter_message(text="Es gibt keinen Antrag, den ich absenden könnte.")
            return [SlotSet("awaiting", None)]
        try:
            receipt = await PortalClient().submit(proc.id, form_data(proc, tracker), application_id)
        except PortalUnavailable as exc:
            logger.warning("portal backend unavailable for %s: %s", proc.id, exc)
            dispatcher.utter_message(
                text="Entschuldigung, das Antragssystem ist gerade nicht erreichbar. Ihre Angaben "
                "sind nicht verloren. Soll ich es noch einmal versuchen?",
                buttons=YES_NO_BUTTONS,
            )
            return [SlotSet("awaiting", "retry_submission")]
        except PortalRejected as exc:
            logger.info("portal backend rejected %s: %s", proc.id, exc)
            return self._fix_rejected(dispatcher, proc, exc)
        logger.info("application submitted for %s", proc.id)
        dispatcher.utter_message(
            text=f"Vielen Dank! Ihr Antrag „{proc.name}“ ist eingegangen. "
            f"Ihr Aktenzeichen lautet {receipt.case_number}. Bitte notieren Sie es für Rückfragen."
        )
        dispatcher.utter_message(response="utter_anything_else")
        return [
            *_clear_form(proc),
            SlotSet("case_number", receipt.case_number),
            SlotSet("application_id", None),
            SlotSet("awaiting", None),
        ]

    @staticmethod
    def _fix_rejected(dispatcher, proc: Procedure, exc: PortalRejected) -> list[EventType]:
        known = [f for f in proc.fields if f.name in exc.fields]
        if not known:
            dispatcher.utter_message(
                text="Das Antragssystem hat den Antrag leider nicht angenommen. "
                f"{answers.UNKNOWN_HINT}"
            )
            return [SlotSet("awaiting", None), SlotSet("application_id", None)]
        problems = "\n".join(f"- {f.label}: {exc.fields[f.name]}" for f in known)
        dispatcher.utter_message(
            text=f"Das Antragssystem hat diese Angaben nicht angenommen:\n{problems}\n"
            "Bitte geben Sie sie noch einmal an."
        )
        return [
            *[SlotSet(f.name, None) for f in known],
            SlotSet("awaiting", None),
            SlotSet("application_id", None),
            FollowupAction(proc.form_name),
        ]


class ActionHandleAffirm(Action):
    def name(self) -> str:
        return "action_handle_affirm"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        awaiting = tracker.get_slot("awaiting")
        if awaiting == "start_form":
            return [FollowupAction("action_start_application")]
        if awaiting in ("confirm_summary", "retry_submission"):
            return [FollowupAction("action_submit_application")]
        dispatcher.utter_message(response="utter_help")
        return []


class ActionHandleDeny(Action):
    def name(self) -> str:
        return "action_handle_deny"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        awaiting = tracker.get_slot("awaiting")
        proc = procedure_in_focus(tracker)
        if awaiting == "confirm_summary" and proc is not None:
            dispatcher.utter_message(
                text="Welche Angabe möchten Sie ändern?",
                buttons=[
                    {"title": f.label, "payload": f'/change_field{{"field": "{f.name}"}}'}
                    for f in proc.fields
                ],
            )
            return []
        if awaiting == "retry_submission":
            dispatcher.utter_message(
                text="In Ordnung. Ihre Angaben bleiben in diesem Gespräch gespeichert. "
                "Schreiben Sie „absenden“, wenn ich es noch einmal versuchen soll."
            )
            return [SlotSet("awaiting", "retry_submission")]
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("awaiting", None)]


class ActionChangeField(Action):
    """Clear one field and reopen the form, which then asks only for that field."""

    def name(self) -> str:
        return "action_change_field"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        field_name = next(tracker.get_latest_entity_values("field"), None)
        if proc is None or field_name not in {f.name for f in proc.fields}:
            dispatcher.utter_message(text="Diese Angabe kann ich leider nicht ändern.")
            return []
        return [
            SlotSet(field_name, None),
            SlotSet("awaiting", None),
            SlotSet("application_id", None),
            FollowupAction(proc.form_name),
        ]


class ActionCancelApplication(Action):
    def name(self) -> str:
        return "action_cancel_application"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        events: list[EventType] = [
            SlotSet("awaiting", None),
            SlotSet("application_id", None),
            SlotSet("requested_slot", None),
        ]
        if tracker.active_loop_name:
            events.insert(0, ActiveLoop(None))
        if proc is not None and (tracker.active_loop_name or tracker.get_slot("awaiting")):
            events.extend(_clear_form(proc))
            dispatcher.utter_message(
                text=f"Ich habe den Antrag „{proc.name}“ abgebrochen und Ihre Angaben gelöscht."
            )
        else:
            dispatcher.utter_message(text="Es läuft gerade kein Antrag.")
        dispatcher.utter_message(response="utter_anything_else")
        return events

