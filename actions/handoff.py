"""Handoff to staff and call-back requests (issue 19): thin adapters between the tracker, the
domain (``buergerassistent/handoff/``) and the staff desk (``staff_desk/``, reached over HTTP with
``STAFF_DESK_URL`` and ``STAFF_DESK_TOKEN``).

The offer itself is said by ``action_human_answer`` (``offer`` below) for "ich möchte mit einem
Menschen sprechen"; the button "Mit einer Person schreiben" after a second fallback in a row and
after three failed answers to one field leads there too. While the slot ``handoff`` is
``waiting`` or ``active`` the Rasa process turns every message into ``handoff_message``
(``rasa_runtime/handoff_guard.py``) and ``action_handoff_forward`` passes it to the desk.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Optional
from urllib.parse import quote

import aiohttp
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import submission_actions
from actions.feedback import ask_feedback
from buergerassistent import form_texts, handoff, language_state
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.handoff import callback, office_hours, texts
from buergerassistent.handoff import card as cards
from buergerassistent.handoff.store import default_store
from buergerassistent.settings import get_settings
from buergerassistent.submission.outbox import DELIVERED, REJECTED
from buergerassistent.validation import default_example, validate

logger = logging.getLogger(__name__)

CALLBACK_SLOTS = ("callback_name", "callback_contact", "callback_topic", "callback_consent")
FORM_ANSWER_INTENTS = ("inform", "nlu_fallback", "affirm", "deny")


def _focus(tracker: Tracker) -> Optional[Procedure]:
    catalogue = default_catalogue()
    return catalogue.by_form_name(tracker.active_loop_name or "") or catalogue.get(tracker.get_slot("procedure"))


def _paused_form(tracker: Tracker) -> Optional[str]:
    back = tracker.get_slot(handoff.RETURN_SLOT) or ""
    return back[len("form:") :] if back.startswith("form:") else None


async def _desk(path: str, payload: dict[str, Any]) -> Optional[dict[str, Any]]:
    """POST to the staff desk; None when it is not configured or does not answer."""
    s = get_settings()
    if not s.staff_desk_url or not s.staff_desk_token:
        return None
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.post(
                s.staff_desk_url.rstrip("/") + path,
                json=payload,
                headers={"Authorization": f"Bearer {s.staff_desk_token}"},
            ) as resp:
                if resp.status != 200:
                    logger.warning("staff desk answered HTTP %s", resp.status)
                    return None
                return await resp.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("staff desk not reachable: %s", type(exc).__name__)
        return None


def _hours() -> Optional[office_hours.OfficeHours]:
    """The configured office hours; None (no handoff, logged) when the setting is invalid."""
    try:
        return office_hours.configured()
    except office_hours.OfficeHoursError as exc:
        logger.error("%s", exc)
        return None


def _lang(tracker: Tracker) -> str:
    """The conversation's language (``de``, ``en``, ``ls``): every text here is said in it."""
    return form_texts.language_of(tracker.get_slot(language_state.SLOT))


def _has_answers(tracker: Tracker, proc: Optional[Procedure]) -> bool:
    return proc is not None and proc.has_form and any(tracker.get_slot(f.name) for f in proc.fields)


