"""The call-back request as an application (issue 19).

It is declared as data in ``catalogue/requests/rueckrufbitte.yaml`` (catalogue format; outside
``catalogue/procedures/`` because no citizen looks for it as a procedure) and submitted like any
application: outbox → delivery worker → portal backend, which gives it a case number
(Aktenzeichen) and from which the authority reads it with its own token. The staff desk only
learns *that* there is a new call-back request (``store.CallbackNotice``: the outbox entry, the
case number, no personal data) and fetches it from the portal backend when a member of staff
asks for it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

from buergerassistent.catalogue import CATALOGUE_DIR, Procedure, load_file

PROCEDURE_ID = "rueckrufbitte"
FILE = CATALOGUE_DIR / "requests" / f"{PROCEDURE_ID}.yaml"
ASKED = ("callback_name", "callback_contact", "callback_topic", "callback_consent")  # the chat asks these
PROCEDURE_FIELD = "callback_procedure"  # set by the assistant: the procedure in focus


@lru_cache(maxsize=1)
def procedure() -> Procedure:
    """The call-back request's entry (a form, no facts)."""
    return load_file(FILE, curated=True)


def application(slots: dict[str, Any], procedure_name: Optional[str]) -> dict[str, str]:
    """The data submitted to the backend: the asked fields from the chat's slots, and the
    procedure the conversation was about (if any). Consent must be "ja"."""
    if slots.get("callback_consent") != "ja":
        raise ValueError("a call-back request is submitted only with the citizen's consent")
    data = {name: str(slots.get(name) or "").strip() for name in ASKED}
    if procedure_name:
        data[PROCEDURE_FIELD] = procedure_name
    return data


def is_callback(procedure_id: Optional[str]) -> bool:
    return procedure_id == PROCEDURE_ID
