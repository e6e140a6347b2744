"""Context across turns on the Rasa side: presenting a procedure (and remembering the other
candidates), replies to an offered choice, two needs in one message, "nein, das meine ich nicht",
and "ich möchte weitermachen" (a saved draft offered again). What a message means is decided in
``buergerassistent/conversation_context.py``; these functions read and write the slots:

``procedure``           the procedure in focus
``offered_procedures``  the procedures just offered as a choice (state ``choose_procedure``)
``alternatives``        further candidates of the same discovery, for "nein, das meine ich nicht"
``pending_needs``       needs of the same message still to be offered, in order
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.drafts import offer_draft
from actions.questions import offer_choice
from actions.turns import current_state, ends_turn, set_awaiting
from buergerassistent import answers, form_texts, language_state, translations
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.conversation_context import (
    Option,
    aspect_of,
    follow_up_target,
    is_rejection,
    match_choice,
    meant_after_offer,
    named_procedures,
    question_topic,
    refers_back,
    together_with,
    what_is_meant,
)
from buergerassistent.dialogue_state import Answer, Awaiting
from buergerassistent.discovery import Decision
from buergerassistent.procedure_finder import discovery

logger = logging.getLogger(__name__)

YES_NO_BUTTONS = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}]
COUNT_WORDS = {2: "zwei", 3: "drei"}
CLARIFY = (
    "Entschuldigung, da habe ich Sie falsch verstanden. Worum geht es genau? Beschreiben Sie es bitte "
    "mit anderen Worten, zum Beispiel „Ich bin umgezogen“, „Mein Ausweis ist abgelaufen“ oder "
    "„Ich habe ein Auto gekauft“."
)
CLARIFY_AGAIN = "Schreiben Sie mir bitte in einem Satz, worum es geht. " + answers.UNKNOWN_HINT


def _ids(value: Any) -> list[str]:
    catalogue = default_catalogue()
    return [i for i in (value or []) if isinstance(i, str) and i in catalogue]


def _offer_form(dispatcher: CollectingDispatcher, proc: Procedure) -> list[EventType]:
    dispatcher.utter_message(text=f"Möchten Sie „{proc.name}“ jetzt hier im Chat beantragen?", buttons=YES_NO_BUTTONS)
    return [SlotSet("procedure", proc.id), set_awaiting(Awaiting.START_FORM)]


def present_procedure(
    dispatcher: CollectingDispatcher,
    proc: Procedure,
    alternatives: Optional[Sequence[str]] = None,
    question: str = "",
    language: Optional[str] = None,
) -> list[EventType]:
    """What the procedure is, and the offer to apply here where it has a form. ``alternatives``:
    the other candidates of the discovery that found it (None: leave the slot as it is).
    ``question``: the citizen's message; when it asks something specific ("Wo melde ich mein
    Gewerbe ab?"), that is answered first (unless the overview already says it in full)."""
    topic = question_topic(question)
    if topic in answers.ANSWERS_BY_INTENT and not answers.shown_in_overview(proc, topic):
        dispatcher.utter_message(text=answers.ANSWERS_BY_INTENT[topic](proc))
    # In Leichte Sprache the plain description instead (issue 20, catalogue/leichte_sprache/);
    # documents and fees follow when asked.
    plain = translations.plain_overview(proc) if language == language_state.PLAIN else None
    dispatcher.utter_message(text=plain or answers.with_where_to_ask(proc, answers.overview(proc)))
    remember: list[EventType] = [SlotSet("offered_procedures", None)]
    if alternatives is not None:
        remember.append(SlotSet("alternatives", [a for a in alternatives if a != proc.id] or None))
    if proc.has_form:
        return remember + _offer_form(dispatcher, proc)
    if proc.links:
        dispatcher.utter_message(text="Mehr dazu: " + ", ".join(f"[{link.title}]({link.url})" for link in proc.links))
    return remember + [SlotSet("procedure", proc.id), set_awaiting(None)]


# --------------------------------------------------------------------------- follow-ups


def follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, decision: Decision) -> Optional[list[EventType]]:
    """A follow-up about the procedure in focus that NLU did not read as a question about it
    ("und wie lange dauert das?", "geht das auch per Post?"): answered for that procedure, never
    for another one a word of it resembles. None when the message is not such a follow-up."""
    focus = default_catalogue().get(tracker.get_slot("procedure"))
    text = tracker.latest_message.get("text") or ""
    aspect = aspect_of(text)
    if focus is None or not (refers_back(text) or aspect):
        return None
    catalogue = default_catalogue()
    if focus.id in named_procedures(text, discovery(), catalogue):
        return None  # the procedure named again: presented again by discovery
    if follow_up_target(text, focus.id, decision, discovery(), catalogue).kind != "focus":
        return None
    answer = answers.ANSWERS_BY_INTENT.get(aspect or "")
    if answer is not None:
        dispatcher.utter_message(text=answer(focus))
    else:
        # No fact for this question: what the catalogue knows, and where to ask.
        dispatcher.utter_message(text=f"Zu „{focus.name}“ weiß ich Folgendes:\n{answers.overview(focus)}")
        dispatcher.utter_message(text=answers.where(focus))
        if current_state(tracker) is Awaiting.START_FORM:
            return _offer_form(dispatcher, focus)  # the open question, asked again
    return []


