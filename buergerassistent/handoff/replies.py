"""Typed answers to the handoff offer and to the call-back offer (issue 19).

The offers have buttons (``/handoff_accept``, ``/handoff_decline``, ``/request_callback``), but a
citizen may just as well type "ja", "gerne", "ok, verbinden Sie mich" or "nein danke". Such a
reply means the offer **only in the turn right after it**: the assistant's last messages carried
the offer's buttons (``offered``: their payloads, read by the Rasa process with
``rasa_runtime/channels/payload_guard.offered_payloads``). Anywhere else "ja" keeps its other
meanings (the dialogue states of ``buergerassistent/dialogue_state.py``).

A reply that asks something ("ja, aber wie lange dauert das?") or says more than a short answer
is left to the NLU: it is not read as yes or no here.

Typed "ja" to the handoff offer shares no form answers with staff (the careful reading); only
"ja, mit meinen Angaben" does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from buergerassistent.handoff import ACCEPT_INTENT, CALLBACK_INTENT, DECLINE_INTENT, SHARE_ENTITY

HANDOFF_OFFER = "handoff"
CALLBACK_OFFER = "callback"
MAX_WORDS = 8

_YES = (
    r"(?:ja|jawohl|jap|jo|gerne?|ok(?:ay)?|o\.\s?k\.?|klar|einverstanden|bitte|gut|"
    r"in\s+ordnung|machen\s+sie\s+das|das\s+wäre\s+(?:gut|nett|schön)|"
    # English (the offer is in English in an English conversation, issue 20)
    r"yes|yeah|yep|sure|please|of\s+course|that\s+would\s+be\s+(?:good|great|nice))"
)
_POLITE = r"(?:\s*[,.!]?\s*(?:bitte|gerne?|danke(?:\s+schön)?|sehr\s+gerne?|please|thanks|thank\s+you))*"
_CONNECT = (
    r"(?:(?:bitte\s+)?(?:verbinden|leiten)\s+sie\s+mich(?:\s+(?:bitte\s+)?(?:weiter|mit\s+(?:ein(?:e[rmn]?)?\s+)?\w+))?|"
    r"(?:bitte\s+)?weiterleiten|(?:bitte\s+)?weitergeben|(?:mit\s+einer?\s+)?(?:person|menschen|mitarbeiter(?:in)?)"
    r"(?:\s+(?:bitte|schreiben|sprechen))?|(?:please\s+)?(?:pass|put)\s+me\s+(?:on|through)|"
    r"(?:i\s+(?:will|can|want\s+to)\s+)?wait|(?:please\s+)?connect\s+me|ich\s+(?:möchte|will|warte)(?:\s+gerne?)?(?:\s+(?:warten|weitergeleitet\s+werden))?)"
)
_CALL_ME = (
    r"(?:(?:bitte\s+)?(?:einen\s+)?rückruf(?:\s+(?:anfordern|bitte|erwünscht))?|"
    r"(?:bitte\s+)?rufen\s+sie\s+mich(?:\s+bitte)?\s+(?:zurück|an)|"
    r"ich\s+(?:möchte|hätte\s+gerne?|will)\s+(?:gerne?\s+)?(?:einen\s+)?rückruf|"
    r"(?:einen\s+)?rückruf\s+anfordern|melden\s+sie\s+sich(?:\s+bitte)?(?:\s+bei\s+mir)?|"
    r"(?:please\s+)?call\s+me(?:\s+back)?|(?:i\s+would\s+like\s+)?a\s+call-?\s?back|(?:ask\s+for\s+a\s+)?call-?\s?back)"
)
_SHARE_YES = (
    r"(?:mit\s+(?:meinen|den)\s+angaben|mit\s+angaben|angaben\s+(?:dürfen|darf)\s+\w+\s+sehen|"
    r"with\s+(?:my\s+)?answers)"
)
_SHARE_NO = r"(?:ohne\s+(?:meine\s+|die\s+)?angaben|without\s+(?:my\s+)?answers)"
_NO = (
    r"(?:nein|ne|nee|nö|no|lieber\s+nicht|eher\s+nicht|nicht\s+nötig|brauche\s+ich\s+nicht|"
    r"kein(?:en)?\s+(?:rückruf|bedarf|mensch(?:en)?|weiterleiten)|danke\s*,?\s*nein|nein\s+danke|"
    r"ich\s+(?:möchte|will)\s+(?:lieber\s+)?(?:nicht|keinen?\s+rückruf)|(?:doch\s+)?nicht\s+weiterleiten|"
    r"no\s+thanks|no,?\s+thank\s+you|not\s+now|rather\s+not|no\s+need)"
)
_SEP = r"\s*[,.!;:-]?\s*"


def _whole(*parts: str) -> re.Pattern[str]:
    return re.compile(r"^\s*" + _SEP.join(parts) + r"\s*[.!]*\s*$", re.IGNORECASE)


_ACCEPT_PATTERNS = [
    _whole(_YES + _POLITE),
    _whole(_YES + _POLITE, _CONNECT + _POLITE),
    _whole(_CONNECT + _POLITE),
    _whole(_YES + _POLITE, _SHARE_YES + _POLITE),
    _whole(_YES + _POLITE, _SHARE_NO + _POLITE),
    _whole(_SHARE_YES + _POLITE),
    _whole(_SHARE_NO + _POLITE),
]
_CALLBACK_PATTERNS = [
    _whole(_YES + _POLITE),
    _whole(_YES + _POLITE, _CALL_ME + _POLITE),
    _whole(_CALL_ME + _POLITE),
]
_BARE_YES = _whole(_YES + _POLITE)
_DECLINE = _whole(
    _NO + _POLITE + r"(?:" + _SEP + r"(?:danke|das\s+ist\s+nicht\s+nötig|ich\s+schaffe\s+das|i\s+can\s+manage))?"
)
_SHARES = re.compile(_SHARE_YES, re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    intent: str
    entities: dict[str, str] = field(default_factory=dict)


def offer_in(offered: set[str]) -> Optional[str]:
    """Which offer the assistant's last turn made: ``HANDOFF_OFFER``, ``CALLBACK_OFFER`` or None."""
    if any(p == f"/{ACCEPT_INTENT}" or p.startswith(f"/{ACCEPT_INTENT}{{") for p in offered):
        return HANDOFF_OFFER
    if f"/{CALLBACK_INTENT}" in offered:
        return CALLBACK_OFFER
    return None


def _short(text: str) -> bool:
    return "?" not in text and len(text.split()) <= MAX_WORDS


def read(text: Optional[str], offered: set[str]) -> Optional[Reading]:
    """The typed ``text`` as an answer to the offer in ``offered``; None when it is not one (or
    there was no offer in the last turn)."""
    text = (text or "").strip()
    offer = offer_in(offered)
    if offer is None or not text or text.startswith("/") or not _short(text):
        return None
    if _DECLINE.match(text):
        return Reading(DECLINE_INTENT)
    if offer == HANDOFF_OFFER and any(p.match(text) for p in _ACCEPT_PATTERNS):
        share = "ja" if _SHARES.search(text) else "nein"
        return Reading(ACCEPT_INTENT, {SHARE_ENTITY: share})
    if offer == CALLBACK_OFFER and any(p.match(text) for p in _CALLBACK_PATTERNS):
        return Reading(CALLBACK_INTENT)
    return None


def bare_yes(text: Optional[str]) -> bool:
    """Only "ja" (or "ja bitte", "gerne", "ok" …): no value, no question."""
    return bool(_BARE_YES.match((text or "").strip()))