def offer(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """ "Ich möchte mit einem Menschen sprechen": offer the handoff when staff can be there,
    else say honestly why not, with the 115, the office and the call-back."""
    s = get_settings()
    proc = _focus(tracker)
    if handoff.is_handed_over(tracker.get_slot(handoff.SLOT)):
        return  # messages go to staff anyway (the guard); nothing to offer
    hours = _hours()
    lang = _lang(tracker)
    if not s.staff_desk_url or hours is None:
        text, buttons = texts.unavailable(proc, lang=lang)
    else:
        if hours.is_open():
            text, buttons = texts.offer(s.handoff_queue_timeout_s, _has_answers(tracker, proc), lang=lang)
        else:
            text, buttons = texts.closed(hours, proc, lang=lang)
    dispatcher.utter_message(text=text, buttons=buttons)


def _asked(tracker: Tracker) -> list[str]:
    """What the citizen asked: their messages that were not answers to the form's questions."""
    asked, in_form = [], False
    for event in tracker.events:
        kind = event.get("event")
        if kind == "active_loop":
            in_form = bool(event.get("name"))
        elif kind == "user":
            text = (event.get("text") or "").strip()
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if not text or text.startswith("/") or (in_form and intent in FORM_ANSWER_INTENTS):
                continue
            asked.append(text)
    return asked


class ActionHandoffStart(Action):
    """The citizen accepted: open a case on the staff desk, pause the form, say what happens."""

    def name(self) -> str:
        return "action_handoff_start"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = get_settings()
        proc = _focus(tracker)
        form = tracker.active_loop_name
        pause: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None)] if form else []
        resume: list[EventType] = [FollowupAction(form)] if form else []
        hours = _hours()
        lang = _lang(tracker)
        if hours is None:
            text, buttons = texts.unavailable(proc, lang=lang)
            dispatcher.utter_message(text=text, buttons=buttons)
            return [*pause, *resume]
        if not hours.is_open():
            text, buttons = texts.closed(hours, proc, lang=lang)
            dispatcher.utter_message(text=text, buttons=buttons)
            return [*pause, *resume]
        share = next(tracker.get_latest_entity_values(handoff.SHARE_ENTITY), "nein") == "ja"
        answers = {f.name: tracker.get_slot(f.name) for f in proc.fields} if proc is not None and proc.has_form else {}
        card = cards.build(
            proc,
            _asked(tracker),
            answers,
            shared=share,
            channel=tracker.get_latest_input_channel(),
            requested=tracker.get_slot("requested_slot"),
        )
        opened = await _desk("/cases", {"conversation_id": tracker.sender_id, "card": card})
        if not opened or not opened.get("case_id"):
            text, buttons = texts.unavailable(proc, lang=lang)
            dispatcher.utter_message(text=text, buttons=buttons)
            return [*pause, *resume]
        dispatcher.utter_message(
            text=texts.started(opened["case_id"], s.handoff_queue_timeout_s, lang),
            buttons=[texts.leave_button(lang)],
        )
        return [
            *pause,
            SlotSet(handoff.SLOT, handoff.WAITING),
            SlotSet("handoff_case", opened["case_id"]),
            SlotSet(handoff.RETURN_SLOT, f"form:{form}" if form else tracker.get_slot(handoff.RETURN_SLOT)),
        ]


class ActionHandoffDecline(Action):
    """ "Nein, danke" to the offer or to the call-back: the assistant goes on."""

    def name(self) -> str:
        return "action_handoff_decline"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=texts.declined(_lang(tracker)))
        if tracker.active_loop_name:
            return []  # inside a form the rule asks the same question again
        # After "nobody free" a paused form waits: it goes on now.
        return [SlotSet(handoff.RETURN_SLOT, None), *_resume(tracker)]


class ActionHandoffForward(Action):
    """A message of the citizen while handed over: to staff (or queued for them)."""

    def name(self) -> str:
        return "action_handoff_forward"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        case_id = tracker.get_slot("handoff_case")
        text = (tracker.latest_message.get("text") or "").strip()
        result = await _desk(f"/cases/{case_id}/messages", {"text": text}) if case_id and text else None
        if result is None:
            # The desk is gone: say so, and keep the message for a call-back request.
            text_, buttons = texts.unavailable(_focus(tracker), lang=_lang(tracker))
            dispatcher.utter_message(text=text_, buttons=buttons)
            return [SlotSet(handoff.SLOT, None), SlotSet("handoff_case", None), SlotSet("callback_topic", text)]
        if result.get("status") == "closed":
            dispatcher.utter_message(text=texts.ended(_paused_form(tracker) is not None, _lang(tracker)))
            return [*_end_events(), *_resume(tracker)]
        return []


