"""The Rasa actions of drafts ("später weitermachen"): save, offer, resume, discard. The store is
``buergerassistent/drafts.py``."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.turns import current_state, ends_turn, set_awaiting
from buergerassistent import form_texts, language_state, translations
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.dialogue_state import Awaiting
from buergerassistent.drafts import Draft, account_of, default_store, max_age_seconds, progress

logger = logging.getLogger(__name__)


# The conversation's language is kept with the draft (no field is named so): the offer to go on,
# in a new session whose slots start empty, comes in the language the citizen left in.
LANGUAGE_KEY = "_language"


def _lang(tracker: Tracker) -> str:
    return form_texts.language_of(tracker.get_slot(language_state.SLOT))


def _answers(proc: Procedure, tracker: Tracker) -> dict[str, Any]:
    return {f.name: tracker.get_slot(f.name) for f in proc.fields if tracker.get_slot(f.name) is not None}


def _draft_offer(proc: Procedure, draft: Draft, lang: str) -> str:
    done, total = progress(proc, draft.data)
    when = translations.message(lang, "draft_date", d=datetime.date.fromtimestamp(draft.updated_at))
    name = form_texts.procedure_name(proc, lang)
    return form_texts.say(lang, "draft_offer", date=when, name=name, done=done, total=total)


def offer_draft(dispatcher: CollectingDispatcher, conversation_id: str, language: str = "") -> list[EventType]:
    """Offer the citizen's draft, in ``language`` (the conversation's, when the citizen asked for
    it in English or Leichte Sprache) or else in the language the draft was saved in."""
    draft = default_store().find(conversation_id, account_of(conversation_id))
    proc = default_catalogue().get(draft.procedure) if draft else None
    if draft is None or proc is None or not proc.has_form:
        return []
    lang = form_texts.language_of(
        language if language and language != language_state.GERMAN else draft.data.get(LANGUAGE_KEY)
    )
    dispatcher.utter_message(
        text=_draft_offer(proc, draft, lang),
        buttons=[
            {"title": form_texts.say(lang, "draft_button_resume"), "payload": "/affirm"},
            {"title": form_texts.say(lang, "draft_button_no"), "payload": "/deny"},
        ],
    )
    events: list[EventType] = [SlotSet("procedure", proc.id), set_awaiting(Awaiting.RESUME_DRAFT)]
    if lang != language_state.GERMAN:
        # The offer is in the citizen's language; a German message switches back as usual.
        events += [SlotSet(language_state.SLOT, lang), SlotSet(language_state.SOURCE_SLOT, "detected")]
    return events


class ActionSaveDraft(Action):
    """ "später weitermachen": store the answers so far, end the form."""

    def name(self) -> str:
        return "action_save_draft"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue().by_form_name(tracker.active_loop_name or "")
        lang = _lang(tracker)
        state = current_state(tracker)
        if proc is None and state is not None and (state.has_application or state is Awaiting.CONFIRM_REQUEST):
            proc = default_catalogue().get(tracker.get_slot("procedure"))
        if proc is None or not proc.has_form:
            dispatcher.utter_message(text=form_texts.say(lang, "draft_nothing_to_save"))
            return []
        account = account_of(tracker.sender_id)
        keep_language = {LANGUAGE_KEY: lang} if lang != language_state.GERMAN else {}
        default_store().save(tracker.sender_id, account, proc.id, {**_answers(proc, tracker), **keep_language})
        logger.info("draft saved for %s", proc.id)
        where = form_texts.say(lang, "draft_where_account" if account else "draft_where_chat")
        dispatcher.utter_message(
            text=form_texts.say(
                lang,
                "draft_saved",
                name=form_texts.procedure_name(proc, lang),
                where=where,
                days=int(max_age_seconds() // 86400),
            )
        )
        events: list[EventType] = []
        if tracker.active_loop_name:
            events.append(ActiveLoop(None))
        return events + [
            SlotSet("requested_slot", None),
            set_awaiting(None),
            SlotSet("application_id", None),
            *[SlotSet(f.name, None) for f in proc.fields],
        ]


class ActionResumeDraft(Action):
    """Restore a draft's answers and continue its form at the first open question."""

    def name(self) -> str:
        return "action_resume_draft"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        account = account_of(tracker.sender_id)
        store = default_store()
        draft = store.find(tracker.sender_id, account)
        proc = default_catalogue().get(draft.procedure) if draft else None
        if draft is None or proc is None:
            dispatcher.utter_message(text=form_texts.say(_lang(tracker), "draft_not_found"))
            return [set_awaiting(None)]
        # The answers now live in the conversation again; "später weitermachen" saves anew.
        store.delete(tracker.sender_id, account)
        lang = _lang(tracker)
        dispatcher.utter_message(text=form_texts.say(lang, "draft_resumed", name=form_texts.procedure_name(proc, lang)))
        values = {f.name: draft.data.get(f.name) for f in proc.fields}
        return [
            SlotSet("procedure", proc.id),
            set_awaiting(None),
            SlotSet("application_id", None),
            *[SlotSet(name, value) for name, value in values.items()],
            FollowupAction(proc.form_name),
        ]


def discard_draft(conversation_id: str) -> bool:
    """Delete the citizen's draft; True when there was one."""
    store = default_store()
    account = account_of(conversation_id)
    if store.find(conversation_id, account) is None:
        return False
    store.delete(conversation_id, account)
    return True


class ActionSessionStart(Action):
    """Rasa's session start, plus the offer to continue a saved draft."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        try:
            events += offer_draft(dispatcher, tracker.sender_id)
        except Exception:  # a broken draft store must not block the conversation
            logger.exception("could not look up drafts")
        events.append(ActionExecuted("action_listen"))
        return events
