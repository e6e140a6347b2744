"""Feedback at the end of a conversation, and the markers the insights read (issue 22,
``buergerassistent/insights.py``, docs/insights.md).

``insight(kind, …)`` is the slot event an action adds to say what happened (discovery outcome,
login result, submission, feedback); the insights service reads it from Rasa's event broker.

Feedback is asked **once per session**, briefly, with buttons (numbered options on messengers):
after a submission (``action_submit_application``), when the citizen thanks or says goodbye
after an answer (``action_thanks``, ``action_goodbye``), and wherever another part ends a
conversation, e.g. a handoff to staff: chain ``FollowupAction("action_ask_feedback")`` or call
``ask_feedback(dispatcher, tracker)`` and return its events. A rating (``/rate_assistant
{"rating": "5"}``) is stored by ``action_store_feedback``; then ``feedback_form`` asks for an
optional comment ("Nein, danke" skips it), stored masked by the insights service.
"""

from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from buergerassistent import form_texts, language_state
from buergerassistent.insights import MARKER_SLOT, marker

ASKED_SLOT = "feedback_asked"
COMMENT_SLOT = "feedback_comment"
NO_COMMENT = "-"
# The texts are in the message catalogues (issue 20); the German ones are named here for callers.
QUESTION = form_texts.say("de", "feedback_question")
# Thumbs as a 1–5 scale: 5 = yes, 3 = partly, 1 = no.
RATINGS = {value: form_texts.say("de", f"feedback_rating_{value}") for value in ("5", "3", "1")}
BUTTONS = [{"title": title, "payload": f'/rate_assistant{{"rating": "{value}"}}'} for value, title in RATINGS.items()]
THANKS_FOR_RATING = form_texts.say("de", "feedback_thanks")
THANKS_FOR_COMMENT = form_texts.say("de", "feedback_comment_thanks")
NO_COMMENT_REPLY = form_texts.say("de", "feedback_no_comment")
# Intents that end a conversation's topic ("danke", "tschüss"): no comment, the citizen is done.
SKIP_INTENTS = {"deny", "cancel", "goodbye", "thanks"}


def insight(kind: str, **data: Any) -> EventType:
    """The marker event for the insights service (slot ``insights``, never read by the dialogue)."""
    return SlotSet(MARKER_SLOT, marker(kind, **data))


def _marked(lang: str) -> dict:
    """``lang`` for the web chat's lang attribute when the text is not German."""
    html = language_state.HTML_LANG.get(lang, "de")
    return {"lang": html} if html != "de" else {}


def feedback_due(tracker: Tracker) -> bool:
    return not tracker.get_slot(ASKED_SLOT)


def ask_feedback(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Ask once per session whether the chat helped (nothing when already asked)."""
    if not feedback_due(tracker):
        return []
    lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
    buttons = [
        {"title": form_texts.say(lang, f"feedback_rating_{value}"), "payload": button["payload"]}
        for value, button in zip(RATINGS, BUTTONS, strict=True)
    ]
    dispatcher.utter_message(text=form_texts.say(lang, "feedback_question"), buttons=buttons, **_marked(lang))
    return [SlotSet(ASKED_SLOT, True)]


def _answered_something(tracker: Tracker) -> bool:
    """Whether this session presented a procedure or took an application (an answer to rate)."""
    return bool(tracker.get_slot("procedure") or tracker.get_slot("case_number"))


class ActionAskFeedback(Action):
    """The hook for other parts (e.g. after a handoff): asks once, then waits for the citizen."""

    def name(self) -> str:
        return "action_ask_feedback"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # Reached through FollowupAction, which Rasa's rules do not see: end the turn here.
        return [*ask_feedback(dispatcher, tracker), FollowupAction("action_listen")]


class ActionThanks(Action):
    """ "Danke" after an answer: "Gern geschehen" and, once, the feedback question."""

    def name(self) -> str:
        return "action_thanks"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if _answered_something(tracker) and feedback_due(tracker):
            lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
            dispatcher.utter_message(text=form_texts.say(lang, "feedback_welcome"))
            return ask_feedback(dispatcher, tracker)
        dispatcher.utter_message(response="utter_thanks")
        return []


class ActionGoodbye(Action):
    """ "Tschüss": the goodbye and, after an answer, once the feedback question."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_goodbye")
        if _answered_something(tracker):
            return ask_feedback(dispatcher, tracker)
        return []


def rating_of(tracker: Tracker) -> Optional[str]:
    value = next(tracker.get_latest_entity_values("rating"), None)
    value = str(value).strip() if value is not None else None
    return value if value in {"1", "2", "3", "4", "5"} else None


class ActionStoreFeedback(Action):
    """A rating button: stored as a marker; the feedback form then offers the comment."""

    def name(self) -> str:
        return "action_store_feedback"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        rating = rating_of(tracker)
        if rating is None:
            dispatcher.utter_message(text="Bitte wählen Sie eine der Antworten unter der Frage.")
            return []
        lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
        dispatcher.utter_message(text=form_texts.say(lang, "feedback_thanks"), **_marked(lang))
        return [insight("feedback", rating=int(rating)), SlotSet(ASKED_SLOT, True), SlotSet(COMMENT_SLOT, None)]


class ValidateFeedbackForm(FormValidationAction):
    """The optional comment: any text; "Nein, danke" (and "danke", "tschüss") means none."""

    def name(self) -> str:
        return "validate_feedback_form"

    async def validate_feedback_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = str(value or "").strip()
        if intent == "rate_assistant":
            # The rating button that opened the form is not the comment: ask for it.
            return {COMMENT_SLOT: None}
        if intent in SKIP_INTENTS or not text or text.startswith("/"):
            return {COMMENT_SLOT: NO_COMMENT}
        return {COMMENT_SLOT: text[:500]}


class ActionStoreFeedbackComment(Action):
    def name(self) -> str:
        return "action_store_feedback_comment"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        comment = tracker.get_slot(COMMENT_SLOT)
        lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
        if not comment or comment == NO_COMMENT:
            dispatcher.utter_message(text=form_texts.say(lang, "feedback_no_comment"), **_marked(lang))
            return [SlotSet(COMMENT_SLOT, None)]
        dispatcher.utter_message(text=form_texts.say(lang, "feedback_comment_thanks"), **_marked(lang))
        # The comment leaves the tracker only as a marker; the insights service masks it.
        return [insight("feedback", comment=comment), SlotSet(COMMENT_SLOT, None)]