def _end_events() -> list[EventType]:
    return [SlotSet(handoff.SLOT, None), SlotSet("handoff_case", None), SlotSet(handoff.RETURN_SLOT, None)]


def _resume(tracker: Tracker) -> list[EventType]:
    form = _paused_form(tracker)
    return [FollowupAction(form)] if form else []


class ActionHandoffCancel(Action):
    """ "Nicht mehr warten" before anyone took the case: close it, back to the assistant."""

    def name(self) -> str:
        return "action_handoff_cancel"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        await _desk(f"/conversations/{quote(tracker.sender_id, safe='')}/close", {})
        resumes = _paused_form(tracker) is not None
        dispatcher.utter_message(text=texts.left(resumes, _lang(tracker)))
        return [*_end_events(), *_resume(tracker)]


class ActionHandoffTaken(Action):
    def name(self) -> str:
        return "action_handoff_taken"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not handoff.is_handed_over(tracker.get_slot(handoff.SLOT)):
            return []
        dispatcher.utter_message(text=texts.taken(_lang(tracker)))
        return [SlotSet(handoff.SLOT, handoff.ACTIVE)]


class ActionStaffMessage(Action):
    def name(self) -> str:
        return "action_staff_message"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = next(tracker.get_latest_entity_values(handoff.TEXT_ENTITY), None)
        if text and tracker.get_slot(handoff.SLOT) == handoff.ACTIVE:
            dispatcher.utter_message(text=texts.staff_message(str(text), _lang(tracker)))
        return []


class ActionHandoffEnd(Action):
    """Staff handed back: the assistant continues where it was (the same form field)."""

    def name(self) -> str:
        return "action_handoff_end"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not handoff.is_handed_over(tracker.get_slot(handoff.SLOT)):
            return []
        paused = _paused_form(tracker) is not None
        dispatcher.utter_message(text=texts.ended(paused, _lang(tracker)))
        # Nothing to go back to: the talk with staff was the end of the topic, so the feedback
        # question (once per session) follows. A paused form goes on first; it asks at submission.
        return [*_end_events(), *_resume(tracker), *([] if paused else ask_feedback(dispatcher, tracker))]


class ActionHandoffTimeout(Action):
    """Nobody took the case in time: say so, name the other ways, offer a call-back; what the
    citizen wrote while waiting becomes the call-back's topic."""

    def name(self) -> str:
        return "action_handoff_timeout"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot(handoff.SLOT) != handoff.WAITING:
            return []
        kept = next(tracker.get_latest_entity_values(handoff.TEXT_ENTITY), None)
        text, buttons = texts.timed_out(
            get_settings().handoff_queue_timeout_s, _focus(tracker), kept=1 if kept else 0, lang=_lang(tracker)
        )
        dispatcher.utter_message(text=text, buttons=buttons)
        events: list[EventType] = [SlotSet(handoff.SLOT, None), SlotSet("handoff_case", None)]
        if kept:
            events.append(SlotSet("callback_topic", str(kept)))
        return events  # the paused form waits: the call-back or "Nein, danke" comes first


class ActionCallbackStart(Action):
    """ "Rückruf anfordern": pause a form if one runs, then the call-back form."""

    def name(self) -> str:
        return "action_callback_start"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = []
        form = tracker.active_loop_name
        if form and form != "callback_form":
            events += [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(handoff.RETURN_SLOT, f"form:{form}")]
        dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_start"))
        return [*events, FollowupAction("callback_form")]


def _clear_callback() -> list[EventType]:
    return [SlotSet(name, None) for name in CALLBACK_SLOTS]


