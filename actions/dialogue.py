"""Custom actions of the conversation: find the procedure, start the form, show the summary,
submit, cancel, and what "ja"/"nein" mean. The meaning of an answer depends on the dialogue
state (slot ``awaiting``); the states and their transitions are in
``buergerassistent/dialogue_state.py`` and the handlers here dispatch on :func:`next_step`.
Questions about a procedure (fees, documents, …) are answered in ``actions/questions.py``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import login, submission_messages
from actions.context import (
    anything_else,
    choose,
    chosen_by_reply,
    deny_answer,
    follow_up,
    meant_by_reply,
    offer_again,
    present_needs,
    present_procedure,
    proposed_last_turn,
    recover,
    rejects_proposal,
)
from actions.drafts import discard_draft
from actions.fallbacks import reask_offer, say_fallback
from actions.feedback import ask_feedback, insight
from actions.forms import (
    FROM_OFFER,
    OFFER_ANSWER,
    PENDING_SLOT,
    first_answer,
    form_data,
    marks_language,
    summary_table,
    summary_text,
)
from actions.forms import language as form_language
from actions.life_situations import chosen_step, life_situation_turn
from actions.questions import compare_offered, offer_choice
from actions.submission_actions import store_status_consent, submit_confirmed
from actions.turns import current_state, ends_turn, set_awaiting, state_events
from buergerassistent import answers, form_conditions, form_texts, human_answers, language_state, metrics
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.conversation_context import question_topic
from buergerassistent.dialogue_state import Answer, Awaiting, Reply, next_step
from buergerassistent.discovery import one_message
from buergerassistent.first_message import presented_needs
from buergerassistent.procedure_finder import (
    ANSWER,
    CHOICE,
    OVERRULE_CONFIDENCE,
    PROCEDURE_INTENTS,
    alternatives,
    decide,
    find,
    intent_of,
)
from buergerassistent.repair import read_message
from buergerassistent.submission.backends import BackendNotAvailable

logger = logging.getLogger(__name__)


def procedure_in_focus(tracker: Tracker) -> Optional[Procedure]:
    return default_catalogue().get(tracker.get_slot("procedure"))


def _clear_form(proc: Procedure) -> list[EventType]:
    return [SlotSet(f.name, None) for f in proc.fields]


MORE_CANDIDATES = 6  # candidates kept for "nein, das meine ich nicht"


# Intents whose rule sends a message here although NLU read it as something else: when nothing
# fits, the citizen hears what that intent's rule said before ("nicht verstanden", out of scope).
_NOT_FOUND_RESPONSE = {
    "out_of_scope": "utter_out_of_scope",
    "nlu_fallback": "utter_default",
    "inform": "utter_default",
    "skip_field": "utter_default",
}


# Intents whose own action means nothing at the start of a conversation (nobody logged in,
# no application running): their action hands the message to discovery and says its own
# sentence only when no procedure fits ("PKW abmelden" read as logout, "Ausweis nicht mehr
# finden" read as cancel). bot/routes.py counts these actions as discovery at the start.
NOTHING_TO_DO = {
    "logout": "Sie sind nicht angemeldet.",
    "cancel": "Es läuft gerade kein Antrag.",
}


def _asks_something(text: str) -> bool:
    """A question of several words ("Wie trete ich aus der Kirche aus?"), not "??" or "hä?"."""
    return "?" in text and len(text.split()) >= 4


def discover(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Answer, offer a choice or say honestly that nothing fits (procedure_finder.decide: the
    same decision that `python -m bot discover` prints)."""
    with one_message():  # the decision and the alternatives read the message once (the encoder)
        return _discover(dispatcher, tracker)


