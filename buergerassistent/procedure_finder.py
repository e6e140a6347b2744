"""Which procedure does the citizen need? NLU intent + catalogue retrieval.

One function for the chat (``action_discover_procedure``, ``action_answer_info``) and for
``python -m bot discover``, so the evaluation measures exactly what the assistant does. Retrieval
(``buergerassistent.discovery``) ranks the catalogue; the NLU intent says whether the message asks
for a procedure at all. When the two disagree, the assistant asks instead of answering
confidently: a wrong procedure stated with confidence is worse than a question back.

What the chat does with a message, as one word (the ``decision`` of ``bot discover``):

* ``answer``: it presents the first procedure as the answer (for two or more separate needs in
  one message: the first of them, ``first_message.request_turn``),
* ``choice``: it offers the candidates as buttons ("Welche dieser Leistungen passt?"; for a life
  situation: the steps of its checklist, in the checklist's order),
* ``none``: it says that it has no fitting procedure (115, portal search), or the message is not
  routed to discovery at all (a greeting, "abbrechen", …: ``routed=False``; which intents are
  routed is read from the dialogue rules, ``bot/routes.py``).

English (issue 20): a message in English is ranked against the English index
(``buergerassistent/discovery_en.py``; :func:`language_of` says which). A first message that
:func:`language_of` reads as English is answered by the English path of the chat
(``action_other_language``, :func:`decide_english`) whatever the NLU intent (the chat decides
with the same function, ``language_routing.message_language``); there only core
procedures are presented (an information entry has no English text yet: the chat says it has no
fitting service, with 115, so the decision is ``none``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from buergerassistent import language, semantic_match
from buergerassistent.answers import ANSWERS_BY_INTENT
from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import named_procedures
from buergerassistent.discovery import Candidate, Decision, Discovery, evidence

# Intents under which a message is about a procedure (named or described).
PROCEDURE_INTENTS = frozenset(
    {
        "request_procedure",
        "choose_procedure",
        "ask_fees",
        "ask_documents",
        "ask_online",
        "ask_where",
        "ask_processing_time",
        "ask_deadline",
    }
)
# NLU must be at least this sure that a message is NOT about a procedure to overrule retrieval.
OVERRULE_CONFIDENCE = 0.6
# … and even then a choice whose best candidate scores this much is still offered when the
# message has at least two words that the catalogue knows (NLU reads "Geburtsurkunde für die
# Hochzeit" as out of scope); chosen on the development sets, see docs/discovery.md (1.0: never).
OVERRULE_KEEP_SCORE = 0.60
# A first message is not answered with a core procedure when a hand-written information entry (a
# topic outside the core: Steuer-ID, Bürgergeld, Hunde in der Stadt) has at least this fraction
# of its evidence: it may be about that topic, so the chat asks. Only here, for the first answer:
# a follow-up ("und beim Hund?") keeps discovery's own reading. Chosen on the development sets
# (docs/discovery.md; 1.0: off).
INFO_RUNNER_UP_RATIO = 0.7

# The chat actions that run discovery on the citizen's first message (see bot/routes.py); logout
# and cancel do when there is nothing to log out or cancel, as at the start of a conversation.
DISCOVERY_ACTIONS = frozenset(
    {
        "action_discover_procedure",
        "action_answer_info",
        "action_choose_procedure",
        "action_logout",
        "action_cancel_application",
    }
)

ANSWER, CHOICE, NONE = "answer", "choice", "none"
_DECISION_OF_KIND = {"confident": ANSWER, "choose": CHOICE, "unknown": NONE}


@lru_cache(maxsize=1)
def discovery() -> Discovery:
    return Discovery.from_catalogue(default_catalogue())


def english_discovery() -> Discovery:
    from buergerassistent.discovery_en import default_english_discovery

    return default_english_discovery()


GERMAN, ENGLISH = "de", "en"
_WORD = re.compile(r"[a-zäöüß']+")


@lru_cache(maxsize=1)
def _function_words() -> tuple[frozenset[str], frozenset[str]]:
    """Words that mark a language: the stop words of one language's discovery and not the
    other's ("in", "an", "will", "was" are both and say nothing)."""
    from buergerassistent.discovery import COLLOQUIAL, ENGLISH_STOPWORDS, STOPWORDS

    # Bavarian spellings that are English words ("is", "do", "i", "a", "mei") say nothing; the
    # other Bavarian spellings ("wos", "dua", "gstorbn", "obglaffa") say German
    bavarian = set(COLLOQUIAL) | {"i", "a", "mei"}
    english = ENGLISH_STOPWORDS - STOPWORDS - bavarian
    german = (STOPWORDS - ENGLISH_STOPWORDS) | (bavarian - ENGLISH_STOPWORDS)
    return frozenset(english), frozenset(german)


