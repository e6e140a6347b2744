"""Form validation for every transactional procedure, derived from the catalogue.

Rasa runs ``validate_<procedure>_form`` after each answer. One generic class validates with the
German field validators (``buergerassistent.validation``); a subclass per form only supplies the name.
The text of the answer is read by ``buergerassistent.repair``: it may also correct an earlier field, fill
several fields at once or skip an optional one. After ``FAILURES_BEFORE_HELP`` failed answers to
one field the assistant explains the field and asks whether to go on.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.questions import ActionAnswerInfo, ActionExplainField
from buergerassistent.catalogue import Field, Procedure, default_catalogue
from buergerassistent.repair import SKIPPED, read_message
from buergerassistent.validation import validate

FAILURES_BEFORE_HELP = 3
FAILURES_SLOT = "form_failures"  # {field name: failed answers in a row}


def check_field(field: Field, text: Any):
    return validate(field.type, str(text), choices=field.choices or None, example=field.example)


def display_value(field: Field, value: Any) -> str:
    """How a stored (normalised) value is shown to the citizen."""
    if value is None:
        return "—"
    if value == SKIPPED:
        return "keine Angabe"
    result = check_field(field, value)
    return result.display if result.ok and result.display else str(value)


def form_data(proc: Procedure, tracker: Tracker) -> dict[str, str]:
    return {
        f.name: tracker.get_slot(f.name)
        for f in proc.fields
        if tracker.get_slot(f.name) and tracker.get_slot(f.name) != SKIPPED
    }


def summary_text(proc: Procedure, tracker: Tracker) -> str:
    lines = [f"Bitte prüfen Sie Ihre Angaben für „{proc.name}“:"]
    for f in proc.fields:
        lines.append(f"- {f.label}: {display_value(f, tracker.get_slot(f.name))}")
    return "\n".join(lines)


def summary_table(proc: Procedure, tracker: Tracker) -> dict:
    """The summary as rows (label, value) for channels that can draw a table (the web chat)."""
    return {
        "type": "summary",
        "title": f"Ihre Angaben für „{proc.name}“",
        "rows": [{"label": f.label, "value": display_value(f, tracker.get_slot(f.name))} for f in proc.fields],
    }


class CatalogueFormValidation(Action):
    procedure_id: str = ""

    def name(self) -> str:
        return f"validate_{self.procedure_id}_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue()[self.procedure_id]
        requested = tracker.get_slot("requested_slot")
        candidates = tracker.slots_to_validate()
        if requested not in candidates or candidates.get(requested) is None:
            return []
        # The slot holds the whole message (from_text); read it as a clerk would.
        text = str(candidates[requested])
        filled = {f.name: tracker.get_slot(f.name) for f in proc.fields if f.name != requested}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reading = read_message(proc, requested, text, filled, skip_intent=intent == "skip_field")
        events: list[EventType] = [SlotSet(name, value) for name, value in reading.values.items()]
        if requested not in reading.values:
            events.append(SlotSet(requested, None))

        for name in reading.corrected:
            f = proc.field(name)
            dispatcher.utter_message(
                text=f"Danke, ich habe „{f.label}“ geändert: {display_value(f, reading.values[name])}."
            )
        for name in reading.reopen:
            events.append(SlotSet(name, None))
            dispatcher.utter_message(text=f"Gut, dann fragen wir „{proc.field(name).label}“ noch einmal.")
        if reading.reopen:
            # Ask the reopened field next, then continue where we were.
            events.append(SlotSet("requested_slot", reading.reopen[0]))

        failures = dict(tracker.get_slot(FAILURES_SLOT) or {})
        field = proc.field(requested)
        answered = requested in reading.values or reading.corrected or reading.reopen
        if reading.refused_skip:
            reading.errors[requested] = f"„{field.label}“ brauche ich für den Antrag, das kann ich nicht überspringen."
        if requested in reading.errors and not answered:
            count = failures.get(requested, 0) + 1
            failures[requested] = count
            if intent == "affirm" and field.type != "yes_no" and count > FAILURES_BEFORE_HELP:
                # "ja" to "Möchten Sie weitermachen?": simply ask the question again.
                failures[requested] = FAILURES_BEFORE_HELP
            elif count % FAILURES_BEFORE_HELP == 0:
                self._explain(dispatcher, proc, field, reading.errors[requested])
            else:
                dispatcher.utter_message(text=reading.errors[requested])
        for name, error in reading.errors.items():
            if name != requested:
                dispatcher.utter_message(text=f"{proc.field(name).label}: {error}")
        for name in reading.values:
            failures.pop(name, None)
        events.append(SlotSet(FAILURES_SLOT, failures or None))
        return events

    @staticmethod
    def _explain(dispatcher: CollectingDispatcher, proc: Procedure, field: Field, error: str) -> None:
        text = f"{error}\nKurz erklärt: „{field.label}“"
        text += f" – {field.help}" if field.help else f" braucht die Behörde für „{proc.name}“."
        if field.example:
            text += f" Zum Beispiel: {field.example}."
        if not field.required:
            text += " Sie können die Frage auch mit „überspringen“ auslassen."
        text += " Möchten Sie es noch einmal versuchen?"
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": "Später weitermachen", "payload": "/save_draft"},
                {"title": "Abbrechen", "payload": "/cancel"},
            ],
        )


_QUESTION_START = re.compile(
    r"^(?:was|wie|wo|wohin|woher|wann|warum|wozu|wieso|weshalb|welche[rsnm]?|wer|wen|wem|kann|"
    r"können|muss|müssen|darf|ist|sind|gibt|geht|brauche|brauchen|kostet|hilfe)\b",
    re.IGNORECASE,
)


def looks_like_question(text: str) -> bool:
    text = text.strip()
    return "?" in text or bool(_QUESTION_START.match(text))


class ActionFormInterruption(Action):
    """A question in the middle of a form (fees, documents, "wozu brauchen Sie das?").

    Free-text answers trip the intent classifier ("Onlinehandel mit Kinderkleidung" reads as
    "geht das online?"): when the question asked is free text and the message is no question, it
    is taken as the answer. Otherwise the question is answered; the form then asks again.
    """

    def name(self) -> str:
        return "action_form_interruption"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue().by_form_name(tracker.active_loop_name or "")
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        if proc is not None and requested:
            try:
                field = proc.field(requested)
            except KeyError:
                field = None
            if field is not None and field.type == "text" and not looks_like_question(text):
                result = check_field(field, text)
                if result.ok:
                    return [SlotSet(requested, result.value)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        action = ActionExplainField() if intent in ("ask_why_field", "help") else ActionAnswerInfo()
        return await action.run(dispatcher, tracker, domain)


def register_form_validators() -> None:
    """One named subclass of ``CatalogueFormValidation`` per form in the catalogue.

    rasa-sdk finds actions by importing every module of the ``actions`` package once at start
    and registering every ``Action`` subclass that exists then (by its ``name()``); a class
    made later would never be found and Rasa's form would run without validation. So this runs
    at import, below, and is the one import-time side effect of the package: it loads the
    catalogue (which every action needs anyway). Calling it again changes nothing."""
    for proc in default_catalogue().with_forms():
        class_name = "Validate" + "".join(p.title() for p in proc.id.split("_")) + "Form"
        if class_name not in globals():
            globals()[class_name] = type(class_name, (CatalogueFormValidation,), {"procedure_id": proc.id})


register_form_validators()