def _discover(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    text = tracker.latest_message.get("text") or ""
    intent, confidence = intent_of(tracker.latest_message)
    if human_answers.reports_death(text):
        dispatcher.utter_message(text=human_answers.CONDOLENCE)
    # A follow-up about the procedure in focus stays with it (actions/context.py).
    answered = follow_up(dispatcher, tracker, find(text, intent, confidence))
    if answered is not None:
        return answered
    decision = decide(text, intent, confidence)
    metrics.DISCOVERY.labels(outcome=decision.decision).inc()
    if decision.decision in (ANSWER, CHOICE):
        shown = {c.id for c in decision.candidates}
        # Only candidates that could have been a first answer on their own: after "nein, das
        # meine ich nicht" a weak match ("Erste-Hilfe-Kurs" for "Hilfe bei den Wohnkosten", the
        # dog tax for "Auto wieder anmelden") helps less than the clarifying question.
        more = alternatives(text, exclude=sorted(shown), top=MORE_CANDIDATES)
        # A specific question about the one likely procedure ("Wo stelle ich den Bauantrag?") is
        # answered for it (its name heads the answer) rather than asked back as "Meinen Sie …?".
        if decision.decision == ANSWER or (len(decision.candidates) == 1 and question_topic(text)):
            proc = default_catalogue()[decision.candidates[0].id]
            return [
                insight("discovery", outcome="answer"),
                *present_procedure(
                    dispatcher, proc, alternatives=more, question=text, language=tracker.get_slot(language_state.SLOT)
                ),
            ]
        return [
            insight("discovery", outcome="choice"),
            *offer_choice(dispatcher, [c.id for c in decision.candidates], alternatives=more),
        ]
    if intent in NOTHING_TO_DO:
        dispatcher.utter_message(text=NOTHING_TO_DO[intent])
        if intent == "cancel":
            dispatcher.utter_message(response="utter_anything_else")
    elif intent == "out_of_scope":
        say_fallback(dispatcher, tracker, "out_of_scope", first_response="utter_out_of_scope")
    elif intent in _NOT_FOUND_RESPONSE and _asks_something(text):
        # A real question ("Wie trete ich aus der Kirche aus?") that fits no procedure: said so
        # honestly, with the 115, rather than "nicht verstanden".
        say_fallback(dispatcher, tracker, "no_procedure", first_text=answers.no_procedure_found())
    elif intent in _NOT_FOUND_RESPONSE and reask_offer(dispatcher, tracker):
        pass  # "das erste" to the offer to apply: the offer asked again
    elif intent in _NOT_FOUND_RESPONSE:
        # Repeated fallbacks vary, get shorter and offer topics (buergerassistent/fallback.py).
        say_fallback(dispatcher, tracker, "not_understood", first_response=_NOT_FOUND_RESPONSE[intent])
    else:
        say_fallback(dispatcher, tracker, "no_procedure", first_text=answers.no_procedure_found())
    if intent in NOTHING_TO_DO:
        return []
    # Not understood: what waited (e.g. the summary's "Sind alle Angaben richtig?") still waits.
    # The insights count the question (masked there) among those that found nothing.
    return [insight("discovery", outcome="none", text=text)]


class ActionDiscoverProcedure(Action):
    def name(self) -> str:
        return "action_discover_procedure"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with one_message():  # the message is ranked for the checklist, the needs and the decision
            return self._run(dispatcher, tracker)

    def _run(self, dispatcher, tracker: Tracker) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        intent, confidence = intent_of(tracker.latest_message)
        # A reply to the choice just offered ("das erste", "Reisepass"), or "nein, was anderes".
        chosen = chosen_by_reply(tracker)
        if chosen is not None:
            return choose(dispatcher, tracker, chosen)
        if rejects_proposal(tracker):
            return recover(dispatcher, tracker)
        if first_answer(tracker) is not None:
            # "Erika Mustermann" to "Möchten Sie … beantragen?": a yes and the first answer.
            return [FollowupAction("action_start_application")]
        catalogue = default_catalogue()
        compared = compare_offered(dispatcher, tracker)  # "Was ist der Unterschied?" to a list
        if compared is not None:
            return compared
        meant = meant_by_reply(tracker)  # "Meinen Sie …?" – "des is für an Umzug": not the checklist
        if meant is not None:
            return choose(dispatcher, tracker, meant)
        # A life event: checklist (as `bot discover` says: first_message.decide); a step chosen.
        life = life_situation_turn(dispatcher, tracker)
        if life is not None:
            return life.events if life.present is None else present_procedure(dispatcher, catalogue[life.present])
        if intent is None or intent in PROCEDURE_INTENTS or confidence < OVERRULE_CONFIDENCE:
            needs = presented_needs(text, intent, confidence)  # as `bot discover` says
            if needs:
                return present_needs(dispatcher, needs)
        return discover(dispatcher, tracker)


class ActionChooseProcedure(Action):
    """A procedure chosen from the offered ones: by button, or in words ("das erste", the name,
    "ja" to "Meinen Sie …?")."""

    def name(self) -> str:
        return "action_choose_procedure"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        chosen = next(tracker.get_latest_entity_values("procedure"), None) or chosen_by_reply(tracker)
        if default_catalogue().get(chosen) is not None:
            return choose(dispatcher, tracker, chosen)
        step = chosen_step(tracker)  # "das erste" to a life-situation checklist
        if step is not None:
            return present_procedure(dispatcher, default_catalogue()[step])
        if current_state(tracker) is Awaiting.CHOOSE_PROCEDURE:
            return offer_again(dispatcher, tracker)
        return discover(dispatcher, tracker)


class ActionStartApplication(Action):
    def name(self) -> str:
        return "action_start_application"

    @ends_turn
    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        if proc is None or not proc.has_form:
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "form_which_application"))
            return [set_awaiting(None)]
        # The offer answered with the first answer ("Lena Beispielfrau" instead of "ja") is kept
        # through the login and the prefill question, for this procedure only.
        first = first_answer(tracker)
        kept = dict(tracker.get_slot(PENDING_SLOT) or {}).get(OFFER_ANSWER) or {}
        from_login = first is None and kept.get("procedure") == proc.id
        if from_login:
            first = kept.get("text")
        # Procedures that need the service account: login (and prefill consent) come first.
        gate = login.before_form(dispatcher, tracker, proc)
        if gate is not None:
            if first is not None:
                gate = [*gate, SlotSet(PENDING_SLOT, {OFFER_ANSWER: {"procedure": proc.id, "text": first}})]
            return gate
        lang = form_language(tracker)
        dispatcher.utter_message(
            # Steps as the citizen counts them: conditional questions belong to their list question.
            text=form_texts.say(
                lang, "form_start", name=form_texts.procedure_name(proc, lang), count=form_conditions.steps(proc)[1]
            )
        )
        prefill = login.prefill_events(tracker, proc)
        given: list[EventType] = [SlotSet(PENDING_SLOT, None)] if kept else []
        if first is not None and not any(e.get("name") == proc.fields[0].name for e in prefill):
            # The offer was answered with the first answer: the form validates it on activation
            # (Rasa validates filled slots then) and echoes it before storing (FROM_OFFER).
            name = proc.fields[0].name
            # After a login the latest message is the login result: the form reads the kept text.
            pending = {FROM_OFFER: True, **({OFFER_ANSWER: first} if from_login else {})}
            given = [SlotSet(name, first), SlotSet("requested_slot", name), SlotSet(PENDING_SLOT, pending)]
        return [
            *_clear_form(proc),
            *prefill,
            *given,
            set_awaiting(None),
            SlotSet("application_id", None),
            FollowupAction(proc.form_name),
        ]


