"""Typed intent payloads (``/intent{…}``) only where the assistant offered them.

Rasa reads a message that starts with ``/`` as an intent with entities and skips the NLU
(RegexMessageHandler, ``YAMLStoryReader.unpack_regex_message``). Our buttons use that: their
payloads are ``/affirm``, ``/choose_procedure{"procedure": "…"}``, ``/change_field{"field": "…"}``.
But a citizen can type any such payload, e.g. ``/change_field{"field": "vorname"}`` while the
assistant waits for a login, and open the form behind the login gate.

So a message starting with ``/`` stays a payload only when

* it equals the payload of a button in the assistant's last turn of this conversation (the bot
  messages since the citizen's previous message, so a button from an earlier turn no longer
  counts), or
* it is on ``ALLOWED``: intents without entities whose effect a citizen gets anyway by typing a
  word ("ja", "nein", "hallo", "abbrechen").

Everything else is turned into plain text by removing the leading slashes; Rasa's NLU then
classifies it like any typed sentence, and no entity comes from the text.

Applied once for every channel, in the Rasa process (``install``, called by rasa_runtime/process.py):
at the point where Rasa has fetched the conversation's tracker under the conversation's lock and
is about to parse the message. The login service's ``trigger_intent`` calls do not pass there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Optional

# Harmless without an offer: the same as typing "hallo", "ja", "nein", "danke", "tschüss",
# "Hilfe", "abbrechen". No entities, no default intents such as /restart or /session_start.
ALLOWED = frozenset({"/greet", "/affirm", "/deny", "/thanks", "/goodbye", "/help", "/cancel"})

_LEADING_SLASHES = re.compile(r"^[\s/]+")


def offered_payloads(events: Iterable[Any]) -> set[str]:
    """Payloads of the buttons in the assistant's messages after the citizen's last message.

    ``events``: a tracker's events, oldest first (Rasa event objects or their dicts).
    """
    offered: set[str] = set()
    for event in reversed(list(events)):
        kind = _event_type(event)
        if kind == "user":
            break
        if kind != "bot":
            continue
        data = event.get("data") if isinstance(event, dict) else getattr(event, "data", None)
        data = data or {}
        for button in (data.get("buttons") or []) + (data.get("quick_replies") or []):
            payload = button.get("payload") if isinstance(button, dict) else None
            if isinstance(payload, str) and payload.startswith("/"):
                offered.add(payload.strip())
    return offered


def guard_text(text: Optional[str], offered: set[str]) -> Optional[str]:
    """The text Rasa should parse: ``text`` itself unless it is a payload nobody offered."""
    if not text:
        return text
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    if stripped in offered or stripped in ALLOWED:
        return stripped
    plain = _LEADING_SLASHES.sub("", stripped)
    # Only slashes and blanks: Rasa cannot read that as an intent either; keep what was typed.
    return plain or text


def _event_type(event: Any) -> Optional[str]:
    if isinstance(event, dict):
        return event.get("event")
    return getattr(event, "type_name", None)


_INSTALLED = False


class GuardNotApplicable(RuntimeError):
    """The guard cannot be hooked into this Rasa version: the process must not start without it."""


# The hook point and its parameters, as in Rasa 3.6 (rasa/core/processor.py).
HOOK = "_handle_message_with_tracker"
HOOK_PARAMETERS = ["self", "message", "tracker"]


def check_hook(processor_class: Any) -> Any:
    """Rasa's ``MessageProcessor._handle_message_with_tracker``, if it is the coroutine function
    ``(self, message, tracker)`` this guard wraps; else ``GuardNotApplicable``.

    This is a security measure, not a speed fix: it is installed on every Rasa version and with
    ``BA_RASA_PATCHES=0``. Should a Rasa update move or change the hook, the Rasa process refuses
    to start (rasa_runtime/process.py) rather than run without the guard."""
    import inspect

    original = processor_class.__dict__.get(HOOK)
    if original is None or not inspect.iscoroutinefunction(original):
        raise GuardNotApplicable(
            f"Payload-Schutz: {processor_class.__name__}.{HOOK} fehlt in dieser Rasa-Version; "
            "ohne den Schutz startet der Rasa-Prozess nicht (rasa_runtime/channels/payload_guard.py anpassen)."
        )
    parameters = list(inspect.signature(original).parameters)
    if parameters != HOOK_PARAMETERS:
        raise GuardNotApplicable(
            f"Payload-Schutz: {processor_class.__name__}.{HOOK}{tuple(parameters)} statt {tuple(HOOK_PARAMETERS)}; "
            "ohne den Schutz startet der Rasa-Prozess nicht (rasa_runtime/channels/payload_guard.py anpassen)."
        )
    return original


def install() -> None:
    """Guard every message Rasa handles (all input channels) in this process; raises
    ``GuardNotApplicable`` if this Rasa has no hook point of the expected shape."""
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.processor import MessageProcessor

    original = check_hook(MessageProcessor)

    async def handle_message_with_tracker(self, message, tracker) -> None:
        if message.parse_data is None and message.text and message.text.lstrip().startswith("/"):
            message.text = guard_text(message.text, offered_payloads(tracker.events))
        return await original(self, message, tracker)

    MessageProcessor._handle_message_with_tracker = handle_message_with_tracker
    _INSTALLED = True
