"""Form validation for every transactional procedure, derived from the catalogue.

Rasa runs ``validate_<procedure>_form`` after each answer. One generic class validates with the
German field validators (``buergerassistent.validation``); a subclass per form only supplies the name.
The text of the answer is read by ``buergerassistent.repair``: it may also correct an earlier field, fill
several fields at once or skip an optional one. After ``FAILURES_BEFORE_HELP`` failed answers to
one field the assistant explains the field and asks whether to go on.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.questions import ActionAnswerInfo
from buergerassistent import form_conditions, form_questions, form_texts, language_state
from buergerassistent.catalogue import Field, Procedure, default_catalogue
from buergerassistent.handoff import office_hours as handoff_office_hours
from buergerassistent.handoff import replies as handoff_replies
from buergerassistent.handoff import texts as handoff_texts
from buergerassistent.repair import (
    SKIPPED,
    PlaceCheck,
    check_place,
    confirmation_reply,
    is_skip,
    next_open_field,
    read_message,
)
from buergerassistent.settings import get_settings
from buergerassistent.validation import validate

FAILURES_BEFORE_HELP = 3


def _bare_yes(text: str, intent: str | None, lang: str) -> bool:
    """A plain yes to "Möchten Sie es noch einmal versuchen?" (German words, or English read as affirm)."""
    return handoff_replies.bare_yes(text) or (lang != "de" and intent == "affirm" and len(text.split()) <= 3)


# "Möchten Sie … beantragen?" answered with the first answer instead of "ja" ("Erika Mustermann"):
# read as a yes plus that answer only for first fields whose validator checks plausibility (a name
# refuses sentences, questions, digits); and the value is echoed before it is stored. NLU's
# "affirm" is no reason to refuse: it reads "Jonas" as "jo"; a real yes is refused below.
FIRST_ANSWER_TYPES = frozenset({"name"})
NOT_FORM_DATA_INTENTS = frozenset({"deny", "cancel", "greet", "goodbye", "help", "skip_field"})

FAILURES_SLOT = "form_failures"  # {field name: failed answers in a row}
# Several values from one message wait here until the citizen confirms them:
# {"values": {field: value}, "ask": field asked for} or, after "Korrigieren", {"single": field}.
PENDING_SLOT = "form_pending"
# The form's "question" while values wait for confirmation (requested_slot = CONFIRM_SLOT).
CONFIRM_SLOT = "form_confirm"
FROM_OFFER = "from_offer"  # in PENDING_SLOT: the form starts with the message that answered the offer
# In PENDING_SLOT before the form: {"procedure": id, "text": the first answer} kept through the login.
OFFER_ANSWER = "offer_answer"
CONFIRM_BUTTONS = [{"title": "Ja", "payload": "Ja"}, {"title": "Korrigieren", "payload": "Korrigieren"}]


def _place_buttons(lang: str) -> list[dict[str, str]]:
    """Yes/No to "Meinen Sie „München“?": the payload is the title, read as the answer."""
    titles = (form_texts.say(lang, "place_button_yes"), form_texts.say(lang, "place_button_no"))
    return [{"title": t, "payload": t} for t in titles]


def language(tracker: Tracker) -> str:
    """The conversation's language (issue 20): ``de``, ``en`` or ``ls``."""
    return form_texts.language_of(tracker.get_slot(language_state.SLOT))


def marks_language(run):
    """Wrap an action's ``run``: in an English conversation every message it sends is marked
    ``lang: en`` (the web chat's lang attribute, so that screen readers pronounce it right)."""

    @functools.wraps(run)
    async def wrapper(self, dispatcher, tracker, domain):
        start = len(dispatcher.messages)
        events = await run(self, dispatcher, tracker, domain)
        html = language_state.HTML_LANG.get(language(tracker), "de")
        if html != "de":
            for message in dispatcher.messages[start:]:
                message.setdefault("lang", html)
        return events

    return wrapper


def confirm_buttons(lang: str) -> list[dict]:
    # The payloads stay the words the echo's reader knows; only the titles are translated.
    return [
        {"title": form_texts.say(lang, "form_button_yes"), "payload": "Ja"},
        {"title": form_texts.say(lang, "form_button_correct"), "payload": "Korrigieren"},
    ]