class ActionShowSummary(Action):
    def name(self) -> str:
        return "action_show_summary"

    @ends_turn
    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        if proc is None:
            return []
        # The text is the summary for every channel; the web chat draws ``summary_table`` as a table.
        dispatcher.utter_message(text=summary_text(proc, tracker), json_message=summary_table(proc, tracker))
        lang = form_language(tracker)
        dispatcher.utter_message(
            text=form_texts.say(lang, "form_summary_question"),
            buttons=[
                {"title": form_texts.say(lang, "form_button_submit"), "payload": "/affirm", "style": "primary"},
                {"title": form_texts.say(lang, "form_button_change"), "payload": "/deny", "style": "secondary"},
            ],
        )
        # A fresh idempotency key per confirmed application: retries reuse it, so the backend
        # never records the same application twice.
        application_id = tracker.get_slot("application_id") or str(uuid.uuid4())
        return [set_awaiting(Awaiting.CONFIRM_SUMMARY), SlotSet("application_id", application_id)]


class ActionSubmitApplication(Action):
    """Stores the confirmed application in the outbox first (buergerassistent/submission), then tries
    to deliver it at once. Backend down: the citizen is told it is saved and will follow (the
    delivery worker sends it and the case number arrives in this conversation)."""

    def name(self) -> str:
        return "action_submit_application"

    @ends_turn
    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        application_id = tracker.get_slot("application_id")
        if proc is None or not application_id:
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "form_nothing_to_submit"))
            return [set_awaiting(None)]
        # A logged-in citizen's bPK2 links the application to their account (list, postbox).
        identity, _ = login.identity_for(tracker)
        citizen = identity.subject if identity else None
        try:
            outcome = await submit_confirmed(proc, form_data(proc, tracker), application_id, tracker.sender_id, citizen)
        except (SQLAlchemyError, BackendNotAvailable) as exc:
            # Not even saved: say so truthfully and keep the answers for another try.
            logger.error("outbox unavailable for %s: %s", proc.id, type(exc).__name__)
            lang = form_language(tracker)
            dispatcher.utter_message(
                text=form_texts.say(lang, "form_not_saved_retry"),
                buttons=[
                    {"title": form_texts.say(lang, "form_button_yes"), "payload": "/affirm"},
                    {"title": form_texts.say(lang, "form_no").capitalize(), "payload": "/deny"},
                ],
            )
            return [set_awaiting(Awaiting.RETRY_SUBMISSION)]
        entry = outcome.entry
        if outcome.state == "rejected":
            logger.info(
                "portal backend rejected %s: fields %s", proc.id, sorted((entry.rejection or {}).get("fields") or {})
            )
            return [
                insight("submission", procedure=proc.id, state="rejected"),
                *submission_messages.fix_rejected(dispatcher, proc, (entry.rejection or {}).get("fields") or {}),
            ]
        lang = form_language(tracker)
        name = form_texts.procedure_name(proc, lang)
        if outcome.state == "delivered":
            logger.info("application submitted for %s", proc.id)
            submission_messages.tell_delivered(dispatcher, name, entry.case_number, citizen, lang)
        else:
            logger.info("application for %s saved in the outbox; delivery follows", proc.id)
            submission_messages.tell_saved(dispatcher, name, citizen, lang)
        metrics.FORMS.labels(procedure=proc.id, outcome="completed").inc()
        # Status messages only with consent (issue 17): asked now, "ja"/"nein" per dialogue state.
        submission_messages.ask_status_consent(dispatcher, lang)
        # The outbox holds the application now: the conversation forgets the answers.
        return [
            *_clear_form(proc),
            *([SlotSet("case_number", entry.case_number)] if entry.case_number else []),
            SlotSet("application_id", None),
            insight("submission", procedure=proc.id, state="delivered" if outcome.state == "delivered" else "saved"),
            # Then "ja"/"nein" to the status messages; the feedback question follows that answer.
            set_awaiting(Awaiting.STATUS_CONSENT),
        ]


