"""Life situations in the chat: "wir bekommen ein Baby" gets the ordered checklist of its
procedures (``buergerassistent/life_situations.py``, data in ``catalogue/lebenslagen/``), with one
button per step; a button, "das erste" or a step's name typed starts that step.

Called by ``actions/dialogue.py``: ActionDiscoverProcedure, before the procedure ranking (the rule for
intent ``inform`` outside a form runs it too, so "2" or "das erste" chooses a step). The checklist the citizen saw is
read back from the buttons of the assistant's last list of buttons, so no slot is needed: yes/no
questions in between keep it (after the first step, "das zweite" still works); once another list
was offered, "das erste" no longer refers to the checklist.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.turns import set_awaiting
from buergerassistent.catalogue import default_catalogue
from buergerassistent.conversation_context import separate_needs
from buergerassistent.life_situations import (
    Checklist,
    checklist,
    checklist_text,
    default_life_situations,
    first_checklist,
)
from buergerassistent.procedure_finder import discovery

logger = logging.getLogger(__name__)

PAYLOAD_PREFIX = "/choose_procedure"


def step_payload(procedure_id: str) -> str:
    return f'{PAYLOAD_PREFIX}{{"procedure": "{procedure_id}"}}'


def _payload_procedure(payload: str) -> Optional[str]:
    if not isinstance(payload, str) or not payload.startswith(PAYLOAD_PREFIX + "{"):
        return None
    try:
        value = json.loads(payload[len(PAYLOAD_PREFIX) :]).get("procedure")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


@dataclass
class LifeTurn:
    """What the life-situation step did with the message: ``present`` a procedure (a step was
    chosen; the caller presents it), or it answered itself with ``events``."""

    events: list[EventType] = field(default_factory=list)
    present: Optional[str] = None


# Yes/no questions since the checklist ("Möchten Sie … beantragen?", the summary) keep it the
# offer: after one step the citizen can say "das zweite". Any other list of buttons replaces it.
YES_NO_PAYLOADS = frozenset({"/affirm", "/deny"})
# … but not forever: a checklist more citizen messages ago than this is no longer the offer.
MAX_TURNS_SINCE_CHECKLIST = 20


def offered_checklist(tracker: Tracker) -> Optional[Checklist]:
    """The checklist of the assistant's last list of buttons (yes/no questions do not count),
    if that list was one."""
    turns = 0
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            turns += 1
            if turns > MAX_TURNS_SINCE_CHECKLIST:
                return None
        if event.get("event") != "bot":
            continue
        buttons = (event.get("data") or {}).get("buttons") or []
        if not buttons or {b.get("payload") for b in buttons} <= YES_NO_PAYLOADS:
            continue
        ids = [_payload_procedure(b.get("payload")) for b in buttons]
        if None in ids:
            return None
        situations = default_life_situations()
        for situation in situations:
            for done in (False, True):
                cl = checklist(situation, default_catalogue(), done)
                if [item.procedure for item in cl.items] == ids:
                    return cl
        return None
    return None


def show_checklist(dispatcher: CollectingDispatcher, cl: Checklist) -> None:
    # said once, also when another part of the turn has already said it (a word of sympathy
    # for any message that reports a death)
    if cl.situation.sympathy and not any(m.get("text") == cl.situation.sympathy for m in dispatcher.messages):
        dispatcher.utter_message(text=cl.situation.sympathy)
    dispatcher.utter_message(
        text=checklist_text(cl),
        # in the list's order, also with a focus named above it: "das zweite" is the second button
        buttons=[
            {"title": f"{item.number}. {item.title}", "payload": step_payload(item.procedure)} for item in cl.items
        ],
    )


def chosen_step(tracker: Tracker) -> Optional[str]:
    """The catalogue id of the checklist step the latest message chooses, if a checklist was
    the last offer."""
    offered = offered_checklist(tracker)
    if offered is None:
        return None
    chosen = default_life_situations().pick_step(tracker.latest_message.get("text") or "", offered)
    if chosen is not None:
        logger.info("life situation %s: step %s chosen", offered.situation.id, chosen)
    return chosen


def life_situation_turn(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[LifeTurn]:
    """A reply that picks a step of the checklist just shown, or a message describing a life
    situation (then the checklist is shown; not for a question about a fact of the one procedure
    it finds: ``life_situations.first_checklist``); None for anything else (the procedure ranking
    follows)."""
    chosen = chosen_step(tracker)
    if chosen is not None:
        return LifeTurn(present=chosen)
    cl = first_checklist(tracker.latest_message.get("text") or "")
    if cl is None:
        return None
    logger.info("life situation %s recognised", cl.situation.id)
    show_checklist(dispatcher, cl)
    # A second need in the same message that the checklist does not cover ("… selbstständig und
    # hab mir einen Welpen geholt"): named now, and kept for after the checklist's steps.
    catalogue = default_catalogue()
    text = tracker.latest_message.get("text") or ""
    steps = {item.procedure for item in cl.items}
    others = [i for i in separate_needs(text, discovery(), catalogue) if i not in steps]
    if others:
        names = " und ".join(f"„{catalogue[i].name}“" for i in others)
        dispatcher.utter_message(text=f"Außerdem haben Sie geschrieben: {names}. Darum kümmern wir uns danach.")
    return LifeTurn(events=[set_awaiting(None), *([SlotSet("pending_needs", others)] if others else [])])
