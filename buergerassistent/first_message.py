"""What the chat does with a conversation's first message, as ``python -m bot discover`` and
``make bench-discovery`` report it (issue 16: the decision must be exactly the chat's).

``procedure_finder.decide`` is the ranking's decision. ``action_discover_procedure`` (the rule of
``request_procedure``, ``inform``, ``out_of_scope``, ``nlu_fallback``: ``bot/routes.py``) first
shows a life situation's checklist, or presents separate needs one after the other, and only then
ranks. :func:`decide` adds that step; the action and this module call the same functions
(``life_situations.first_checklist``, ``conversation_context.separate_needs``). A module of its
own because ``life_situations`` builds on ``procedure_finder``'s index.
"""

from __future__ import annotations

from typing import Optional

from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import separate_needs
from buergerassistent.discovery import Candidate
from buergerassistent.life_situations import default_life_situations, first_checklist
from buergerassistent.procedure_finder import (
    ANSWER,
    CHOICE,
    ENGLISH,
    OVERRULE_CONFIDENCE,
    PROCEDURE_INTENTS,
    ChatDecision,
    discovery,
    language_of,
)
from buergerassistent.procedure_finder import decide as ranking_decision


def decide(
    text: str,
    intent: Optional[str] = None,
    confidence: float = 0.0,
    *,
    routed: bool = True,
    as_request: bool = False,
    top: int = 3,
) -> ChatDecision:
    """The chat's decision for a first message; ``routed``: whether the intent's rule runs
    discovery; ``as_request``: whether that rule runs ``action_discover_procedure``."""
    if as_request and routed and language_of(text) != ENGLISH:
        early = request_turn(text, intent, confidence, top=top)
        if early is not None:
            return early
    return ranking_decision(text, intent, confidence, routed=routed, top=top)


def request_turn(text: str, intent: Optional[str], confidence: float, top: int = 3) -> Optional[ChatDecision]:
    """What ``action_discover_procedure`` shows before the ranking, or None:

    * a life situation's checklist ("Wir bekommen ein Baby"): a choice of its steps, in the
      checklist's order, the step the message asks about first (``life_situations.first_checklist``,
      ``Checklist.offered``);
    * two or more separate needs ("Ich ziehe um und brauche einen Parkausweis"): the first is
      presented, the others follow (``conversation_context.separate_needs``)."""
    catalogue = default_catalogue()
    cl = first_checklist(text)
    if cl is not None:
        ids = list(cl.offered)
    elif intent is None or intent in PROCEDURE_INTENTS or confidence < OVERRULE_CONFIDENCE:
        ids = separate_needs(text, discovery(), catalogue, situations=default_life_situations())
    else:
        ids = []
    if not ids:
        return None
    scores = {c.id: c for c in discovery().rank(text, top=len(catalogue))}
    shown = [scores.get(i) or Candidate(i, 0.0, bool(getattr(catalogue[i], "curated", True))) for i in ids]
    if cl is not None:
        # every step is a button: all are offered, whatever ``top``
        return ChatDecision(CHOICE, shown, shown)
    return ChatDecision(ANSWER, shown[:1], shown[:top])