def _after_submission(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """After the status-message answer: the next need of the same message if one waits, else one
    closing question – the feedback question once per session, otherwise "sonst noch etwas?".
    Both at once left the citizen with two questions and one answer."""
    if tracker.get_slot("pending_needs"):
        return anything_else(dispatcher, tracker)
    return ask_feedback(dispatcher, tracker) or anything_else(dispatcher, tracker)


def _fact_buttons(lang: str) -> list[dict[str, str]]:
    # The payload is the question itself: NLU and the follow-up logic read it as typed.
    return [
        {"title": t, "payload": t}
        for t in (form_texts.say(lang, f"ask_about_{k}") for k in ("documents", "fees", "duration", "where"))
    ]


class ActionHandleAffirm(Action):
    """ "ja" outside a form: what it answers depends on the dialogue state (``next_step``)."""

    def name(self) -> str:
        return "action_handle_affirm"

    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        state = current_state(tracker)
        if deny_answer(tracker) is Answer.REJECT:
            # "das passt nicht" read as "ja": it rejects, and must never start or send anything.
            return [FollowupAction("action_handle_deny")]
        if chosen_by_reply(tracker) is not None or chosen_step(tracker) is not None:
            # "die erste" / "ja, das erste" to the list just offered, read as "ja".
            return [FollowupAction("action_choose_procedure")]
        step = next_step(state, Answer.AFFIRM)
        if step.check_login:
            gate = login.before_submit(dispatcher, tracker, procedure_in_focus(tracker))
            if gate is not None:
                return gate
        if step.action is not None:
            return [FollowupAction(step.action)]
        if step.reply is Reply.STATUS_UPDATES_ON:
            if await store_status_consent(tracker.sender_id):
                dispatcher.utter_message(text=submission_messages.status_on(form_language(tracker)))
            return [*state_events(step, state), *_after_submission(dispatcher, tracker)]
        proc = procedure_in_focus(tracker)
        if proc is not None and proposed_last_turn(tracker):
            # "ja genau" to a procedure just presented (no form to start): it is the right one;
            # what else can be asked about it, rather than the general help text.
            lang = form_language(tracker)
            dispatcher.utter_message(
                text=form_texts.say(lang, "ask_about", name=form_texts.procedure_name(proc, lang)),
                buttons=_fact_buttons(lang),
            )
            return state_events(step, state)
        # Reply.HELP: nothing to say yes to; said again in a row, shorter and with topics.
        say_fallback(dispatcher, tracker, "help", first_response="utter_help")
        return state_events(step, state)


class ActionHandleDeny(Action):
    """ "nein" outside a form: what it answers depends on the dialogue state (``next_step``)."""

    def name(self) -> str:
        return "action_handle_deny"

    @ends_turn
    @marks_language
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        state = current_state(tracker)
        step = next_step(state, deny_answer(tracker))
        proc = procedure_in_focus(tracker)
        if step.reply is Reply.WHICH_FIELD and proc is None:
            step = next_step(None, Answer.DENY)
        if step.action is not None:
            return [FollowupAction(step.action)]
        if step.reply is Reply.WHICH_FIELD:
            # "Nein, die Postleitzahl ist 80333": the change is in the same message.
            filled = {f.name: tracker.get_slot(f.name) for f in proc.fields}
            lang = form_language(tracker)
            with form_texts.input_language(lang):
                reading = read_message(
                    form_texts.for_reading(proc, lang),
                    None,
                    form_texts.change_in_german(tracker.latest_message.get("text") or "", lang),
                    filled,
                )
            if reading.corrected or reading.reopen:
                return [FollowupAction("action_change_field")]
            dispatcher.utter_message(
                text=form_texts.say(lang, "form_which_field"),
                buttons=[
                    {
                        "title": form_texts.field_text(proc, f, lang).label,
                        "payload": f'/change_field{{"field": "{f.name}"}}',
                    }
                    for f in proc.fields
                ],
            )
        elif step.reply is Reply.DRAFT_KEPT:
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "draft_kept"))
        elif step.reply is Reply.RETRY_LATER:
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "change_retry_later"))
        elif step.reply is Reply.WITHDRAWAL_KEPT:
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "withdraw_kept"))
        elif step.reply is Reply.STATUS_UPDATES_OFF:
            dispatcher.utter_message(text=submission_messages.status_off(form_language(tracker)))
            return [*state_events(step, state), *_after_submission(dispatcher, tracker)]
        else:  # Reply.ANYTHING_ELSE: or the next need of the same message
            topic = question_topic(tracker.latest_message.get("text") or "")
            if proc is not None and topic in answers.ANSWERS_BY_INTENT:
                # "Nein danke, nicht beantragen. Wie schnell bekomme ich die denn?": no form, the question answered.
                dispatcher.utter_message(text=answers.ANSWERS_BY_INTENT[topic](proc))
                return state_events(step, state)
            return [*state_events(step, state), *anything_else(dispatcher, tracker)]
        return state_events(step, state)


