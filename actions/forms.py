"""Form validation for every transactional procedure, derived from the catalogue.

Rasa runs ``validate_<procedure>_form`` after each answer. One generic class validates with the
German field validators (``actions.validation``); a subclass per form only supplies the name.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalogue import Field, Procedure, default_catalogue
from actions.validation import validate


def check_field(field: Field, text: Any):
    return validate(field.type, str(text), choices=field.choices or None, example=field.example)


def display_value(field: Field, value: Any) -> str:
    """How a stored (normalised) value is shown to the citizen."""
    if value is None:
        return "—"
    result = check_field(field, value)
    return result.display if result.ok and result.display else str(value)


def form_data(proc: Procedure, tracker: Tracker) -> dict[str, str]:
    return {f.name: tracker.get_slot(f.name) for f in proc.fields if tracker.get_slot(f.name)}


def summary_text(proc: Procedure, tracker: Tracker) -> str:
    lines = [f"Bitte prüfen Sie Ihre Angaben für „{proc.name}“:"]
    for f in proc.fields:
        lines.append(f"- {f.label}: {display_value(f, tracker.get_slot(f.name))}")
    return "\n".join(lines)


class CatalogueFormValidation(Action):
    procedure_id: str = ""

    def name(self) -> str:
        return f"validate_{self.procedure_id}_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        proc = default_catalogue()[self.procedure_id]
        events: list[EventType] = []
        for slot_name, value in tracker.slots_to_validate().items():
            try:
                field = proc.field(slot_name)
            except KeyError:
                continue
            if value is None:
                continue
            result = check_field(field, value)
            if result.ok:
                events.append(SlotSet(slot_name, result.value))
            else:
                dispatcher.utter_message(text=result.error)
                events.append(SlotSet(slot_name, None))
        return events


def _register_form_validators() -> None:
    # One named subclass per form: rasa-sdk registers every Action subclass by its name().
    for proc in default_catalogue().with_forms():
        class_name = "Validate" + "".join(p.title() for p in proc.id.split("_")) + "Form"
        globals()[class_name] = type(class_name, (CatalogueFormValidation,), {"procedure_id": proc.id})


_register_form_validators()
