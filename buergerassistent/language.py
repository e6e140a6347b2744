"""Messages in another language than German (issue 15).

The assistant speaks German. A citizen who writes in English gets a short answer in English: what
the assistant can do, and where to get help (the 115, the city's English pages where the catalogue
has a link). German with a few English words ("ich brauche ein Appointment") stays German.

Detection uses ``lingua-language-detector`` with only the languages we tell apart (German and
English, loaded once per process, :func:`detector`) and two plain checks on top of it: the message
has at least :data:`MIN_WORDS` words, and it has English function words and no German ones.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Optional

ENGLISH = "en"
MIN_WORDS = 3
MIN_CONFIDENCE = 0.7

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß']+")
# Words that occur in English sentences and not in German ones ("in", "so", "was" occur in both).
_ENGLISH_WORDS = frozenset(
    """i i'm im my me you your is are am the a an to for of with and how what where when why who
    can could would should do does did don't need want have has please hello hi thank thanks
    speak english help register get apply this that it it's there here not no yes lost new
    car dog moved move address passport id card appointment office city""".split()
)
_GERMAN_WORDS = frozenset(
    """ich du sie wir ihr mein meine meinen mich mir der die das den dem des ein eine einen und oder
    ist sind bin nicht kein keine für bitte wie wo wann warum was wer möchte will brauche habe
    hallo danke ja nein auch noch schon mit von zu auf aus bei nach über umgezogen""".split()
)


@lru_cache(maxsize=1)
def detector() -> Any:
    """The lingua detector for German and English (built once; its models come with the wheel)."""
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.GERMAN, Language.ENGLISH).build()


def warm_up() -> None:
    """Load the detector's models now (about 1 s, about 100 MB), not on a citizen's first message."""
    detector().compute_language_confidence_values("Where can I apply for a new passport?")


def detect(text: str) -> Optional[str]:
    """``"en"`` when ``text`` is written in English, else None (German, mixed, or too short)."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    if len(words) < MIN_WORDS:
        return None
    if any(w in _GERMAN_WORDS for w in words) or any(ch in text for ch in "äöüÄÖÜß"):
        return None
    if not any(w in _ENGLISH_WORDS for w in words):
        return None
    for value in detector().compute_language_confidence_values(text):
        if value.language.name == "ENGLISH":
            return ENGLISH if value.value >= MIN_CONFIDENCE else None
    return None


def has_german_words(text: str) -> bool:
    """The text has German function words or umlauts ("Ich brauche ein Appointment"): German,
    whatever English words it contains."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    return any(w in _GERMAN_WORDS for w in words) or any(ch in (text or "") for ch in "äöüÄÖÜß")


def english_pages(links: list[Any]) -> Optional[str]:
    """The first link of the catalogue to the city's English pages (``/en/`` in the path)."""
    for link in links:
        url = getattr(link, "url", None) or ""
        if "/en/" in url:
            return url
    return None


def reply_in_english(english_url: Optional[str] = None) -> str:
    """What the assistant says to a message in English (short; no facts the catalogue lacks)."""
    text = (
        "Hello! I am the city's chat assistant. I can only help in German: I help you find the right "
        "administrative service of the city, tell you what you need and what it costs, and take some "
        "applications here in the chat. For help in English, please call the public service number 115."
    )
    if english_url:
        text += f" The city's pages in English: {english_url}"
    return text