class ActionChangeField(Action):
    """Change one answer after the summary: by button (entity ``field``) or in words ("ändere das
    Geburtsdatum", "die Postleitzahl ist 80333"). With a valid new value the summary is shown
    again; otherwise the form reopens and asks only for that field."""

    def name(self) -> str:
        return "action_change_field"

    @ends_turn
    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        lang = form_language(tracker)
        field_name = next(tracker.get_latest_entity_values("field"), None)
        names = {f.name for f in proc.fields} if proc is not None else set()
        if proc is not None and field_name is None and current_state(tracker) is Awaiting.CONFIRM_SUMMARY:
            filled = {f.name: tracker.get_slot(f.name) for f in proc.fields}
            with form_texts.input_language(lang):
                reading = read_message(
                    form_texts.for_reading(proc, lang),
                    None,
                    form_texts.change_in_german(tracker.latest_message.get("text") or "", lang),
                    filled,
                )
            changed = {n: v for n, v in reading.values.items() if n in reading.corrected}
            if changed:
                for name, value in changed.items():
                    f = proc.field(name)
                    dispatcher.utter_message(
                        text=form_texts.say(
                            lang,
                            "form_changed",
                            label=form_texts.field_text(proc, f, lang).label,
                            value=form_texts.display(proc, f, value, lang),
                        )
                    )
                # A point corrected to „ja“ after its list got „nein“ reopens the list (issue 21).
                updates, reopened = form_conditions.after_change(proc, filled, changed)
                events = [*[SlotSet(n, v) for n, v in {**changed, **updates}.items()], SlotSet("application_id", None)]
                still_open = [
                    f.name
                    for f in proc.fields
                    if {**filled, **changed, **updates}.get(f.name) is None
                    and form_conditions.asked(f, {**filled, **changed, **updates})
                ]
                if still_open:
                    if reopened:
                        dispatcher.utter_message(text=form_texts.say(lang, "form_list_reopened"))
                    dispatcher.utter_message(text=form_texts.say(lang, "form_summary_after_questions"))
                    return [
                        *events,
                        set_awaiting(None),
                        SlotSet("requested_slot", still_open[0]),
                        FollowupAction(proc.form_name),
                    ]
                return [*events, FollowupAction("action_show_summary")]
            for name, error in reading.errors.items():
                f = proc.field(name)
                dispatcher.utter_message(
                    text=form_texts.say(
                        lang,
                        "form_field_error",
                        label=form_texts.field_text(proc, f, lang).label,
                        error=form_texts.error_text(proc, f, error, lang),
                    )
                )
            field_name = (reading.reopen or [None])[0]
        if proc is None or field_name not in names:
            if proc is not None and current_state(tracker) is Awaiting.CONFIRM_SUMMARY:
                return [FollowupAction("action_handle_deny")]
            if proc is None:
                # No application to change: "Ich möchte meinen Nachnamen ändern lassen" is a request.
                return discover(dispatcher, tracker)
            dispatcher.utter_message(text=form_texts.say(lang, "change_not_possible"))
            return []
        return [
            SlotSet(field_name, None),
            set_awaiting(None),
            SlotSet("application_id", None),
            SlotSet("requested_slot", field_name),
            FollowupAction(proc.form_name),
        ]


