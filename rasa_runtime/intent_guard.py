"""Apply the intent guard (buergerassistent/intent_guard.py) and the language check
(buergerassistent/language.py) right after NLU, before Rasa's policies see the message.

Wraps ``MessageProcessor.parse_message``: when it is called with the conversation's tracker (a
message from a channel, not ``/model/parse``), the parse result is adjusted:

* a message read as English (``language_routing.message_language``: the citizen's first message by
  ``procedure_finder.language_of``, as ``bot discover`` decides; later ones by the detector; in a
  form only a clear sentence to the assistant, never a value) becomes intent ``other_language``
  (answered in English);
* the conversation's language (issue 20, ``buergerassistent/language_state.py``): an explicit
  switch ("English please", "in Leichter Sprache"), the widget's setting (metadata ``lang``) or a
  message detected as English sets the entities ``language_choice``/``language_source`` (which
  fill the slots ``language``/``language_source``); a switch and, in an English conversation, a
  message about a procedure in English words become intent ``other_language``;
* a request with consequences that is not clear becomes intent ``confirm_request`` with the
  entity ``requested_action`` (the assistant asks first), or the intent of its stronger reading
  ("bis wann …" → ``ask_deadline``, "Auto abmelden" → ``request_procedure``).

The original reading stays in ``parse_data["guard"]`` for the logs of the content team. Only the
decision is made here; what it means is in the domain.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Optional

from buergerassistent import (
    form_texts,
    intent_guard,
    language,
    language_routing,
    language_state,
    repair,
    translations,
)
from buergerassistent.catalogue import default_catalogue
from buergerassistent.dialogue_state import SLOT, Awaiting

logger = logging.getLogger(__name__)

OTHER_LANGUAGE = "other_language"
NLU_FALLBACK = "nlu_fallback"

_INSTALLED = False


def _context(tracker: Any, text: str = "", first_message: bool = False) -> intent_guard.Context:
    awaiting = tracker.get_slot(SLOT) if hasattr(tracker, "get_slot") else None
    in_form = bool(getattr(tracker, "active_loop_name", None))
    corrects = False
    if awaiting == Awaiting.CONFIRM_SUMMARY.value and text and not text.startswith("/"):
        proc = default_catalogue().get(tracker.get_slot("procedure"))
        if proc is not None:
            filled = {f.name: tracker.get_slot(f.name) for f in proc.fields}
            lang = tracker.get_slot(language_state.SLOT)
            with form_texts.input_language(lang):
                # English: "the postcode is 80333" read with the English labels (issue 20)
                corrects = repair.reads_as_correction(
                    form_texts.for_reading(proc, lang), form_texts.change_in_german(text, lang), filled
                )
    return intent_guard.Context(
        in_form=in_form, awaiting=awaiting, corrects_answer=corrects, first_message=first_message
    )


def adjust(parse_data: dict[str, Any], context: intent_guard.Context) -> dict[str, Any]:
    """``parse_data`` with the guard's decision applied (changed in place and returned)."""
    text = parse_data.get("text") or ""
    intent = parse_data.get("intent") or {}
    name: Optional[str] = intent.get("name")
    confidence = float(intent.get("confidence") or 0.0)
    if not context.in_form and not text.startswith("/") and language.detect(text) == language.ENGLISH:
        # (in the channel apply_language has decided this already; inside a form an answer in
        # English words is a value, language_routing.message_language)
        _replace(parse_data, OTHER_LANGUAGE, "other language", name, confidence)
        return parse_data
    ranking = tuple((r.get("name"), float(r.get("confidence") or 0.0)) for r in parse_data.get("intent_ranking") or [])
    decision = intent_guard.decide(intent_guard.Message(text, name, confidence, ranking), context)
    if decision.kind == "reinterpret":
        _replace(parse_data, decision.intent, decision.reason, name, confidence)
    elif decision.kind == "ask":
        _replace(parse_data, intent_guard.CONFIRM_INTENT, decision.reason, name, confidence)
        parse_data["entities"] = [
            *(parse_data.get("entities") or []),
            {"entity": intent_guard.ACTION_ENTITY, "value": decision.intent, "extractor": "intent_guard"},
        ]
    return parse_data


