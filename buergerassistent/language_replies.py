"""What the assistant says to a message handled as ``other_language`` (issue 20): a language
switch, or a message in an English conversation. Texts come from the message catalogues and the
procedure translations (:mod:`buergerassistent.translations`); ``actions/conversation.py`` only
sends them. No Rasa imports here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from buergerassistent import language, language_state, translations
from buergerassistent.catalogue import Procedure, default_catalogue
from buergerassistent.language_state import ENGLISH, GERMAN, PLAIN

# A message of only greeting, thanks or a plain yes/no/help ("hello", "thank you", "hi there"):
# no service asked for yet, so the assistant asks what the citizen needs instead of "not found".
_SMALL_TALK = re.compile(
    r"^(?:(?:hello|hi|hey|there|good|morning|afternoon|evening|thanks?|thank|you|very|much|yes|no|ok|okay"
    r"|please|help|me)\W*)+$",
    re.I,
)


@dataclass
class Reply:
    texts: list[str] = field(default_factory=list)
    procedure: Optional[str] = None  # a procedure the reply is about (becomes the focus)
    offer_form: bool = False  # ask whether to apply here (Yes/No)
    choices: list[str] = field(default_factory=list)  # English names offered as buttons (last text)
    language: str = GERMAN  # the language the texts are written in


# A follow-up about the service in focus ("tell me more about it", "what about this?").
_REFERS_BACK = re.compile(r"\b(?:it|this|that|these|those|more|details?|again|same|there)\b", re.I)


def _elsewhere(text: str) -> bool:
    """A sentence that asks about something no service and nothing in focus answers ("What is
    the weather tomorrow?"), rather than a follow-up about the service in focus."""
    from buergerassistent.procedure_finder import NONE, decide_english

    if len(text.split()) < 3 or _REFERS_BACK.search(text):
        return False
    return decide_english(text).decision == NONE


def _named(text: str) -> tuple[Optional[Procedure], list[Procedure]]:
    """The procedure an English message asks for, or the candidates to choose from: the English
    discovery decision (``procedure_finder.decide_english``, the same as ``bot discover``)."""
    from buergerassistent.procedure_finder import ANSWER, CHOICE, decide_english

    catalogue = default_catalogue()
    decision = decide_english(text)
    procs = [catalogue.get(c.id) for c in decision.candidates]
    procs = [p for p in procs if p is not None and p.curated and translations.english(p.id) is not None]
    if decision.decision == ANSWER and procs:
        return procs[0], []
    if decision.decision == CHOICE:
        return None, procs
    return None, []


def reply(
    lang: str,
    source: Optional[str],
    text: str,
    switched: bool,
    in_form: bool,
    focus: Optional[Procedure],
) -> Reply:
    """The reply in ``lang`` (the conversation's language after this message). ``switched``: the
    message was an explicit switch ("English please")."""
    if switched:
        out = Reply([translations.message(lang, "switched_form" if in_form else "switched")], language=lang)
        if not in_form and focus is not None:
            overview = (
                translations.english_overview(focus)
                if lang == ENGLISH
                else translations.plain_overview(focus)
                if lang == PLAIN
                else None
            )
            if overview:
                out.texts.append(overview)
        return out
    if lang == ENGLISH:
        return _english(text, in_form, focus)
    if lang == GERMAN and source == language_state.EXPLICIT:
        return Reply([translations.message(GERMAN, "german_chosen")], language=GERMAN)
    # Not switched to English (German chosen in the widget, or Leichte Sprache): the short English
    # answer of issue 15 (what the assistant does, the 115, the city's English pages).
    links = list(focus.links) if focus is not None else []
    url = language.english_pages(links) or language.english_pages(
        [link for p in default_catalogue().curated() for link in p.links]
    )
    return Reply([language.reply_in_english(url)], language=ENGLISH)


def _english(text: str, in_form: bool, focus: Optional[Procedure]) -> Reply:
    topic = translations.english_topic(text)
    named, choices = (None, []) if in_form else _named(text)
    if focus is not None and topic is not None and (named is not None or choices):
        # "what is the deadline?" about the service in focus: a service the search finds for the
        # topic words alone (a deadline among its keywords) does not take its place; a service
        # the rest of the message asks for ("… for my driving licence?") does.
        rest = translations.without_topic(text, topic)
        if len(rest.split()) < 2 or _named(rest) == (None, []):
            named, choices = None, []
    if choices and (focus is None or topic is None):
        # not clearly one service: offer the candidates (buttons send their English names)
        names = [translations.english(p.id).name for p in choices]
        return Reply([translations.message(ENGLISH, "choose")], choices=names, language=ENGLISH)
    if named is None and focus is not None and topic is None and not in_form and _elsewhere(text):
        focus = None  # not about the service in focus: said so, not its overview again
    proc = named or focus
    if proc is None and not in_form and _SMALL_TALK.match(text.strip()):
        return Reply([translations.message(ENGLISH, "ask_need")], language=ENGLISH)
    if proc is None or translations.english(proc.id) is None:
        return Reply([translations.message(ENGLISH, "in_form" if in_form else "not_found")], language=ENGLISH)
    answer = translations.english_answer(proc, topic)
    out = Reply([answer] if answer else [], procedure=proc.id, language=ENGLISH)
    if in_form:
        out.texts.append(translations.message(ENGLISH, "in_form"))
        out.procedure = None
    elif proc.has_form and (named is not None and (focus is None or named.id != focus.id) or topic is None):
        out.offer_form = True
        out.texts.append(translations.message(ENGLISH, "offer_form", name=translations.english(proc.id).name))
    return out