class ActionCancelApplication(Action):
    def name(self) -> str:
        return "action_cancel_application"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        proc = procedure_in_focus(tracker)
        events: list[EventType] = [
            set_awaiting(None),
            SlotSet("application_id", None),
            SlotSet("requested_slot", None),
        ]
        if tracker.active_loop_name:
            events.insert(0, ActiveLoop(None))
        state = current_state(tracker)
        step = next_step(state, Answer.CANCEL)
        if step.reply is Reply.WITHDRAWAL_KEPT:
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "withdraw_kept"))
            return [set_awaiting(None)]
        if step.reply is Reply.STATUS_UPDATES_OFF:
            # The application is sent: it stays, and no status messages (as "nein" here).
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "status_off_kept"))
            return [set_awaiting(None), *_after_submission(dispatcher, tracker)]
        if step.reply is Reply.DISCARD_DRAFT:
            discard_draft(tracker.sender_id)
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "draft_discarded"))
            return [*events, *(_clear_form(proc) if proc is not None else []), *anything_else(dispatcher, tracker)]
        if proc is not None and (tracker.active_loop_name or state is not None):
            events.extend(_clear_form(proc))
            metrics.FORMS.labels(procedure=proc.id, outcome="abandoned").inc()
            lang = form_language(tracker)
            dispatcher.utter_message(
                text=form_texts.say(lang, "change_cancelled", name=form_texts.procedure_name(proc, lang))
            )
        elif proc is None and state is None and not tracker.active_loop_name:
            # nothing to cancel: the message is probably a need NLU misread (NOTHING_TO_DO)
            return [*events, *discover(dispatcher, tracker)]
        else:
            dispatcher.utter_message(text=form_texts.say(form_language(tracker), "change_nothing_running"))
        return [*events, *anything_else(dispatcher, tracker)]