# --------------------------------------------------------------------------- two needs


def present_needs(dispatcher: CollectingDispatcher, ids: Sequence[str]) -> list[EventType]:
    """ "Sie haben zwei Anliegen: … Wir beginnen mit …; danach …", then the first one. A first
    need without a form is only information: the next one follows at once."""
    catalogue = default_catalogue()
    procs = [catalogue[i] for i in ids]
    names = [f"„{p.name}“" for p in procs]
    listed = ", ".join(names[:-1]) + " und " + names[-1]
    then = ", ".join(names[1:-1]) + " und " + names[-1] if len(names) > 2 else names[1]
    dispatcher.utter_message(
        text=f"Sie haben {COUNT_WORDS.get(len(procs), len(procs))} Anliegen: {listed}. "
        f"Wir beginnen mit {names[0]}; danach kümmern wir uns um {then}."
    )
    events = present_procedure(dispatcher, procs[0], alternatives=[])
    pending = [p.id for p in procs[1:]]
    while pending and not procs[0].has_form:
        procs = [catalogue[i] for i in pending]
        dispatcher.utter_message(text=f"Nun zu Ihrem nächsten Anliegen: „{procs[0].name}“.")
        events += present_procedure(dispatcher, procs[0], alternatives=[])
        pending = pending[1:]
    return events + [SlotSet("pending_needs", pending or None)]


