"""Form validation for every transactional procedure, derived from the catalogue.

Rasa runs ``validate_<procedure>_form`` after each answer. One generic class validates with the
German field validators (``buergerassistent.validation``); a subclass per form only supplies the name.
The text of the answer is read by ``buergerassistent.repair``: it may also correct an earlier field, fill
several fields at once or skip an optional one. After ``FAILURES_BEFORE_HELP`` failed answers to
one field the assistant explains the field and asks whether to go on.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.questions import ActionAnswerInfo
from buergerassistent import form_questions
from buergerassistent.catalogue import Field, Procedure, default_catalogue
from buergerassistent.handoff import office_hours as handoff_office_hours
from buergerassistent.handoff import replies as handoff_replies
from buergerassistent.handoff import texts as handoff_texts
from buergerassistent.repair import SKIPPED, PlaceCheck, check_place, confirmation_reply, read_message
from buergerassistent.settings import get_settings
from buergerassistent.validation import validate

FAILURES_BEFORE_HELP = 3
FAILURES_SLOT = "form_failures"  # {field name: failed answers in a row}
# Several values from one message wait here until the citizen confirms them:
# {"values": {field: value}, "ask": field asked for} or, after "Korrigieren", {"single": field}.
PENDING_SLOT = "form_pending"
# The form's "question" while values wait for confirmation (requested_slot = CONFIRM_SLOT).
CONFIRM_SLOT = "form_confirm"
CONFIRM_BUTTONS = [{"title": "Ja", "payload": "Ja"}, {"title": "Korrigieren", "payload": "Korrigieren"}]
PLACE_BUTTONS = [{"title": "Ja", "payload": "Ja"}, {"title": "Nein", "payload": "Nein"}]


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


def _answers_the_form(tracker: Tracker, form_name: str) -> bool:
    """True when the form runs on a new message (not when it resumes after an answered question).

    Walks back over the events: the citizen's message comes before any other action than the
    slot extraction and the form itself."""
    # Rasa inserts an ActionExecuted of the form before the events it sends to the validation.
    skip = {"action_extract_slots", "action_listen", form_name}
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") not in skip:
            return False
    return True


class CatalogueFormValidation(Action):
    procedure_id: str = ""

    def name(self) -> str:
        return f"validate_{self.procedure_id}_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue()[self.procedure_id]
        requested = tracker.get_slot("requested_slot")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if requested == CONFIRM_SLOT:
            if not _answers_the_form(tracker, proc.form_name):
                # The form resumes after an answered question: keep waiting for "Ja"/"Korrigieren".
                return [SlotSet("requested_slot", CONFIRM_SLOT)]
            # No slot mapping fills this "question" (Rasa allows mappings only for the form's own
            # fields): the answer is the message itself.
            return self._confirm(dispatcher, tracker, proc, tracker.latest_message.get("text") or "")
        candidates = tracker.slots_to_validate()
        if requested not in candidates or candidates.get(requested) is None:
            return []
        # The slot holds the whole message (from_text); read it as a clerk would.
        text = str(candidates[requested])
        pending = tracker.get_slot(PENDING_SLOT) or {}
        filled = {f.name: tracker.get_slot(f.name) for f in proc.fields if f.name != requested}
        reading = read_message(
            proc, requested, text, filled, skip_intent=intent == "skip_field", single=pending.get("single") == requested
        )
        field = proc.field(requested)
        if reading.question:
            # Questions first: answered, nothing stored, the same field asked again.
            dispatcher.utter_message(text=form_questions.answer(proc, field, text, intent))
            return [SlotSet(requested, None)]
        if reading.place is not None and pending.get("insist") != reading.place.typed:
            # "Münche" with 80331: asked, never stored as typed (nor corrected silently).
            return self._ask_place(dispatcher, proc, requested, reading.filled, reading.place, reading.unassigned)
        if len(reading.filled) > 1:
            # Several values from one message: stored only after the citizen has seen them.
            for name, error in reading.errors.items():
                dispatcher.utter_message(text=f"{proc.field(name).label}: {error}")
            return self._ask_to_confirm(dispatcher, proc, requested, reading.filled, reading.unassigned)
        events: list[EventType] = [SlotSet(name, value) for name, value in reading.values.items()]
        if requested not in reading.values:
            events.append(SlotSet(requested, None))
        elif pending:
            events.append(SlotSet(PENDING_SLOT, None))

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
        answered = requested in reading.values or reading.corrected or reading.reopen
        if reading.refused_skip:
            reading.errors[requested] = f"„{field.label}“ brauche ich für den Antrag, das kann ich nicht überspringen."
        if requested in reading.errors and not answered:
            count = failures.get(requested, 0) + 1
            failures[requested] = count
            if field.type != "yes_no" and count > FAILURES_BEFORE_HELP and handoff_replies.bare_yes(text):
                # "ja" to "Möchten Sie es noch einmal versuchen?": say so, with the example; the
                # form then asks the question again.
                failures[requested] = FAILURES_BEFORE_HELP
                retry = handoff_texts.RETRY_FIELD
                dispatcher.utter_message(text=retry + (f" Zum Beispiel: {field.example}." if field.example else ""))
            elif count % FAILURES_BEFORE_HELP == 0:
                self._explain(dispatcher, proc, field, reading.errors[requested])
            elif count > FAILURES_BEFORE_HELP:
                # Still not right after the explanation: the example and a person again.
                error = reading.errors[requested]
                if field.example and field.example not in error:
                    error += f" Zum Beispiel: {field.example}."
                dispatcher.utter_message(text=error, buttons=[handoff_texts.OFFER_BUTTON])
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
    def _ask_to_confirm(
        dispatcher: CollectingDispatcher,
        proc: Procedure,
        asked: str,
        values: dict[str, str],
        unassigned: list[str],
        lead: str = "",
    ) -> list[EventType]:
        values = {f.name: values[f.name] for f in proc.fields if f.name in values}  # in the form's order
        items = ", ".join(f"{proc.field(n).label} {display_value(proc.field(n), v)}" for n, v in values.items())
        text = f"{lead} Ich habe übernommen: {items}.".strip()
        if unassigned:
            parts = ", ".join(f"„{u}“" for u in unassigned)
            text += f" Nicht sicher zuordnen konnte ich: {parts}. Danach frage ich gleich noch einmal."
        text += " Stimmt das?"
        dispatcher.utter_message(text=text, buttons=CONFIRM_BUTTONS)
        return [
            SlotSet(asked, None),
            SlotSet(PENDING_SLOT, {"values": values, "ask": asked}),
            SlotSet("requested_slot", CONFIRM_SLOT),
        ]

    @classmethod
    def _ask_place(
        cls,
        dispatcher: CollectingDispatcher,
        proc: Procedure,
        asked: str,
        values: dict[str, str],
        place: PlaceCheck,
        unassigned: list[str],
        lead: str = "",
    ) -> list[EventType]:
        """The place does not belong to the postcode: one value → "Meinen Sie „München“?";
        several → the echo shows the municipality of the postcode and says so."""
        values = {**values, place.field: place.suggested}
        belongs = f"Die Postleitzahl {place.postcode} gehört zu {place.suggested}."
        if len(values) > 1:
            lead = f"{lead} {belongs} Statt „{place.typed}“ habe ich „{place.suggested}“ eingetragen.".strip()
            return cls._ask_to_confirm(dispatcher, proc, asked, values, unassigned, lead=lead)
        dispatcher.utter_message(
            text=f"{lead} {belongs} Meinen Sie „{place.suggested}“?".strip(), buttons=PLACE_BUTTONS
        )
        return [
            SlotSet(asked, None),
            SlotSet(PENDING_SLOT, {"values": values, "ask": asked, "place": [place.typed, place.postcode]}),
            SlotSet("requested_slot", CONFIRM_SLOT),
        ]

    def _confirm_place(
        self, dispatcher: CollectingDispatcher, proc: Procedure, pending: dict, text: str, filled: dict
    ) -> list[EventType]:
        """The answer to "Meinen Sie „München“?" (a place that does not fit the postcode)."""
        values = dict(pending.get("values") or {})
        asked = pending.get("ask")
        typed, postcode = pending["place"]
        city = next(iter(values))
        events: list[EventType] = [SlotSet(CONFIRM_SLOT, None)]
        s = " ".join(text.split())
        answer = validate("yes_no", s)
        if answer.ok and answer.value == "ja":
            return [*events, *(SlotSet(n, v) for n, v in values.items()), SlotSet(PENDING_SLOT, None)]
        if (answer.ok and answer.value == "nein") or s.casefold().startswith(("korrigieren", "nein")):
            dispatcher.utter_message(
                text=f"Gut, dann schreiben Sie den Ort bitte noch einmal. Wenn die Postleitzahl {postcode} nicht "
                "stimmt, schreiben Sie zum Beispiel: „die PLZ ist 80333“."
            )
            return [*events, SlotSet(PENDING_SLOT, {"single": city, "insist": typed}), SlotSet("requested_slot", city)]
        # Another answer: the place written again, or a question.
        reading = read_message(proc, city, s, filled)
        if reading.question:
            dispatcher.utter_message(text=form_questions.answer(proc, proc.field(city), s, None))
        elif reading.place is not None:
            return events + self._ask_place(dispatcher, proc, asked or city, reading.filled, reading.place, [])
        elif reading.values.get(city) not in (None, SKIPPED) and set(reading.values) <= {city}:
            return [*events, SlotSet(city, reading.values[city]), SlotSet(PENDING_SLOT, None)]
        lead = "Ich habe den Ort noch nicht gespeichert."
        place = PlaceCheck(city, typed, values[city], postcode)
        return events + self._ask_place(dispatcher, proc, asked or city, {}, place, [], lead=lead)

    def _confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, proc: Procedure, text: str
    ) -> list[EventType]:
        """The answer to "Ich habe übernommen: … Stimmt das?"."""
        pending = tracker.get_slot(PENDING_SLOT) or {}
        values = dict(pending.get("values") or {})
        asked = pending.get("ask") or (proc.fields[0].name if proc.fields else None)
        events: list[EventType] = [SlotSet(CONFIRM_SLOT, None)]
        if not values or asked is None:  # nothing waits (should not happen): go on with the form
            return [*events, SlotSet(PENDING_SLOT, None)]
        filled = {f.name: tracker.get_slot(f.name) for f in proc.fields}
        if pending.get("place"):
            return self._confirm_place(dispatcher, proc, pending, text, filled)
        reply = confirmation_reply(proc, text, values, filled)
        if reply.kind == "yes":
            return [*events, *(SlotSet(n, v) for n, v in values.items()), SlotSet(PENDING_SLOT, None)]
        if reply.kind == "corrected":
            place = check_place(proc, reply.values, filled)
            if place is not None:
                return events + self._ask_place(
                    dispatcher, proc, asked, reply.values, place, [], lead="Danke, ich habe es geändert."
                )
            return events + self._ask_to_confirm(
                dispatcher, proc, asked, reply.values, [], lead="Danke, ich habe es geändert."
            )
        if reply.kind == "no":
            first = proc.field(asked)
            dispatcher.utter_message(text="Gut, dann frage ich einzeln nach. Nichts davon ist gespeichert.")
            return [*events, SlotSet(PENDING_SLOT, {"single": first.name}), SlotSet("requested_slot", first.name)]
        lead = ""
        if reply.kind == "question":
            topic = form_questions.procedure_topic(text)
            if topic is not None:  # "Was kostet das?": answered from the catalogue
                dispatcher.utter_message(text=form_questions.answers.ANSWERS_BY_INTENT[topic](proc))
            lead = "Ich habe Ihre Angaben noch nicht gespeichert."
        else:
            lead = "Bitte antworten Sie mit „Ja“ oder tippen Sie auf „Korrigieren“."
        return events + self._ask_to_confirm(dispatcher, proc, asked, values, [], lead=lead)

    @staticmethod
    def _explain(dispatcher: CollectingDispatcher, proc: Procedure, field: Field, error: str) -> None:
        text = f"{error}\nKurz erklärt: „{field.label}“"
        text += f" – {field.help}" if field.help else f" braucht die Behörde für „{proc.name}“."
        if field.example:
            text += f" Zum Beispiel: {field.example}."
        if not field.required:
            text += " Sie können die Frage auch mit „überspringen“ auslassen."
        # Issue 19: three failed answers to one field offer a person (never forced), honestly.
        text += " " + handoff_texts.field_offer(
            handoff_office_hours.availability(), get_settings().handoff_queue_timeout_s
        )
        text += " Möchten Sie es noch einmal versuchen?"
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": "Später weitermachen", "payload": "/save_draft"},
                {"title": "Abbrechen", "payload": "/cancel"},
                # Issue 19: three failed answers to one field offer a person (never forced).
                handoff_texts.OFFER_BUTTON,
            ],
        )


class ActionFormInterruption(Action):
    """A question in the middle of a form (fees, documents, "wozu brauchen Sie das?").

    Answers trip the intent classifier ("Onlinehandel mit Kinderkleidung" reads as "geht das
    online?", "Reisepass" as a question about documents): when the message is no question and a
    valid answer to the field asked, it is taken as the answer. Otherwise the question is answered; the form then asks again.
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
            if field is not None and not form_questions.is_question(text):
                # "Reisepass" to "Welches Dokument ist weg?" may read as a question about
                # documents: a valid answer to the question asked is the answer.
                result = check_field(field, text)
                if result.ok:
                    return [SlotSet(requested, result.value)]
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if field is not None:
                dispatcher.utter_message(text=form_questions.answer(proc, field, text, intent))
                return []
        events = await ActionAnswerInfo().run(dispatcher, tracker, domain)
        pending = tracker.get_slot(PENDING_SLOT) or {}
        if proc is not None and requested == CONFIRM_SLOT and pending.get("place") and pending.get("values"):
            # "Meinen Sie „München“?" still waits for its answer: ask it again after the answer.
            ((city, suggested),) = pending["values"].items()
            typed, postcode = pending["place"]
            events += CatalogueFormValidation._ask_place(
                dispatcher, proc, pending.get("ask") or city, {}, PlaceCheck(city, typed, suggested, postcode), []
            )
        elif proc is not None and requested == CONFIRM_SLOT and pending.get("values") and pending.get("ask"):
            # The echo still waits for "Ja" / "Korrigieren": show it again after the answer.
            events += CatalogueFormValidation._ask_to_confirm(
                dispatcher, proc, pending["ask"], pending["values"], [], lead="Noch nicht gespeichert."
            )
            # the form must keep waiting for the answer to the echo
        return events


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
