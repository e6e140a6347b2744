"""Reactions as answers: a Matrix user may choose a numbered option by reacting to the
assistant's question (1️⃣ … 🔟, or 👍 / 👎 where the options are yes and no).

Only the question the assistant asked last counts: the connector remembers the event that
carried the latest options (``store.py``). A reaction meant as a choice on any older message is
not sent to the assistant (its options are gone, and Rasa's payload guard would refuse them
anyway); the citizen hears that it belongs to an earlier question. Other reactions on older
messages (❤️ as a thank-you) are left alone. No Rasa here: pure functions over options.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from buergerassistent.messenger_format import Option
from matrix_connector import texts

# Keycap digits as clients send them (with or without the emoji variation selector).
_KEYCAP = re.compile(r"^([1-9])\ufe0f?\u20e3$")
TEN = "\U0001f51f"  # 🔟
YES_KEYS = frozenset({"\U0001f44d", "\u2705", "\u2714"})  # 👍 ✅ ✔
NO_KEYS = frozenset({"\U0001f44e", "\u274c", "\u2716"})  # 👎 ❌ ✖
# Skin tones and the variation selector change how a key looks, not what it says.
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f]")
_YES_WORDS = frozenset({"ja", "yes"})
_NO_WORDS = frozenset({"nein", "no"})
_FIRST_WORD = re.compile(r"[^\W\d_]+")


def keycap(number: int) -> str:
    """The reaction key for option ``number`` (1-10), as Element offers it."""
    return TEN if number == 10 else f"{number}\ufe0f\u20e3"


def _normal(key: str) -> str:
    return _MODIFIERS.sub("", key.strip())


def _number(key: str) -> Optional[int]:
    if key.strip() == TEN:
        return 10
    m = _KEYCAP.match(key.strip())
    return int(m.group(1)) if m else None


def _first_word(title: str) -> str:
    m = _FIRST_WORD.search(title.casefold())
    return m.group(0) if m else ""


def _yes_no(options: Sequence[Option]) -> tuple[Optional[Option], Optional[Option]]:
    """The options that mean yes and no (Rasa's ``/affirm`` and ``/deny``, or titles that start
    with Ja/Yes and Nein/No), each only when exactly one option means it."""

    def one(payload: str, words: frozenset[str]) -> Optional[Option]:
        by_payload = [o for o in options if o.payload == payload]
        found = by_payload or [o for o in options if _first_word(o.title) in words]
        return found[0] if len(found) == 1 else None

    return one("/affirm", _YES_WORDS), one("/deny", _NO_WORDS)


def is_choice_key(key: str) -> bool:
    """Whether a reaction looks like choosing an option (a digit, yes or no)."""
    normal = _normal(key)
    return _number(key) is not None or normal in YES_KEYS or normal in NO_KEYS


def match_reaction(key: str, options: Sequence[Option]) -> Optional[Option]:
    """The option a reaction chooses among ``options`` (the latest question's), or None."""
    number = _number(key)
    if number is not None:
        return next((o for o in options if o.number == number), None)
    yes, no = _yes_no(options)
    normal = _normal(key)
    if normal in YES_KEYS:
        return yes
    if normal in NO_KEYS:
        return no
    return None


def reaction_hint(options: Sequence[Option], lang: str = "de") -> str:
    """What the options' message says about answering, in the conversation's language ``lang``
    (``texts.py``: German, or English from the message catalogue)."""
    hint = texts.say("OPTIONS_HINT", lang)
    yes, no = _yes_no(options)
    if len(options) == 2 and yes and no:
        return f"{hint} {texts.say('REACT_YES_NO', lang, yes=yes.title, no=no.title)}"
    numbered = [o for o in options if o.number <= 10]
    if len(numbered) >= 2:
        last = keycap(numbered[-1].number)
        return f"{hint} {texts.say('REACT_NUMBERS', lang, first=keycap(1), last=last)}"
    return hint