def anything_else(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """After a need is finished or declined: the next need of the same message, if one is
    waiting; otherwise "Kann ich sonst noch etwas für Sie tun?". Put these events last."""
    pending = _ids(tracker.get_slot("pending_needs"))
    if not pending:
        dispatcher.utter_message(response="utter_anything_else")
        return []
    events: list[EventType] = []
    while pending:
        # A need without a form is only information: the next one follows at once.
        proc = default_catalogue()[pending.pop(0)]
        dispatcher.utter_message(text=f"Nun zu Ihrem nächsten Anliegen: „{proc.name}“.")
        events += present_procedure(dispatcher, proc, alternatives=[])
        if proc.has_form:
            break
    return [SlotSet("pending_needs", pending or None), *events]


# --------------------------------------------------------------------------- choices


def offered_options(tracker: Tracker) -> list[Option]:
    catalogue = default_catalogue()
    return [Option(i, catalogue[i].name) for i in _ids(tracker.get_slot("offered_procedures"))]


def choose(dispatcher: CollectingDispatcher, tracker: Tracker, proc_id: str) -> list[EventType]:
    """The citizen chose ``proc_id``: present it; the other offered ones and the remaining
    candidates stay as alternatives for "nein, das meine ich nicht"."""
    proc = default_catalogue()[proc_id]
    others = [o for o in _ids(tracker.get_slot("offered_procedures")) if o != proc_id]
    others += [a for a in _ids(tracker.get_slot("alternatives")) if a not in others and a != proc_id]
    return present_procedure(dispatcher, proc, alternatives=others, language=tracker.get_slot(language_state.SLOT))


def previous_user_text(tracker: Tracker) -> str:
    """The citizen's message before the latest one ("" when there is none)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest:
                return event.get("text") or ""
            seen_latest = True
    return ""


def meant_by_reply(tracker: Tracker) -> Optional[str]:
    """A reply to the choice just offered that names another need, or says more about the first
    message ("Parken vorm Haus" – "Meinen Sie …?" – "des is für an Umzug"): that procedure,
    read before a life event in the reply is shown as a checklist."""
    if current_state(tracker) is not Awaiting.CHOOSE_PROCEDURE:
        return None
    return meant_after_offer(
        previous_user_text(tracker),
        tracker.latest_message.get("text") or "",
        offered_options(tracker),
        discovery(),
    )


def chosen_by_reply(tracker: Tracker) -> Optional[str]:
    """The procedure the latest message chooses from the offered ones, if a choice is pending."""
    if current_state(tracker) is not Awaiting.CHOOSE_PROCEDURE:
        return None
    return match_choice(tracker.latest_message.get("text") or "", offered_options(tracker))


def offer_again(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    ids = _ids(tracker.get_slot("offered_procedures"))
    if len(ids) == 1:
        lead = "Bitte antworten Sie mit „Ja“ oder „Nein“."
    else:
        lead = "Bitte tippen Sie eine Leistung an oder schreiben Sie zum Beispiel „die erste“."
    return offer_choice(dispatcher, ids, alternatives=_ids(tracker.get_slot("alternatives")), lead=lead)


# --------------------------------------------------------------------------- "nein, das meine ich nicht"


def rejects_proposal(tracker: Tracker) -> bool:
    """ "nein, das meine ich nicht" right after a proposed procedure (not "mein Antrag wurde
    falsch bearbeitet" as a new request)."""
    if not is_rejection(tracker.latest_message.get("text") or ""):
        return False
    state = current_state(tracker)
    return state in (Awaiting.START_FORM, Awaiting.CHOOSE_PROCEDURE) or (state is None and proposed_last_turn(tracker))


def _last_turn(tracker: Tracker) -> list[dict]:
    """The events of the assistant's previous turn (between the last two user messages)."""
    events: list[dict] = []
    seen_latest_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest_user:
                break
            seen_latest_user = True
        elif seen_latest_user:
            events.append(event)
    return events[::-1]


def proposed_last_turn(tracker: Tracker) -> bool:
    """Did the assistant's previous turn propose a procedure (slot ``procedure`` or a choice set)?"""
    return any(
        e.get("event") == "slot" and e.get("name") in ("procedure", "offered_procedures") and e.get("value")
        for e in _last_turn(tracker)
    )


def recover(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The proposal was wrong: the next candidates of the same discovery, else one clarifying
    question. The procedure leaves the focus."""
    state = current_state(tracker)
    proposed = state in (Awaiting.START_FORM, Awaiting.CHOOSE_PROCEDURE) or proposed_last_turn(tracker)
    if not proposed:
        if any(e.get("event") == "bot" and e.get("text") == CLARIFY for e in _last_turn(tracker)):
            dispatcher.utter_message(text=CLARIFY_AGAIN)  # "nein, was anderes" to the question itself
            return [set_awaiting(None)]
        return [set_awaiting(None), *anything_else(dispatcher, tracker)]
    shown = _ids(tracker.get_slot("offered_procedures")) if state is Awaiting.CHOOSE_PROCEDURE else []
    shown += _ids([tracker.get_slot("procedure")])
    remaining = [a for a in _ids(tracker.get_slot("alternatives")) if a not in shown]
    # Only the procedure ids: the tracker keeps the message for the review inbox (content/review.py).
    logger.info("proposal rejected: %s; %d other candidates", ",".join(shown) or "-", len(remaining))
    events: list[EventType] = [SlotSet("procedure", None)]
    # "Nein, ich meinte die Abmeldung": the message names what is meant; "nein, abmelden" after
    # "Wohnsitz": together with the first message.
    meant_text = what_is_meant(tracker.latest_message.get("text") or "")
    decision = discovery().decide(meant_text)
    if decision.kind != "confident" and meant_text and not refers_back(meant_text):
        together = discovery().decide(together_with(previous_user_text(tracker), meant_text) or meant_text)
        if together.kind == "confident" and together.candidates[0].id not in shown:
            decision = together
    if decision.kind == "confident" and decision.candidates[0].id not in shown:
        meant = default_catalogue()[decision.candidates[0].id]
        return events + present_procedure(dispatcher, meant, alternatives=[a for a in remaining if a != meant.id])
    if decision.kind == "choose" and [c.id for c in decision.candidates if c.id not in shown]:
        meant_ids = [c.id for c in decision.candidates if c.id not in shown]
        return events + offer_choice(dispatcher, meant_ids, alternatives=remaining, lead="Entschuldigung.")
    if remaining:
        return events + offer_choice(dispatcher, remaining[:3], lead="Entschuldigung.")
    dispatcher.utter_message(text=CLARIFY)
    return events + [SlotSet("offered_procedures", None), SlotSet("alternatives", None), set_awaiting(None)]


class ActionRecoverProcedure(Action):
    """ "Nein, das meine ich nicht" / "nein, was anderes" after a proposed procedure (or "nein"
    to "Meinen Sie …?"): the other candidates, or one clarifying question."""

    def name(self) -> str:
        return "action_recover_procedure"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return recover(dispatcher, tracker)


# --------------------------------------------------------------------------- "ich möchte weitermachen"


class ActionOfferDraft(Action):
    """ "Ich möchte weitermachen" / "wo war ich stehengeblieben": the saved draft is offered again
    in the same session (as at a session start); a filled application waiting for confirmation
    is shown again."""

    def name(self) -> str:
        return "action_offer_draft"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        state = current_state(tracker)
        if state is not None and state.has_application and default_catalogue().get(tracker.get_slot("procedure")):
            return [FollowupAction("action_show_summary")]
        lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
        try:
            events = offer_draft(dispatcher, tracker.sender_id, lang)
        except Exception:  # a broken draft store must not block the conversation
            logger.exception("could not look up drafts")
            events = []
        if events:
            return events
        dispatcher.utter_message(text=form_texts.say(lang, "draft_none"), lang=language_state.HTML_LANG.get(lang, "de"))
        return [set_awaiting(None)]


def deny_answer(tracker: Tracker) -> Answer:
    """ "nein, das meine ich nicht" rejects a proposal; a bare "nein" answers the question."""
    return Answer.REJECT if is_rejection(tracker.latest_message.get("text") or "") else Answer.DENY