class ActionSubmitCallback(Action):
    """Submit the call-back request like an application (outbox → portal backend), only with the
    citizen's consent; give the backend's case number. The staff desk is told there is one
    (a notice without personal data) and announces it to staff."""

    def name(self) -> str:
        return "action_submit_callback"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("callback_consent") != "ja":
            dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_no_consent"))
            return [*_clear_callback(), *_resume(tracker), SlotSet(handoff.RETURN_SLOT, None)]
        focus = _focus(tracker)
        data = callback.application({name: tracker.get_slot(name) for name in CALLBACK_SLOTS}, focus and focus.name)
        application_id = f"{callback.PROCEDURE_ID}-{uuid.uuid4().hex}"
        try:
            outcome = await submission_actions.submit_confirmed(
                callback.procedure(), data, application_id, tracker.sender_id
            )
        except Exception:
            logger.exception("call-back request not stored")
            dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_failed"))
            return []  # the answers stay in the slots: nothing is lost
        if outcome.state == REJECTED:
            logger.error(
                "portal backend refused a call-back request: %s",
                sorted((outcome.entry.rejection or {}).get("fields") or {}),
            )
            dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_failed"))
            return []
        case_number = outcome.entry.case_number if outcome.state == DELIVERED else None
        try:
            await asyncio.to_thread(
                default_store().note_callback, application_id, tracker.sender_id, focus and focus.name, case_number
            )
        except Exception:  # the request is safe in the outbox; the desk learns of it from there
            logger.exception("call-back notice for the staff desk not stored")
        if case_number:
            dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_saved", case_number=case_number))
        else:
            dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_pending"))
        return [*_clear_callback(), *_resume(tracker), SlotSet(handoff.RETURN_SLOT, None)]


class ActionCancelCallback(Action):
    def name(self) -> str:
        return "action_cancel_callback"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_declined"))
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *_clear_callback(),
            SlotSet(handoff.RETURN_SLOT, None),
            *_resume(tracker),
        ]


class ValidateCallbackForm(FormValidationAction):
    """The call-back form's answers, read with the German field validators."""

    def name(self) -> str:
        return "validate_callback_form"

    @staticmethod
    def _error(result: Any, field_type: str, lang: str) -> str:
        """The validator's German error in ``lang``: its problem from ``validation.yaml``, the hint
        how to answer this field type (the lint keeps both files complete)."""
        found = (
            form_texts.translate_problem(result.problem, lang)
            if lang != language_state.GERMAN and result.problem
            else None
        )
        if found is None:
            return result.error or ""
        hints = form_texts.hint_texts(lang)
        template = hints.get(field_type) or hints["default"]
        example = default_example(field_type)
        return f"{found[0]} {template.format(example=example if example.endswith('.') else example + '.')}"

    def _check(self, dispatcher, tracker: Tracker, slot: str, field_type: str, value: Any) -> dict[str, Any]:
        lang = _lang(tracker)
        with form_texts.input_language(lang):
            result = validate(field_type, value)
        if result.ok:
            return {slot: result.value}
        dispatcher.utter_message(text=self._error(result, field_type, lang))
        return {slot: None}

    def validate_callback_name(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        text = str(value or "").strip()
        parts = text.split()
        checks = [validate("name", part) for part in parts]
        if len(parts) >= 2 and all(c.ok for c in checks):
            return {"callback_name": " ".join(c.value for c in checks)}
        dispatcher.utter_message(text=texts.say(_lang(tracker), "callback_name_hint"))
        return {"callback_name": None}

    def validate_callback_contact(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        text = str(value or "").strip()
        kind = "email" if "@" in text else "phone"
        result = validate(kind, text)
        if result.ok:
            return {"callback_contact": result.display or result.value}
        lang = _lang(tracker)
        found = (
            form_texts.translate_problem(result.problem, lang)
            if lang != language_state.GERMAN and result.problem
            else None
        )
        problem = found[0] if found else (result.error if lang == language_state.GERMAN else "")
        dispatcher.utter_message(text=f"{problem} {texts.say(lang, 'callback_contact_hint')}".strip())
        return {"callback_contact": None}

    def validate_callback_topic(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._check(dispatcher, tracker, "callback_topic", "text", value)

    def validate_callback_consent(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._check(dispatcher, tracker, "callback_consent", "yes_no", value)