def check_field(field: Field, text: Any):
    return validate(field.type, str(text), choices=field.choices or None, example=field.example)


def display_value(field: Field, value: Any, proc: Procedure | None = None, lang: str = "de") -> str:
    """How a stored (normalised) value is shown to the citizen (in ``lang`` when ``proc`` is given)."""
    if proc is not None:
        return form_texts.display(proc, field, value, lang)
    if value is None:
        return "—"
    if value == SKIPPED:
        return "keine Angabe"
    result = check_field(field, value)
    return result.display if result.ok and result.display else str(value)


def _label(proc: Procedure, field: Field, lang: str) -> str:
    return form_texts.field_text(proc, field, lang).label


def form_data(proc: Procedure, tracker: Tracker) -> dict[str, str]:
    return {
        f.name: tracker.get_slot(f.name)
        for f in proc.fields
        if tracker.get_slot(f.name) and tracker.get_slot(f.name) != SKIPPED
    }


def summary_text(proc: Procedure, tracker: Tracker) -> str:
    lang = language(tracker)
    lines = [form_texts.say(lang, "form_summary_heading", name=form_texts.procedure_name(proc, lang))]
    for f in proc.fields:
        lines.append(f"- {_label(proc, f, lang)}: {display_value(f, tracker.get_slot(f.name), proc, lang)}")
    return "\n".join(lines)


def summary_table(proc: Procedure, tracker: Tracker) -> dict:
    """The summary as rows (label, value) for channels that can draw a table (the web chat)."""
    lang = language(tracker)
    return {
        "type": "summary",
        "title": form_texts.say(lang, "form_summary_title", name=form_texts.procedure_name(proc, lang)),
        "rows": [
            {"label": _label(proc, f, lang), "value": display_value(f, tracker.get_slot(f.name), proc, lang)}
            for f in proc.fields
        ],
        "lang": language_state.HTML_LANG.get(lang, "de"),
    }


def first_answer(tracker: Tracker) -> Optional[str]:
    """The message, when it answers "Möchten Sie … jetzt hier im Chat beantragen?" with form data
    for the first field instead of "ja" (then the form starts with it); None otherwise.

    Only when it can be nothing else: no yes/no, no question, no need discovery finds, and a
    valid answer to the first field of the offered form whose type checks plausibility."""
    from actions.turns import current_state
    from buergerassistent.dialogue_state import Awaiting
    from buergerassistent.procedure_finder import ANSWER, CHOICE, decide, discovery, intent_of

    if tracker.active_loop_name or current_state(tracker) is not Awaiting.START_FORM:
        return None
    proc = default_catalogue().get(tracker.get_slot("procedure"))
    if proc is None or not proc.has_form or not proc.fields or proc.fields[0].type not in FIRST_ANSWER_TYPES:
        return None
    text = " ".join((tracker.latest_message.get("text") or "").split())
    intent, confidence = intent_of(tracker.latest_message)
    if not text or text.startswith("/") or intent in NOT_FORM_DATA_INTENTS or form_questions.is_question(text):
        return None
    if validate("yes_no", text).ok:
        return None
    first = proc.fields[0]
    with form_texts.input_language(language(tracker)):
        reading = read_message(form_texts.for_reading(proc, language(tracker)), first.name, text, {})
    if reading.question or reading.errors or reading.place or first.name not in reading.filled:
        return None
    if decide(text, intent, confidence).decision in (ANSWER, CHOICE) or discovery().decide(text).kind != "unknown":
        return None  # "Reisepass" is a need, never a name
    return text


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


def _follow_ups(
    proc: Procedure, events: list[EventType], tracker: Tracker, dispatcher: CollectingDispatcher
) -> list[EventType]:
    """A deciding answer fills or reopens the questions it decides (``ask_if`` in the catalogue,
    buergerassistent/form_conditions.py): „nein“ to „Trifft einer dieser Punkte zu?“ answers each
    point „nein“, „ja“ leaves each to be asked. A point corrected to „ja“ after its list got
    „nein“ reopens the list: its other points are asked next, and the citizen is told so."""
    names = {f.name for f in proc.fields}
    changed = {e["name"]: e["value"] for e in events if e.get("event") == "slot" and e.get("name") in names}
    values = {f.name: tracker.get_slot(f.name) for f in proc.fields}
    updates, reopened = form_conditions.after_change(proc, values, changed)
    if reopened:
        dispatcher.utter_message(text=form_texts.say(language(tracker), "form_list_reopened"))
    return [SlotSet(name, value) for name, value in updates.items()]


