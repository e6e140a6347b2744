"""Which language a message is read in (issue 20): English (answered on the English path and,
unless a language was chosen explicitly, switching the conversation) or not.

* The citizen's first typed message is read by ``procedure_finder.language_of``, the same
  function ``bot discover`` (``procedure_finder.decide``) uses, so the chat and the benchmark
  decide alike: short, misspelt or mixed English ("lost my pasport", "parking permit",
  "Anmeldung for my flat") is English, German with one English word ("Ich brauche ein
  Appointment") is German.
* Later messages are read by the detector (``buergerassistent/language.py``, lingua), which needs
  a clear sentence.
* Inside a form an answer is a value whatever its words ("Master of Science", "Software
  Engineer", a company name) and never English to the routing; only a clear English sentence to
  the assistant ("I don't understand, can you say it in English?") is. An explicit switch
  ("English please") is decided by ``language_state.explicit_switch`` before all this.

No Rasa imports here.
"""

from __future__ import annotations

import re
from typing import Optional

from buergerassistent import language
from buergerassistent.language_state import ENGLISH
from buergerassistent.procedure_finder import language_of

# Words of a sentence addressed to the assistant (a question, a request, not understanding); a
# value for a form field ("Master of Science", "Head of the IT department") has none of them.
_TO_ASSISTANT = re.compile(
    r"\?|\b(?:you|your|please|can|could|would|what|how|why|where|when|don'?t|doesn'?t|do|does|understand"
    r"|explain|help|mean|repeat|sorry|again)\b",
    re.I,
)


def speaks_to_assistant(text: str) -> bool:
    """The message is a sentence to the assistant (a question, a request), not a value."""
    return bool(_TO_ASSISTANT.search(text or ""))


def message_language(text: str, *, first_message: bool = False, in_form: bool = False) -> Optional[str]:
    """``"en"`` when the message is to be read as English (answered on the English path and, unless
    a language was chosen explicitly, switching the conversation), else None. ``first_message``:
    the citizen's first typed message; ``in_form``: a form is asking for a value."""
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return None
    if in_form:
        # An answer is a value, whatever its words; only a clear English sentence to the assistant.
        if language.detect(text) == ENGLISH and speaks_to_assistant(text):
            return ENGLISH
        return None
    if first_message:
        return ENGLISH if language_of(text) == ENGLISH else None
    return ENGLISH if language.detect(text) == ENGLISH else None
