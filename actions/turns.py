"""The dialogue state on the Rasa side: reading and setting the slot ``awaiting``, and ending
the bot's turn after actions that are reached through ``FollowupAction``.

The states and their transitions are in ``buergerassistent/dialogue_state.py``; this module only
translates between them and rasa-sdk (slot events hold the plain string value).

Rules say what follows an intent, but not what follows an action that another action chained
with ``FollowupAction`` (e.g. "ja" → action_handle_affirm → action_submit_application). Without
a rule, Rasa's rule policy falls back and the citizen reads "Das habe ich leider nicht
verstanden" after a perfectly good answer. Such actions therefore end the turn themselves
(``dialogue_state.ENDS_TURN`` lists them; a test checks it against this decorator).
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from rasa_sdk.events import EventType, FollowupAction, SlotSet

from buergerassistent.dialogue_state import KEEP, SLOT, Awaiting, Transition


def current_state(tracker: Any) -> Optional[Awaiting]:
    """The dialogue state held by the tracker (None: nothing pending)."""
    return Awaiting.of(tracker.get_slot(SLOT))


def set_awaiting(state: Optional[Awaiting]) -> EventType:
    """The slot event for ``state`` (the plain string, as stories and trackers hold it)."""
    return SlotSet(SLOT, Awaiting(state).value if state is not None else None)


def state_events(step: Transition, current: Optional[Awaiting]) -> list[EventType]:
    """Slot events for a step the handling action answers itself (none when it keeps the state)."""
    return [] if step.then is KEEP else [set_awaiting(step.state_after(current))]


def ends_turn(run):
    """Wrap an action's ``run``: unless it chains another action, wait for the citizen."""

    @functools.wraps(run)
    async def wrapper(self, dispatcher, tracker, domain):
        events = list(await run(self, dispatcher, tracker, domain))
        if not any(e.get("event") == "followup" for e in events):
            events.append(FollowupAction("action_listen"))
        return events

    wrapper.ends_turn = True
    return wrapper
