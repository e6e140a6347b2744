"""Questions about a procedure, inside or outside a form: fees, documents, online, where, and
"Wozu brauchen Sie das?". Used by the dialogue actions and by the form interruption
(``actions/forms.py``); it imports neither, so that they do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.life_situations import chosen_step
from actions.responses import utter_response
from actions.turns import current_state, set_awaiting
from buergerassistent import answers, form_texts, language_state, translations
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.conversation_context import (
    Option,
    asks_about_options,
    aspect_of,
    follow_up_target,
    match_choice,
    names_topic,
    question_topic,
)
from buergerassistent.dialogue_state import SLOT, Awaiting
from buergerassistent.discovery import Decision
from buergerassistent.procedure_finder import discovery, find, intent_of


def procedure_in_focus(tracker: Tracker) -> Optional[Procedure]:
    return default_catalogue().get(tracker.get_slot("procedure"))


def _application_waits(tracker: Tracker) -> bool:
    """A filled application waits for "Ja, absenden" (or a question about it): a question about
    another procedure is answered, but must not make a "ja" submit that other procedure (issue 15)."""
    state = Awaiting.of(tracker.get_slot(SLOT))
    return state is not None and (state.has_application or state is Awaiting.CONFIRM_REQUEST)


def choose_payload(proc_id: str) -> str:
    return f'/choose_procedure{{"procedure": "{proc_id}"}}'


def offer_choice(
    dispatcher: CollectingDispatcher,
    choice: Union[Decision, Sequence[str]],
    alternatives: Sequence[str] = (),
    lead: str = "Ich bin nicht ganz sicher, was Sie meinen.",
) -> list[EventType]:
    """Offer procedures to choose from (a discovery decision's candidates, or ids): one as "Meinen
    Sie …?" (Ja/Nein), several as "Welche dieser Leistungen passt?". The offer is remembered
    (slot ``offered_procedures``, state ``choose_procedure``) so that "das erste", "Nummer 2", the
    name or "ja" to a single suggestion are read as a choice (``actions/context.py``);
    ``alternatives`` are further candidates for "nein, das meine ich nicht"."""
    catalogue = default_catalogue()
    ids = [c.id for c in choice.candidates] if isinstance(choice, Decision) else list(choice)
    ids = [i for i in ids if i in catalogue]
    if len(ids) == 1:
        # An entry outside the core procedures is offered with where to ask (its facts are not checked here).
        hint = answers.where_to_ask(catalogue[ids[0]])
        dispatcher.utter_message(
            text=f"{lead} Meinen Sie „{catalogue[ids[0]].name}“? {hint}".strip(),
            buttons=[{"title": "Ja", "payload": choose_payload(ids[0])}, {"title": "Nein", "payload": "/deny"}],
        )
    else:
        # Entries outside the core procedures only ("Waffenschein"): their facts are not checked
        # here, so the offer names where to ask, as for a single one.
        hint = answers.UNKNOWN_HINT if not any(catalogue[i].curated for i in ids) else ""
        dispatcher.utter_message(
            text=f"{lead} Welche dieser Leistungen passt? {hint}".strip(),
            buttons=[{"title": catalogue[i].name, "payload": choose_payload(i)} for i in ids],
        )
    return [
        SlotSet("offered_procedures", ids),
        SlotSet("alternatives", [a for a in alternatives if a not in ids] or None),
        set_awaiting(Awaiting.CHOOSE_PROCEDURE),
    ]


def compare_offered(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[list[EventType]]:
    """ "Was ist der Unterschied?" to a list of offered procedures (whatever NLU read it as): each
    option in one sentence from the catalogue, then the choice again. None for other messages."""
    if tracker.active_loop_name or current_state(tracker) is not Awaiting.CHOOSE_PROCEDURE:
        return None
    catalogue = default_catalogue()
    offered = [i for i in tracker.get_slot("offered_procedures") or [] if i in catalogue]
    if len(offered) < 2 or not asks_about_options(tracker.latest_message.get("text") or ""):
        return None
    dispatcher.utter_message(text=answers.compare([catalogue[i] for i in offered]))
    return offer_choice(dispatcher, offered, alternatives=tracker.get_slot("alternatives") or (), lead="")


def replies_to_offer(tracker: Tracker) -> bool:
    """The latest message chooses from the procedures or checklist steps just offered ("die
    erste", "Abmelden" to [Fahrzeug zulassen | Fahrzeug abmelden]), whatever NLU read it as:
    then action_choose_procedure takes it as the choice (and ends the turn)."""
    if tracker.active_loop_name:
        return False
    text = tracker.latest_message.get("text") or ""
    if current_state(tracker) is Awaiting.CHOOSE_PROCEDURE:
        catalogue = default_catalogue()
        offered = [i for i in tracker.get_slot("offered_procedures") or [] if i in catalogue]
        if match_choice(text, [Option(i, catalogue[i].name) for i in offered]) is not None:
            return True
    return chosen_step(tracker) is not None


def _no_question(text: str) -> bool:
    """A message that names no fact to ask about and is no question ("Ich brauche einen Ausweis")."""
    return "?" not in text and not names_topic(text) and aspect_of(text) is None


class ActionAnswerInfo(Action):
    """Fees, documents, online, where: for the procedure named now, else the one in focus."""

    def name(self) -> str:
        return "action_answer_info"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text") or ""
        events: list[EventType] = []
        proc = None
        # Inside a form the question is about the form's procedure. Outside, it is about the
        # procedure in focus, until the question clearly names another one ("Was kostet ein
        # Reisepass?"): a word that merely resembles another procedure does not move the focus.
        if not tracker.active_loop_name:
            catalogue = default_catalogue()
            if current_state(tracker) is Awaiting.CHOOSE_PROCEDURE:
                offered = [i for i in tracker.get_slot("offered_procedures") or [] if i in catalogue]
                if match_choice(text, [Option(i, catalogue[i].name) for i in offered]) is not None:
                    return [FollowupAction("action_choose_procedure")]  # "die zweite", misread as a question
                compared = compare_offered(dispatcher, tracker)
                if compared is not None:
                    return compared
            focus = procedure_in_focus(tracker)
            if focus is None and intent != "ask_contact" and _no_question(text):
                # "Ich brauche einen Ausweis" read as a question about documents: a request, whose
                # procedure discovery finds or offers to choose (several kinds of "Ausweis").
                # action_choose_procedure runs discovery when nothing was offered, and ends the turn
                # (actions.dialogue imports this module, so it is chained, not imported).
                return [FollowupAction("action_choose_procedure")]
            decision = find(text, *intent_of(tracker.latest_message))
            target = follow_up_target(text, focus.id if focus else None, decision, discovery(), catalogue)
            if target.kind == "switch":
                proc = catalogue[target.ids[0]]
                # A filled application waiting for "Ja, absenden" keeps its procedure (issue 15).
                if (focus is None or proc.id != focus.id) and not _application_waits(tracker):
                    events.append(SlotSet("procedure", proc.id))
            elif target.kind == "choose":
                # Several procedures named, none clearly: ask which, rather than answer for the wrong one.
                return events + offer_choice(dispatcher, target.ids)
            elif focus is None and current_state(tracker) is Awaiting.CHOOSE_PROCEDURE:
                # "Meinen Sie „Eheschließung anmelden“?" answered with a question about it
                # ("Welche Unterlagen brauchen wir dafür?"): the one suggestion is meant.
                offered = [i for i in tracker.get_slot("offered_procedures") or [] if i in catalogue]
                if len(offered) == 1:
                    proc = catalogue[offered[0]]
                    events += [SlotSet("procedure", proc.id), SlotSet("offered_procedures", None), set_awaiting(None)]
        proc = proc or procedure_in_focus(tracker)
        if proc is None:
            lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
            dispatcher.utter_message(text=form_texts.say(lang, "ask_which_procedure"))
            return events
        # The question's own words decide what it asks ("Bis wann …?" is a deadline, whatever NLU read).
        topic = intent if intent == "ask_contact" else (question_topic(text) or intent or "")
        if form_texts.language_of(tracker.get_slot(language_state.SLOT)) == language_state.PLAIN:
            # Leichte Sprache: the catalogue's facts in plain sentences (translations.plain_fact).
            plain = translations.plain_fact(proc, topic if topic in answers.ANSWERS_BY_INTENT else "ask_where")
            if not proc.curated and "115" not in plain:  # facts not checked here: where to ask
                ask = [translations.message("ls", "fact_ask", authority=proc.authority)] if proc.authority else []
                plain = " ".join([plain, *ask, translations.message("ls", "fact_115")])
            dispatcher.utter_message(text=plain)
        else:
            answer = answers.ANSWERS_BY_INTENT.get(topic, answers.where)
            dispatcher.utter_message(text=answers.with_where_to_ask(proc, answer(proc)))
        newly_in_focus = any(e.get("event") == "slot" and e.get("name") == "procedure" for e in events)
        if newly_in_focus and proc.has_form and not tracker.active_loop_name:
            # "Ich möchte einen Hund anmelden, was kostet das?": the answer, then the offer to apply,
            # so that "ja" starts it (as after the procedure's overview).
            dispatcher.utter_message(
                text=f"Möchten Sie „{proc.name}“ jetzt hier im Chat beantragen?",
                buttons=[{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}],
            )
            events.append(set_awaiting(Awaiting.START_FORM))
        return events


class ActionExplainField(Action):
    """ "Wozu brauchen Sie das?" inside a form: explain the field asked for; outside: help."""

    def name(self) -> str:
        return "action_explain_field"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = default_catalogue().by_form_name(tracker.active_loop_name or "")
        requested = tracker.get_slot("requested_slot")
        if proc is None and replies_to_offer(tracker):
            return [FollowupAction("action_choose_procedure")]  # "die erste", misread as "wozu?"
        compared = None if proc is not None else compare_offered(dispatcher, tracker)
        if compared is not None:
            return compared
        if proc is None or not requested:
            utter_response(dispatcher, tracker, "utter_help")
            return []
        lang = form_texts.language_of(tracker.get_slot(language_state.SLOT))
        field = proc.field(requested)
        if lang in (language_state.ENGLISH, language_state.PLAIN):
            message = tracker.latest_message or {}
            intent = (message.get("intent") or {}).get("name")
            answer = form_texts.answer_question(proc, field, message.get("text") or "", intent, lang)
            if answer and lang == language_state.PLAIN:
                dispatcher.utter_message(text=f"{answer} {form_texts.say(lang, 'form_cancel_hint')}")
                return []
            if answer:
                dispatcher.utter_message(text=answer, lang="en")
                return []
        field = form_texts.in_language(proc, field, lang)  # Leichte Sprache: the plain help
        text = field.help or f"Diese Angabe braucht die Behörde für „{proc.name}“."
        if field.example:
            text += f" Zum Beispiel: {field.example}."
        text += " Mit „abbrechen“ können Sie den Antrag jederzeit beenden."
        dispatcher.utter_message(text=text)
        return []
