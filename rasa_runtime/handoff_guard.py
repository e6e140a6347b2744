"""While a conversation is handed over to staff (issue 19), the assistant does not answer the
citizen itself: every message becomes intent ``handoff_message`` (the NLU reading stays in
``parse_data["handoff"]``) and ``action_handoff_forward`` passes it to the staff desk. Only while
nobody has taken the case yet, "Nicht mehr warten" / "zurück zum Assistenten" becomes
``handoff_cancel`` (``buergerassistent.handoff.leaves_queue``).

Right after the assistant offered the handoff or a call-back (its last messages carry the offer's
buttons), a typed short answer ("ja", "gerne", "ok, verbinden Sie mich", "Rückruf anfordern",
"nein danke") becomes the offer's intent (``buergerassistent.handoff.replies``), as if the button
had been pressed. Anywhere else "ja" keeps its other meanings.

Wraps ``MessageProcessor.parse_message`` like ``rasa_runtime/intent_guard.py`` (installed after
it, so it has the last word). Only messages from a channel pass here; the staff desk's
``trigger_intent`` calls (``EXTERNAL_…``) do not. The decision is the domain's
(``buergerassistent.handoff.is_handed_over``).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from buergerassistent import handoff
from buergerassistent.handoff import replies
from rasa_runtime.channels.payload_guard import offered_payloads

logger = logging.getLogger(__name__)

_INSTALLED = False


def adjust(parse_data: dict[str, Any], slot_value: Any, offered: Optional[set[str]] = None) -> dict[str, Any]:
    """``parse_data`` as the handoff sees it (changed in place and returned). ``offered``: the
    button payloads of the assistant's last turn."""
    text = (parse_data.get("text") or "").strip()
    if handoff.is_handed_over(slot_value) and text:
        parse_data["handoff"] = {"intent": (parse_data.get("intent") or {}).get("name")}
        leaves = slot_value == handoff.WAITING and handoff.leaves_queue(text)
        parse_data["intent"] = {"name": handoff.CANCEL_INTENT if leaves else handoff.MESSAGE_INTENT, "confidence": 1.0}
        parse_data["entities"] = []
        return parse_data
    reading = replies.read(text, offered or set())
    if reading is not None:
        parse_data["handoff"] = {"intent": (parse_data.get("intent") or {}).get("name")}
        parse_data["intent"] = {"name": reading.intent, "confidence": 1.0}
        parse_data["entities"] = [
            {"entity": name, "value": value, "start": 0, "end": len(text), "extractor": "handoff_guard"}
            for name, value in reading.entities.items()
        ]
    return parse_data


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.parse_message

    async def parse_message(self, message, tracker=None, only_output_properties=True):
        parse_data = await original(self, message, tracker, only_output_properties)
        if tracker is not None and parse_data:
            try:
                adjust(parse_data, tracker.get_slot(handoff.SLOT), offered_payloads(tracker.events))
            except Exception:  # never lose the message over the guard
                logger.exception("handoff guard failed; NLU reading kept")
        return parse_data

    MessageProcessor.parse_message = parse_message
    _INSTALLED = True
