"""Handoff to staff (issue 19): when the assistant offers a person, when staff are there, what
staff see, and what is stored.

Parts (no Rasa here; the Rasa side is ``actions/handoff.py`` and ``rasa_runtime/handoff_guard.py``,
the agent desk on Matrix is the service ``staff_desk/``):

* ``office_hours.py`` – office hours per weekday from ``HANDOFF_OFFICE_HOURS``, public holidays of
  ``HANDOFF_HOLIDAY_REGION`` (Bavaria) from the ``holidays`` library.
* ``texts.py`` – what the citizen reads: the offer (what happens next, how long), the honest
  "nobody is free" with the 115 and the office from the catalogue, the call-back request.
* ``card.py`` – the context card staff see: procedure, what the citizen asked, form progress
  (personal data masked unless the citizen agreed), channel and language.
* ``store.py`` – cases, the audit table (who saw which conversation when) and call-back requests.

States of a conversation (Rasa slot ``handoff``): ``None`` (the assistant answers), ``waiting``
(handed over, no one has taken it yet), ``active`` (a member of staff writes). While it is
``waiting`` or ``active`` every message of the citizen goes to staff, not to the assistant.
"""

from __future__ import annotations

import re

SLOT = "handoff"
RETURN_SLOT = "handoff_return"  # "form:<form>" or None: where the assistant continues afterwards
WAITING = "waiting"
ACTIVE = "active"

# Intents. The EXTERNAL_ ones come only from the staff desk through Rasa's HTTP API.
MESSAGE_INTENT = "handoff_message"  # set in the Rasa process for every message while handed over
CANCEL_INTENT = "handoff_cancel"  # set in the Rasa process: the citizen stops waiting
ACCEPT_INTENT = "handoff_accept"
DECLINE_INTENT = "handoff_decline"
CALLBACK_INTENT = "request_callback"
TAKEN_INTENT = "EXTERNAL_handoff_taken"
STAFF_MESSAGE_INTENT = "EXTERNAL_staff_message"
END_INTENT = "EXTERNAL_handoff_end"
TIMEOUT_INTENT = "EXTERNAL_handoff_timeout"
TEXT_ENTITY = "staff_text"
SHARE_ENTITY = "share_data"  # "ja": staff may see the form answers unmasked


def is_handed_over(slot_value: object) -> bool:
    return slot_value in (WAITING, ACTIVE)


LEAVE_TEXT = "Nicht mehr warten"
_LEAVE = re.compile(
    r"^\s*(?:ich\s+(?:möchte|will)\s+)?(?:nicht\s+(?:mehr\s+|länger\s+)?warten|warten\s+beenden|"
    r"zurück\s+zum\s+(?:assistenten|chatbot|bot)|"
    # English (the button "Stop waiting" of catalogue/translations/en/messages.yaml)
    r"(?:i\s+(?:do\s+not|don'?t)\s+want\s+to\s+wait(?:\s+any\s+(?:longer|more))?|stop\s+waiting|"
    r"back\s+to\s+the\s+(?:assistant|chatbot|bot)))(?:\s+(?:bitte|please))?\s*[.!]*\s*$",
    re.IGNORECASE,
)


def leaves_queue(text: str) -> bool:
    """While waiting for staff: "Nicht mehr warten" / "Stop waiting" (the button) or "zurück zum
    Assistenten"."""
    return bool(_LEAVE.match(text or ""))