def _items(proc: Procedure, values: dict[str, str], lang: str) -> str:
    """ "Vorname Erika, Familienname Mustermann": the values of an echo, in the form's order."""
    return ", ".join(
        f"{_label(proc, f, lang)} {display_value(f, values[f.name], proc, lang)}"
        for f in proc.fields
        if f.name in values
    )


def _answer_during_echo(proc: Procedure, about: str, text: str, intent: Optional[str], lang: str) -> str:
    """A question while the echo waits ("warum braucht ihr meine Adresse?"): answered for the
    field it names or, without one, the field asked last; a question about the procedure
    ("Was kostet das?") from the catalogue."""
    field = proc.field(about)
    answer = form_texts.answer_question(proc, field, text, intent, lang)
    return answer or form_questions.answer(proc, form_texts.in_language(proc, field, lang), text, intent)


class CatalogueFormValidation(Action):
    procedure_id: str = ""

    def name(self) -> str:
        return f"validate_{self.procedure_id}_form"

    @marks_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # The answers are read as written in the conversation's language (English dates, labels).
        with form_texts.input_language(language(tracker)):
            events = self._validate(dispatcher, tracker)
        return events + _follow_ups(default_catalogue()[self.procedure_id], events, tracker, dispatcher)

    def _validate(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        proc = default_catalogue()[self.procedure_id]
        requested = tracker.get_slot("requested_slot")
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
        pending = dict(tracker.get_slot(PENDING_SLOT) or {})
        # The first answer came instead of "ja" to the offer (first_answer): always echoed.
        from_offer = bool(pending.pop(FROM_OFFER, False))
        # Kept through a login: the latest message is the login result, not the answer.
        kept = pending.pop(OFFER_ANSWER, None) if from_offer else None
        # The slot holds the whole message (from_text); read it as a clerk would.
        answer = kept if isinstance(kept, str) else str(candidates[requested])
        filled = {f.name: tracker.get_slot(f.name) for f in proc.fields if f.name != requested}
        return self._read_answer(dispatcher, tracker, proc, requested, answer, filled, pending, from_offer)

    def _read_answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        proc: Procedure,
        requested: str,
        answer: str,
        filled: dict[str, Any],
        pending: dict,
        from_offer: bool = False,
    ) -> list[EventType]:
        """Read ``answer`` to the field ``requested`` as a clerk would (``filled``: the other
        fields' values): store it, or ask to confirm several values, or answer a question, or
        say what is wrong with it."""
        lang = language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = form_texts.as_read(proc, proc.field(requested), answer, lang)
        reading = read_message(
            form_texts.for_reading(proc, lang),
            requested,
            text,
            filled,
            skip_intent=intent == "skip_field",
            single=pending.get("single") == requested,
        )
        field = proc.field(requested)
        if reading.question:
            # Questions first: answered, nothing stored, the same field asked again.
            answer = form_texts.answer_question(proc, field, text, intent, lang)
            dispatcher.utter_message(
                text=answer or form_questions.answer(proc, form_texts.in_language(proc, field, lang), text, intent)
            )
            return [SlotSet(requested, None)]
        if reading.place is not None and pending.get("insist") != reading.place.typed:
            # "Münche" with 80331: asked, never stored as typed (nor corrected silently).
            return self._ask_place(
                dispatcher, proc, requested, reading.filled, reading.place, reading.unassigned, lang=lang
            )
        if (
            len(reading.filled) > 1
            or (from_offer and requested in reading.filled)
            or (reading.unassigned and reading.filled)
        ):
            # Several values from one message (or the first answer given instead of "ja", or a
            # value beside a part no field could take): stored only after the citizen has seen them.
            for name, error in reading.errors.items():
                dispatcher.utter_message(text=self._field_error(proc, name, error, text, lang))
            return self._ask_to_confirm(dispatcher, proc, requested, reading.filled, reading.unassigned, lang=lang)
        events: list[EventType] = [SlotSet(name, value) for name, value in reading.values.items()]
        if requested not in reading.values:
            events.append(SlotSet(requested, None))
            if from_offer:
                events.append(SlotSet(PENDING_SLOT, pending or None))
        elif pending or from_offer:
            events.append(SlotSet(PENDING_SLOT, None))

        for name in reading.corrected:
            if filled.get(name) == reading.values[name]:
                # Already so: the form reopened on the message that made the change (issue 21).
                continue
            f = proc.field(name)
            dispatcher.utter_message(
                text=form_texts.say(
                    lang,
                    "form_changed",
                    label=_label(proc, f, lang),
                    value=display_value(f, reading.values[name], proc, lang),
                )
            )
        for name in reading.reopen:
            events.append(SlotSet(name, None))
            dispatcher.utter_message(
                text=form_texts.say(lang, "form_reopen", label=_label(proc, proc.field(name), lang))
            )
        if reading.reopen:
            # Ask the reopened field next, then continue where we were.
            events.append(SlotSet("requested_slot", reading.reopen[0]))

        failures = dict(tracker.get_slot(FAILURES_SLOT) or {})
        answered = requested in reading.values or reading.corrected or reading.reopen
        refused_skip = ""
        if reading.refused_skip:
            refused_skip = form_texts.say(lang, "form_cannot_skip", label=_label(proc, field, lang))
            reading.errors[requested] = refused_skip
        if requested in reading.errors and not answered:
            count = failures.get(requested, 0) + 1
            failures[requested] = count
            if field.type != "yes_no" and count > FAILURES_BEFORE_HELP and _bare_yes(text, intent, lang):
                # "ja" to "Möchten Sie es noch einmal versuchen?": say so, with the example; the
                # form then asks the question again.
                failures[requested] = FAILURES_BEFORE_HELP
                retry = form_texts.say(lang, "form_retry")
                example = form_texts.field_text(proc, field, lang).example
                if example:
                    retry += " " + form_texts.say(lang, "form_for_example", example=example)
                dispatcher.utter_message(text=retry)
            else:
                error = refused_skip or self._error(proc, field, text, reading.errors[requested], lang)
                if count % FAILURES_BEFORE_HELP == 0:
                    self._explain(dispatcher, proc, field, error, lang)
                elif count > FAILURES_BEFORE_HELP:
                    # Still not right after the explanation: the example and a person again.
                    example = form_texts.field_text(proc, field, lang).example
                    if example and example not in error:
                        error += " " + form_texts.say(lang, "form_for_example", example=example)
                    dispatcher.utter_message(text=error, buttons=[handoff_texts.offer_button(lang)])
                else:
                    dispatcher.utter_message(text=error)
        for name, error in reading.errors.items():
            if name != requested:
                dispatcher.utter_message(text=self._field_error(proc, name, error, text, lang))
        for name in reading.values:
            failures.pop(name, None)
        events.append(SlotSet(FAILURES_SLOT, failures or None))
        return events

    @staticmethod
    def _error(proc: Procedure, field: Field, text: str, german: str, lang: str) -> str:
        """The re-prompt in the conversation's language: the validator's problem looked up."""
        return form_texts.error_text(proc, field, german, lang)

    @classmethod
    def _field_error(cls, proc: Procedure, name: str, error: str, text: str, lang: str) -> str:
        f = proc.field(name)
        return form_texts.say(
            lang, "form_field_error", label=_label(proc, f, lang), error=cls._error(proc, f, text, error, lang)
        )

    @staticmethod
    def _ask_to_confirm(
        dispatcher: CollectingDispatcher,
        proc: Procedure,
        asked: str,
        values: dict[str, str],
        unassigned: list[str],
        lead: str = "",
        lang: str = "de",
    ) -> list[EventType]:
        values = {f.name: values[f.name] for f in proc.fields if f.name in values}  # in the form's order
        text = f"{lead} {form_texts.say(lang, 'form_taken_over', items=_items(proc, values, lang))}".strip()
        if unassigned:
            quote = "“{}”" if lang == language_state.ENGLISH else "„{}“"
            parts = ", ".join(quote.format(u) for u in unassigned)
            text += " " + form_texts.say(lang, "form_unassigned", parts=parts)
        text += " " + form_texts.say(lang, "form_is_that_right")
        dispatcher.utter_message(text=text, buttons=confirm_buttons(lang))
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
        lang: str = "de",
    ) -> list[EventType]:
        """The place does not belong to the postcode: one value → "Meinen Sie „München“?";
        several → the echo shows the municipality of the postcode and says so."""
        values = {**values, place.field: place.suggested}
        belongs = form_texts.say(lang, "place_belongs", postcode=place.postcode, place=place.suggested)
        if len(values) > 1:
            replaced = form_texts.say(lang, "place_replaced", typed=place.typed, place=place.suggested)
            lead = f"{lead} {belongs} {replaced}".strip()
            return cls._ask_to_confirm(dispatcher, proc, asked, values, unassigned, lead=lead, lang=lang)
        question = form_texts.say(lang, "place_do_you_mean", place=place.suggested)
        dispatcher.utter_message(text=f"{lead} {belongs} {question}".strip(), buttons=_place_buttons(lang))
        return [
            SlotSet(asked, None),
            SlotSet(PENDING_SLOT, {"values": values, "ask": asked, "place": [place.typed, place.postcode]}),
            SlotSet("requested_slot", CONFIRM_SLOT),
        ]

    def _confirm_place(
        self, dispatcher: CollectingDispatcher, proc: Procedure, pending: dict, text: str, filled: dict, lang: str
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
            dispatcher.utter_message(text=form_texts.say(lang, "place_write_again", postcode=postcode))
            return [*events, SlotSet(PENDING_SLOT, {"single": city, "insist": typed}), SlotSet("requested_slot", city)]
        # Another answer: the place written again, or a question.
        reading = read_message(proc, city, s, filled)
        if reading.question:
            field = proc.field(city)
            reply = form_texts.answer_question(proc, field, s, None, lang)
            dispatcher.utter_message(
                text=reply or form_questions.answer(proc, form_texts.in_language(proc, field, lang), s, None)
            )
        elif reading.place is not None:
            return events + self._ask_place(
                dispatcher, proc, asked or city, reading.filled, reading.place, [], lang=lang
            )
        elif reading.values.get(city) not in (None, SKIPPED) and set(reading.values) <= {city}:
            return [*events, SlotSet(city, reading.values[city]), SlotSet(PENDING_SLOT, None)]
        lead = form_texts.say(lang, "place_not_saved")
        place = PlaceCheck(city, typed, values[city], postcode)
        return events + self._ask_place(dispatcher, proc, asked or city, {}, place, [], lead=lead, lang=lang)

    def _confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, proc: Procedure, text: str
    ) -> list[EventType]:
        """The answer to "Ich habe übernommen: … Stimmt das?"."""
        pending = tracker.get_slot(PENDING_SLOT) or {}
        lang = language(tracker)
        values = dict(pending.get("values") or {})
        asked = pending.get("ask") or (proc.fields[0].name if proc.fields else None)
        events: list[EventType] = [SlotSet(CONFIRM_SLOT, None)]
        if not values or asked is None:  # nothing waits (should not happen): go on with the form
            return [*events, SlotSet(PENDING_SLOT, None)]
        filled = {f.name: tracker.get_slot(f.name) for f in proc.fields}
        if pending.get("place"):
            return self._confirm_place(dispatcher, proc, pending, text, filled, lang)
        reply = confirmation_reply(form_texts.for_reading(proc, lang), text, values, filled)
        if reply.kind == "yes":
            return [*events, *(SlotSet(n, v) for n, v in values.items()), SlotSet(PENDING_SLOT, None)]
        if reply.kind == "next" and reply.next_field:
            # The next answer instead of "ja": the echo counts as seen; the citizen is told what
            # was saved, and the answer is read like any answer to that field (checks, place,
            # several values).
            dispatcher.utter_message(text=form_texts.say(lang, "form_echo_kept", items=_items(proc, values, lang)))
            stored = [*events, *(SlotSet(n, v) for n, v in values.items()), SlotSet(PENDING_SLOT, None)]
            others = {**{n: v for n, v in filled.items() if n != reply.next_field}, **values}
            return stored + self._read_answer(dispatcher, tracker, proc, reply.next_field, text, others, {})
        if reply.kind == "corrected":
            place = check_place(proc, reply.values, filled)
            if place is not None:
                return events + self._ask_place(
                    dispatcher,
                    proc,
                    asked,
                    reply.values,
                    place,
                    [],
                    lead=form_texts.say(lang, "place_changed"),
                    lang=lang,
                )
            return events + self._ask_to_confirm(
                dispatcher, proc, asked, reply.values, [], lead=form_texts.say(lang, "form_changed_lead"), lang=lang
            )
        if reply.kind == "no":
            first = proc.field(asked)
            dispatcher.utter_message(text=form_texts.say(lang, "form_ask_singly"))
            return [*events, SlotSet(PENDING_SLOT, {"single": first.name}), SlotSet("requested_slot", first.name)]
        lead = ""
        if reply.kind == "question":
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            dispatcher.utter_message(text=_answer_during_echo(proc, reply.next_field or asked, text, intent, lang))
            lead = form_texts.say(lang, "form_not_saved_yet")
        else:
            added = _next_answer_added(proc, text, values, filled, lang)
            if added is not None:
                return events + self._echo_with_next_answer(dispatcher, proc, asked, values, filled, added, lang)
            lead = form_texts.say(lang, "form_answer_yes_or_correct")
        return events + self._ask_to_confirm(dispatcher, proc, asked, values, [], lead=lead, lang=lang)

    @classmethod
    def _echo_with_next_answer(
        cls,
        dispatcher: CollectingDispatcher,
        proc: Procedure,
        asked: str,
        values: dict[str, str],
        filled: dict,
        added: tuple[Field, str],
        lang: str,
    ) -> list[EventType]:
        """The echo once more, with the answer to the next question added: "Mustermann" after
        "Vorname Max. Stimmt das?" is most likely the family name, but it could also be meant as a
        correction of the first name, so it is shown, not stored ("Korrigieren" asks one by one)."""
        f, value = added
        grown = {**values, f.name: value}
        label = form_texts.field_text(proc, f, lang).label
        lead = form_texts.say(lang, "form_echo_added", label=label)
        place = check_place(proc, grown, filled)
        if place is not None:
            return cls._ask_place(dispatcher, proc, asked, grown, place, [], lead=lead, lang=lang)
        return cls._ask_to_confirm(dispatcher, proc, asked, grown, [], lead=lead, lang=lang)

    @staticmethod
    def _explain(dispatcher: CollectingDispatcher, proc: Procedure, field: Field, error: str, lang: str = "de") -> None:
        texts = form_texts.field_text(proc, field, lang)
        name = form_texts.procedure_name(proc, lang)
        parts = [
            form_texts.say(lang, "form_explain_help", label=texts.label, help=texts.help)
            if texts.help
            else form_texts.say(lang, "form_explain_nohelp", label=texts.label, name=name)
        ]
        if texts.example:
            parts.append(form_texts.say(lang, "form_for_example", example=texts.example))
        if not field.required:
            parts.append(form_texts.say(lang, "form_can_skip"))
        # Issue 19: three failed answers to one field offer a person (never forced), honestly.
        parts.append(
            handoff_texts.field_offer(
                handoff_office_hours.availability(), get_settings().handoff_queue_timeout_s, lang=lang
            )
        )
        parts.append(form_texts.say(lang, "form_try_again"))
        text = f"{error}\n" + " ".join(parts)
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": form_texts.say(lang, "form_button_later"), "payload": "/save_draft"},
                {"title": form_texts.say(lang, "form_button_cancel"), "payload": "/cancel"},
                # Issue 19: three failed answers to one field offer a person (never forced).
                handoff_texts.offer_button(lang),
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

    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue().by_form_name(tracker.active_loop_name or "")
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        if proc is not None and requested:
            try:
                field = proc.field(requested)
            except KeyError:
                field = None
            lang = language(tracker)
            if field is not None and not form_questions.is_question(text):
                # "Reisepass" to "Welches Dokument ist weg?" may read as a question about
                # documents: a valid answer to the question asked is the answer.
                result = form_texts.check(proc, field, text, lang)
                if result.ok:
                    # A deciding answer settles its conditional questions here too: the form
                    # resumes without validating again.
                    events = [SlotSet(requested, result.value)]
                    return events + _follow_ups(proc, events, tracker, dispatcher)
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if field is not None:
                answer = form_texts.answer_question(proc, field, text, intent, lang)
                dispatcher.utter_message(
                    text=answer or form_questions.answer(proc, form_texts.in_language(proc, field, lang), text, intent)
                )
                return []
        pending = tracker.get_slot(PENDING_SLOT) or {}
        if proc is not None and requested == CONFIRM_SLOT and pending.get("values") and not pending.get("place"):
            with form_texts.input_language(language(tracker)):
                taken = _answer_at_the_echo(proc, tracker, pending, text, dispatcher)
            if taken is not None:
                return taken + _follow_ups(proc, taken, tracker, dispatcher)
        events = await ActionAnswerInfo().run(dispatcher, tracker, domain)
        if proc is not None and requested == CONFIRM_SLOT and pending.get("place") and pending.get("values"):
            # "Meinen Sie „München“?" still waits for its answer: ask it again after the answer.
            ((city, suggested),) = pending["values"].items()
            typed, postcode = pending["place"]
            events += CatalogueFormValidation._ask_place(
                dispatcher,
                proc,
                pending.get("ask") or city,
                {},
                PlaceCheck(city, typed, suggested, postcode),
                [],
                lang=language(tracker),
            )
        elif proc is not None and requested == CONFIRM_SLOT and pending.get("values") and pending.get("ask"):
            # The echo still waits for "Ja" / "Korrigieren": show it again after the answer.
            lang = language(tracker)
            events += CatalogueFormValidation._ask_to_confirm(
                dispatcher,
                proc,
                pending["ask"],
                pending["values"],
                [],
                lead=form_texts.say(lang, "form_still_not_saved"),
                lang=lang,
            )
            # the form must keep waiting for the answer to the echo
        return events


