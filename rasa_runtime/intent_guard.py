"""Apply the intent guard (buergerassistent/intent_guard.py) and the language check
(buergerassistent/language.py) right after NLU, before Rasa's policies see the message.

Wraps ``MessageProcessor.parse_message``: when it is called with the conversation's tracker (a
message from a channel, not ``/model/parse``), the parse result is adjusted:

* a message in English becomes intent ``other_language`` (answered in English);
* a request with consequences that is not clear becomes intent ``confirm_request`` with the
  entity ``requested_action`` (the assistant asks first), or the intent of its stronger reading
  ("bis wann …" → ``ask_deadline``, "Auto abmelden" → ``request_procedure``).

The original reading stays in ``parse_data["guard"]`` for the logs of the content team. Only the
decision is made here; what it means is in the domain.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from buergerassistent import intent_guard, language, repair
from buergerassistent.catalogue import default_catalogue
from buergerassistent.dialogue_state import SLOT, Awaiting

logger = logging.getLogger(__name__)

OTHER_LANGUAGE = "other_language"

_INSTALLED = False


def _context(tracker: Any, text: str = "") -> intent_guard.Context:
    awaiting = tracker.get_slot(SLOT) if hasattr(tracker, "get_slot") else None
    in_form = bool(getattr(tracker, "active_loop_name", None))
    corrects = False
    if awaiting == Awaiting.CONFIRM_SUMMARY.value and text and not text.startswith("/"):
        proc = default_catalogue().get(tracker.get_slot("procedure"))
        if proc is not None:
            filled = {f.name: tracker.get_slot(f.name) for f in proc.fields}
            corrects = repair.reads_as_correction(proc, text, filled)
    return intent_guard.Context(in_form=in_form, awaiting=awaiting, corrects_answer=corrects)


def adjust(parse_data: dict[str, Any], context: intent_guard.Context) -> dict[str, Any]:
    """``parse_data`` with the guard's decision applied (changed in place and returned)."""
    text = parse_data.get("text") or ""
    intent = parse_data.get("intent") or {}
    name: Optional[str] = intent.get("name")
    confidence = float(intent.get("confidence") or 0.0)
    if not text.startswith("/") and language.detect(text) == language.ENGLISH:
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
            try:
                adjust(parse_data, _context(tracker, (parse_data.get("text") or "").strip()))
            except Exception:  # the guard must never cost the citizen the message
                logger.exception("intent guard failed; NLU reading kept")
        return parse_data

    MessageProcessor.parse_message = parse_message
    language.warm_up()
    _INSTALLED = True