def language_of(text: str) -> str:
    """The language to rank ``text`` in: English when the detector says so or when it has more
    English than German function words ("Anmeldung for my flat"; umlauts count as German); a
    message without any ("parking permit", "Reisepass verlängern") by the words that only the
    English texts or only the German catalogue use (German when even)."""
    if language.detect(text) == ENGLISH:
        return ENGLISH
    english_words, german_words = _function_words()
    words = _WORD.findall((text or "").lower())
    en = sum(w in english_words for w in words)
    de = sum(w in german_words or any(c in w for c in "äöüß") for w in words)
    if en > de:
        return ENGLISH
    if en or de:
        return GERMAN
    from buergerassistent.discovery_en import vocabularies

    english_only, german_only = vocabularies()
    en = sum(w in english_only for w in words)
    de = sum(w in german_only for w in words)
    return ENGLISH if en > de else GERMAN


def _core_only(decision: Decision) -> Decision:
    """English: only core procedures have English texts to present; the rest is "none"."""
    core = [c for c in decision.candidates if c.curated]
    if decision.kind == "confident" and not core:
        return Decision("unknown", [])
    if decision.kind == "choose" and len(core) < len(decision.candidates):
        return Decision("choose", core) if core else Decision("unknown", [])
    return decision


def _info_close_behind(text: str, decision: Decision, top: int) -> Decision:
    """A confident core procedure with an information entry close behind becomes a choice."""
    if decision.kind != "confident" or not decision.candidates[0].curated:
        return decision
    best = decision.candidates[0]
    catalogue = default_catalogue()
    floor = INFO_RUNNER_UP_RATIO * evidence(best.score)
    close = [
        c
        for c in discovery().rank(text, top=top)[1:]
        if not c.curated and getattr(catalogue.get(c.id), "information", False) and evidence(c.score) >= floor
    ]
    return Decision("choose", [best, *close]) if close else decision


def find(
    text: str, intent: Optional[str] = None, confidence: float = 0.0, top: int = 3, lang: Optional[str] = None
) -> Decision:
    lang = lang or language_of(text)
    if lang == ENGLISH:
        decision = _core_only(english_discovery().decide(text, top=top))
    else:
        decision = _info_close_behind(text, discovery().decide(text, top=top), top)
    if intent is None or intent in PROCEDURE_INTENTS or confidence < OVERRULE_CONFIDENCE:
        return decision
    # NLU reads this as small talk, out of scope or an answer: a confident match becomes a
    # question back; a vague one is dropped.
    if decision.kind == "confident":
        return Decision("choose", decision.candidates)
    if (
        decision.kind == "choose"
        and decision.candidates[0].score >= OVERRULE_KEEP_SCORE
        # a bare word that is also a dialogue command ("abmelden" = log out) stays the dialogue's
        and sum(1 for group in discovery().explain(text) if group) >= 2
    ):
        return decision
    return Decision("unknown", [])


# Intents that may still be a need described in other words ("inform": a story, a statement).
OPEN_INTENTS = frozenset({"inform", "nlu_fallback"})

# Questions about a procedure's facts (fees, documents, online, where, time, deadline).
INFO_INTENTS = frozenset(ANSWERS_BY_INTENT)


@dataclass(frozen=True)
class ChatDecision:
    """What the chat does with a message at the start of a conversation."""

    decision: str  # answer | choice | none
    candidates: list[Candidate] = field(default_factory=list)  # presented (answer) or offered (choice)
    ranked: list[Candidate] = field(default_factory=list)  # the ranking behind it ([] for none)


def decide(
    text: str, intent: Optional[str] = None, confidence: float = 0.0, *, routed: bool = True, top: int = 3
) -> ChatDecision:
    """The chat's decision for ``text`` by the ranking; ``routed``: whether the intent's rule runs
    discovery. (What ``action_discover_procedure`` shows before the ranking, a checklist or
    separate needs, is ``first_message.decide``.)"""
    if language_of(text) == ENGLISH:
        # The chat reads a first message in English on its English path, whatever NLU read
        # (``language_routing.message_language``, the same function).
        return decide_english(text, top=top)
    if not routed:
        return ChatDecision(NONE)
    found = find(text, intent, confidence, top=top, lang=GERMAN)
    kind = _DECISION_OF_KIND[found.kind]
    if kind != ANSWER and intent in INFO_INTENTS:
        # A question about a procedure that names exactly one by its name or a synonym ("Was
        # kostet ein Reisepass?") is about that one: the chat's info answer reads it so
        # (conversation_context.follow_up_target), and `bot discover` must say what the chat does.
        named = named_procedures(text, discovery(), default_catalogue())
        if len(named) == 1:
            ranking = discovery().rank(text, top=max(top, 10))
            first = next((c for c in ranking if c.id == named[0]), Candidate(named[0], 0.0, True))
            return ChatDecision(ANSWER, [first], [first, *[c for c in ranking if c.id != named[0]][: top - 1]])
    if kind == NONE:
        rescued = semantic_match.rescue(text, top) if _about_a_procedure(intent, confidence) else []
        if not rescued:
            return ChatDecision(NONE)
        offered = _candidates(text, rescued, top)
        return ChatDecision(CHOICE, offered, offered)
    if kind == CHOICE:
        ids = semantic_match.complete_choice(text, [c.id for c in found.candidates], top)
        offered = _candidates(text, ids, top, known=found.candidates)
        return ChatDecision(CHOICE, offered, offered)
    # answer: the ranking (its first is presented), and the closest core procedure in meaning
    # among those after it (the chat offers it after "nein, das meine ich nicht": alternatives)
    ranking = discovery().rank(text, top=top)
    closest = semantic_match.closest_core(text, exclude=[c.id for c in ranking[:2]])
    if closest is not None:
        ranking = [*ranking[: top - 1], *_candidates(text, [closest], top, known=ranking)]
    return ChatDecision(kind, list(found.candidates), ranking)


