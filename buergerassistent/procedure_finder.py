"""Which procedure does the citizen need? NLU intent + catalogue retrieval.

One function for the chat (``action_discover_procedure``) and for ``python -m bot discover``, so
the evaluation measures exactly what the assistant does. Retrieval (``buergerassistent.discovery``)
ranks the catalogue; the NLU intent says whether the message asks for a procedure at all. When
the two disagree, the assistant asks instead of answering confidently: a wrong procedure stated
with confidence is worse than a question back.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from buergerassistent.catalogue import default_catalogue
from buergerassistent.discovery import Decision, Discovery

# Intents under which a message is about a procedure (named or described).
PROCEDURE_INTENTS = frozenset(
    {"request_procedure", "choose_procedure", "ask_fees", "ask_documents", "ask_online", "ask_where"}
)
# NLU must be at least this sure that a message is NOT about a procedure to overrule retrieval.
OVERRULE_CONFIDENCE = 0.6


@lru_cache(maxsize=1)
def discovery() -> Discovery:
    return Discovery.from_catalogue(default_catalogue())


def find(text: str, intent: Optional[str] = None, confidence: float = 0.0, top: int = 3) -> Decision:
    decision = discovery().decide(text, top=top)
    if intent is None or intent in PROCEDURE_INTENTS or confidence < OVERRULE_CONFIDENCE:
        return decision
    # NLU reads this as small talk, out of scope or an answer: a confident match becomes a
    # question back; a vague one is dropped.
    if decision.kind == "confident":
        return Decision("choose", decision.candidates)
    return Decision("unknown", [])


def intent_of(latest_message: dict) -> tuple[Optional[str], float]:
    intent = latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def ranked(text: str, intent: Optional[str] = None, confidence: float = 0.0, top: int = 3) -> list:
    """The candidates the assistant would consider, best first; [] when it would say it does not know."""
    if find(text, intent, confidence, top=top).kind == "unknown":
        return []
    return discovery().rank(text, top=top)