def apply_language(
    parse_data: dict[str, Any],
    state: language_state.State,
    widget: Optional[str] = None,
    in_form: bool = False,
    awaiting: Optional[str] = None,
    first_message: bool = False,
    corrects_answer: Optional[Callable[[str], bool]] = None,
) -> Optional[language_state.Update]:
    """Decide the conversation's language for this message and mark it in ``parse_data`` (see
    the module docstring). Returns the change, None when the language stays. ``first_message``:
    no text typed by the citizen before this one."""
    text = (parse_data.get("text") or "").strip()
    if not text or text.startswith("/"):
        return None
    first_message = first_message and not in_form
    detected = language_routing.message_language(text, first_message=first_message, in_form=in_form)
    change = language_state.update(
        state,
        text,
        widget=widget,
        detected=detected,
        names_german_term=translations.names_german_term(text),
        first_message=first_message,
    )
    if change is not None:
        parse_data["entities"] = [
            *(parse_data.get("entities") or []),
            {"entity": language_state.CHOICE_ENTITY, "value": change.language, "extractor": "language_state"},
            {"entity": language_state.SOURCE_ENTITY, "value": change.source, "extractor": "language_state"},
        ]
    intent = parse_data.get("intent") or {}
    now = change.language if change is not None else state.language
    if change is not None and change.switch_request:
        _replace(
            parse_data, OTHER_LANGUAGE, "language switch", intent.get("name"), float(intent.get("confidence") or 0)
        )
    elif detected == language_state.ENGLISH and change is not None and in_form:
        # "I don't understand, can you say it in English?" in a form: not an answer to its question
        _replace(parse_data, OTHER_LANGUAGE, "other language", intent.get("name"), float(intent.get("confidence") or 0))
    elif (
        now == language_state.ENGLISH
        and not in_form
        and detected is None
        and not language.has_german_words(text)
        and _english_about_procedure(text)
    ):
        # "passport fees", "Anmeldung for my apartment" in an English conversation: answered in
        # English; a German sentence ("Ich brauche ein Appointment …") goes to the German NLU.
        _replace(
            parse_data, OTHER_LANGUAGE, "english conversation", intent.get("name"), float(intent.get("confidence") or 0)
        )
    elif now == language_state.ENGLISH and not (change is not None and change.switch_request):
        # Until the NLU knows English (nlu/data/en, issue 20): in an English conversation the
        # form's own reading decides (answer, cancel, save for later), and "yes"/"no" to a
        # question of the assistant is read like the form reads a yes/no answer.
        reading = _english_reading(text, in_form, awaiting)
        if (
            reading in (None, "deny")
            and awaiting == Awaiting.CONFIRM_SUMMARY.value
            and corrects_answer is not None
            and corrects_answer(text)
        ):
            reading = "change_field"  # "no, the postcode is 80333" after the summary
        if reading is not None and reading != intent.get("name"):
            _replace(parse_data, reading, ENGLISH_READING, intent.get("name"), float(intent.get("confidence") or 0))
        elif reading is not None:
            parse_data["guard"] = {"intent": reading, "confidence": intent.get("confidence"), "reason": ENGLISH_READING}
        elif detected == language_state.ENGLISH or (
            not in_form and intent.get("name") == NLU_FALLBACK and not language.has_german_words(text)
        ):
            # English, or a message the German NLU cannot read ("hmm", "whatever"): the English
            # reply, never the German discovery's choice with German names.
            _replace(
                parse_data, OTHER_LANGUAGE, "other language", intent.get("name"), float(intent.get("confidence") or 0)
            )
    elif detected == language_state.ENGLISH:
        # English, but German chosen (in words or by the widget): the short English answer.
        _replace(parse_data, OTHER_LANGUAGE, "other language", intent.get("name"), float(intent.get("confidence") or 0))
    return change


ENGLISH_READING = "english reading"
_EN_CANCEL = re.compile(
    r"^(?:please\s+)?(?:cancel|stop|quit|abort)(?:\s+(?:it|this|the application|please))*[.!]*$", re.I
)
_DE_COMMAND = re.compile(r"^(?:abbrechen|abbruch|aufhören|später weiter|speichern|korrigieren|überspringen)\b", re.I)
_EN_STATUS = re.compile(r"\bstatus\b|\bhow far\b.*\bapplication\b|\b[A-Z]{2}-\d{4}-[0-9A-Z]{8}\b", re.I)
# "I want to talk to a person", "can I speak with a human?": the handoff offer (issue 19).
_EN_HUMAN = re.compile(
    r"\b(?:talk|speak|write|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some\s+|the\s+)?(?:real\s+)?"
    r"(?:person|human|people|someone|somebody|member\s+of\s+staff|staff|agent|employee|officer)\b|"
    r"\bhuman\s+(?:agent|being)\b|\breal\s+person\b",
    re.I,
)
# "I want to withdraw my application", "withdraw BA-2026-…".
_EN_WITHDRAW = re.compile(r"\b(?:withdraw|retract|revoke)\b|\btake\s+back\s+my\s+application\b", re.I)
_EN_LATER = re.compile(
    r"^(?:please\s+)?(?:continue|finish it|go on) later(?:\s+please)?[.!]*$|^save (?:it )?for later[.!]*$", re.I
)