def alternatives(text: str, exclude: Sequence[str], top: int) -> list[str]:
    """What the chat offers after "nein, das meine ich nicht": the ranking's alternatives that
    could have been a first answer on their own, and the closest core procedure in meaning second,
    as in an answer's ranking (the chat offers the first three: actions/context.py ``recover``)."""
    more = [c.id for c in discovery().alternatives(text, exclude=exclude, top=top)]
    closest = semantic_match.closest_core(text, exclude=[*exclude, *more])
    return [*more[:1], closest, *more[1 : top - 1]] if closest is not None else more


def _about_a_procedure(intent: Optional[str], confidence: float) -> bool:
    """Whether NLU leaves it open that the message asks for a procedure (the second opinion
    does not overrule "Danke" or a form answer read with confidence)."""
    return intent is None or intent in PROCEDURE_INTENTS or intent in OPEN_INTENTS or confidence < OVERRULE_CONFIDENCE


def _candidates(text: str, ids: list[str], top: int, known: Sequence[Candidate] = ()) -> list[Candidate]:
    """Candidates for ``ids`` with the ranking's scores (0 for one only the encoder found)."""
    catalogue = default_catalogue()
    scores = {c.id: c for c in known}
    if not set(ids) <= set(scores):
        scores = {c.id: c for c in discovery().rank(text, top=max(top, 10))} | scores
    return [scores.get(i) or Candidate(i, 0.0, bool(getattr(catalogue.get(i), "curated", True))) for i in ids]


def _english_ranked(text: str, top: int) -> list[Candidate]:
    return [c for c in english_discovery().rank(text, top=top + 3) if c.curated][:top]


@lru_cache(maxsize=1)
def _english_names() -> dict[str, str]:
    from buergerassistent import translations

    return {" ".join(e.name.lower().split()): pid for pid, e in translations.english_entries().items()}


def decide_english(text: str, top: int = 3) -> ChatDecision:
    """What the English path of the chat (``action_other_language``) does with ``text`` outside a
    form: present one core procedure, offer a choice, or say it has none (with 115). A message
    that is exactly a service's English name (a button of an English choice) is that service."""
    exact = _english_names().get(" ".join(text.lower().split()))
    if exact is not None:
        ranking = [c for c in _english_ranked(text, top + 1) if c.id != exact]
        first = Candidate(exact, 1.0, True)
        return ChatDecision(ANSWER, [first], [first, *ranking][:top])
    found = find(text, top=top, lang=ENGLISH)
    kind = _DECISION_OF_KIND[found.kind]
    if kind == NONE:
        return ChatDecision(NONE)
    if kind == CHOICE and found.candidates:
        from buergerassistent.discovery_en import named_procedure

        # One service's English name in the message ("certificate of registration") that is also
        # the best candidate: that service, not a choice (issue 20).
        if named_procedure(text) == found.candidates[0].id:
            return ChatDecision(ANSWER, list(found.candidates), _english_ranked(text, top))
    shown = _english_ranked(text, top) if kind == ANSWER else list(found.candidates)
    return ChatDecision(kind, list(found.candidates), shown)


def first_message_intent(text: str, intent: Optional[str], confidence: float) -> tuple[Optional[str], float]:
    """The intent the chat acts on for a conversation's first message: NLU's, as the intent guard
    adjusts it in the Rasa process (``rasa_runtime/intent_guard.py``: "Eheschließung anmelden"
    read as login is a need). ``bot discover`` and the benchmark decide with it."""
    from buergerassistent import intent_guard

    guarded = intent_guard.decide(
        intent_guard.Message(text, intent, confidence), intent_guard.Context(first_message=True)
    )
    if guarded.kind == "reinterpret":
        return guarded.intent, 1.0
    if guarded.kind == "ask":
        return intent_guard.CONFIRM_INTENT, 1.0
    return intent, confidence


def intent_of(latest_message: dict) -> tuple[Optional[str], float]:
    intent = latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def ranked(text: str, intent: Optional[str] = None, confidence: float = 0.0, top: int = 3) -> list:
    """The candidates the assistant would consider, best first; [] when it would say it does not know."""
    return decide(text, intent, confidence, top=top).ranked
