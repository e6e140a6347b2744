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

import re
from typing import Optional

from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import ADDITIVE, separate_needs
from buergerassistent.discovery import Candidate, one_message
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

# A message of one sentence that finds separate needs lists them ("Bin umgezogen und muss mein
# Auto ummelden"); in a story of several sentences, a part may only tell the background
# (presented_needs). Tried on the development sets (confident wrong answers of about 3,000):
# one sentence 49, at most two 61, at most 12 words 46 but it lost a two-needs scenario of
# `make bench-conversations` written as one longer sentence.
_SENTENCE_END = re.compile(r"[.!?;:]+")


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
    with one_message():  # the same text is ranked for the checklist, the needs and the decision
        return _decide(text, intent, confidence, routed=routed, as_request=as_request, top=top)


def _decide(
    text: str, intent: Optional[str], confidence: float, *, routed: bool, as_request: bool, top: int
) -> ChatDecision:
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
      presented, the others follow (:func:`presented_needs`)."""
    catalogue = default_catalogue()
    cl = first_checklist(text)
    if cl is not None:
        ids = list(cl.offered)
    elif intent is None or intent in PROCEDURE_INTENTS or confidence < OVERRULE_CONFIDENCE:
        ids = presented_needs(text, intent, confidence)
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


def presented_needs(text: str, intent: Optional[str], confidence: float) -> list[str]:
    """The separate needs of a message (``conversation_context.separate_needs``) that the chat
    presents one after the other, the first first; [] when it does not, and the ranking decides
    as for one need. In a story, a part read alone finds things the message is not about ("Die
    Möbel gehen per Spedition" → Sperrmüll), and presenting one of those first was a confident
    wrong answer. So the needs are presented only when

    * the ranking of the whole message answers with one of them (it comes first), or
    * the message is one sentence ("Bin umgezogen und muss mein Auto ummelden"), or it adds needs
      in words ("…, außerdem brauche ich …").

    On the development sets: confident wrong 72 → 49 of about 3,000 questions, top-1 +3."""
    needs = separate_needs(text, discovery(), default_catalogue(), situations=default_life_situations())
    if not needs:
        return []
    whole = ranking_decision(text, intent, confidence)
    if whole.decision == ANSWER and whole.candidates[0].id in needs:
        first = whole.candidates[0].id
        return [first, *(n for n in needs if n != first)]
    if len([s for s in _SENTENCE_END.split(text) if s.strip()]) <= 1 or ADDITIVE.search(text):
        return needs
    return []