# "continue my application", "resume my saved application", "I want to finish my draft".
_EN_RESUME = re.compile(
    r"\b(?:continue|resume|finish|complete|pick\s+up|carry\s+on\s+with|go\s+on\s+with)\s+"
    r"(?:with\s+)?(?:my|the)\s+(?:saved\s+|unfinished\s+|started\s+|last\s+)?(?:application|draft|form)\b|"
    r"\bcontinue\s+where\s+i\s+(?:left\s+off|stopped)\b|\bmy\s+saved\s+(?:application|draft|form)\b",
    re.I,
)
# "help", "help me please", "what can you do?": the help text (utter_help, English variant).
_EN_HELP = re.compile(
    r"^(?:(?:please\s+)?help(?:\s+me)?(?:\s+please)?|i\s+need\s+help|what\s+can\s+you\s+do"
    r"|how\s+does\s+this\s+work|what\s+do\s+you\s+do)\W*$",
    re.I,
)


def _english_reading(text: str, in_form: bool, awaiting: Optional[str]) -> Optional[str]:
    """The intent of an English message in an English conversation, read without the NLU: in a
    form every message is the form's (cancel, save for later, or an answer or question the form
    reads itself); outside a form a clear yes/no to a question of the assistant."""
    if language.has_german_words(text) or _DE_COMMAND.match(text):
        return None  # German words ("abbrechen", "Korrigieren"): the German NLU reads them
    from buergerassistent.validation import validate

    answer = validate("yes_no", text)
    yes_no = ("affirm" if answer.value == "ja" else "deny") if answer.ok else None
    if _EN_HUMAN.search(text):
        return "ask_human"  # in a form too: the offer is said, the form asks again after it
    if in_form:
        if _EN_CANCEL.match(text):
            return "cancel"
        if _EN_LATER.match(text):
            return "save_draft"
        # A yes/no answer is the form's answer too (affirm/deny fill a form's field like inform);
        # the feedback form reads "no thanks" as deny.
        return yes_no or "inform"
    if _EN_CANCEL.match(text):
        return "cancel"  # outside a form: "no application is running" (or a draft is discarded)
    if _EN_WITHDRAW.search(text):
        return "withdraw_application"
    if _EN_RESUME.search(text):
        return intent_guard.RESUME_INTENT
    if _EN_HELP.match(text.strip()):
        return "help"
    if _EN_STATUS.search(text):
        return "ask_status"
    return yes_no if awaiting else None


def _english_about_procedure(text: str) -> bool:
    from buergerassistent.catalogue import default_catalogue

    if translations.english_topic(text) is not None:
        return True
    return translations.find_english(text, default_catalogue().curated()) is not None


def first_message_of(tracker: Any) -> bool:
    """No text typed by the citizen yet in this conversation (buttons' "/intent" payloads and the
    widget's session start do not count); called before the message is logged."""
    for event in getattr(tracker, "events", None) or ():
        if getattr(event, "type_name", None) == "user":
            text = (getattr(event, "text", None) or "").strip()
            if text and not text.startswith("/"):
                return False
    return True


def _language_state(tracker: Any) -> language_state.State:
    get = getattr(tracker, "get_slot", None)
    if get is None:
        return language_state.State()
    return language_state.State.of(get(language_state.SLOT), get(language_state.SOURCE_SLOT))


def _replace(parse_data: dict[str, Any], new: str, reason: str, old: Optional[str], confidence: float) -> None:
    parse_data["guard"] = {"intent": old, "confidence": confidence, "reason": reason}
    parse_data["intent"] = {"name": new, "confidence": 1.0}
    logger.debug("intent guard: %s → %s (%s)", old, new, reason)


def install() -> None:
    """Wrap ``MessageProcessor.parse_message`` once in this process; loads the language detector."""
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.parse_message

    async def parse_message(self, message, tracker=None, only_output_properties=True):
        parse_data = await original(self, message, tracker, only_output_properties)
        if tracker is not None and parse_data:
            first = False
            try:
                first = first_message_of(tracker)
                widget = (getattr(message, "metadata", None) or {}).get("lang")
                in_form = bool(getattr(tracker, "active_loop_name", None))
                apply_language(
                    parse_data,
                    _language_state(tracker),
                    widget if isinstance(widget, str) else None,
                    in_form,
                    tracker.get_slot(SLOT) if hasattr(tracker, "get_slot") else None,
                    first_message=first,
                    corrects_answer=lambda text: _context(tracker, text).corrects_answer,
                )
            except Exception:  # the language check must never cost the citizen the message
                logger.exception("language check failed; language kept")
            try:
                if (parse_data.get("intent") or {}).get("name") == OTHER_LANGUAGE:
                    return parse_data  # a language switch or an English question: no command to guard
                if (parse_data.get("guard") or {}).get("reason") == ENGLISH_READING:
                    return parse_data  # read in English above
                adjust(parse_data, _context(tracker, (parse_data.get("text") or "").strip(), first))
            except Exception:  # the guard must never cost the citizen the message
                logger.exception("intent guard failed; NLU reading kept")
        return parse_data

    MessageProcessor.parse_message = parse_message
    language.warm_up()
    _INSTALLED = True