def _next_answer_added(
    proc: Procedure, text: str, values: dict[str, str], filled: dict, lang: str
) -> Optional[tuple[Field, str]]:
    """The next open field and its value when a reply to the echo that is neither "ja", a
    correction nor a question passes that field's own check (a name, a place, a free text:
    the fields that ``confirmation_reply`` does not take as going on by themselves)."""
    after = next_open_field(proc, {**filled, **values})
    s = " ".join(text.split())
    if after is None or after.type == "yes_no" or not s or is_skip(s) or form_questions.is_question(s):
        return None
    if s.casefold() in {str(v).casefold() for v in values.values()}:
        return None  # "Max" again after "Vorname Max. Stimmt das?" is no family name
    result = form_texts.check(proc, after, s, lang)
    if not result.ok or result.value in (None, "", SKIPPED):
        return None
    return after, result.value


def _answer_at_the_echo(
    proc: Procedure, tracker: Tracker, pending: dict, text: str, dispatcher: CollectingDispatcher
) -> Optional[list[EventType]]:
    """A message NLU took for a question while the echo waits: the next answer ("erweitert"
    read as a question about the options) keeps the echo and is stored after the field's check;
    a question naming a field ("warum braucht ihr meine Adresse?") is answered for that field.
    None: the procedure's answers take it (fees, documents …)."""
    lang = language(tracker)
    values = dict(pending["values"])
    filled = {f.name: tracker.get_slot(f.name) for f in proc.fields}
    reply = confirmation_reply(form_texts.for_reading(proc, lang), text, values, filled)
    if reply.kind == "next" and reply.next_field and not form_questions.is_question(text):
        result = form_texts.check(proc, proc.field(reply.next_field), text, lang)
        if result.ok:
            dispatcher.utter_message(text=form_texts.say(lang, "form_echo_kept", items=_items(proc, values, lang)))
            return [
                SlotSet(CONFIRM_SLOT, None),
                *(SlotSet(n, v) for n, v in values.items()),
                SlotSet(PENDING_SLOT, None),
                SlotSet(reply.next_field, result.value),
                # The form resumes without a new message: it then asks the next open field.
                SlotSet("requested_slot", None),
            ]
    if reply.kind == "question" and reply.next_field:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(text=_answer_during_echo(proc, reply.next_field, text, intent, lang))
        return CatalogueFormValidation._ask_to_confirm(
            dispatcher,
            proc,
            pending.get("ask") or next(iter(values)),
            values,
            [],
            lead=form_texts.say(lang, "form_still_not_saved"),
            lang=lang,
        )
    return None


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
