"""Ending the bot's turn after actions that are reached through ``FollowupAction``.

Rules say what follows an intent, but not what follows an action that another action chained
with ``FollowupAction`` (e.g. "ja" → action_handle_affirm → action_submit_application). Without
a rule, Rasa's rule policy falls back and the citizen reads "Das habe ich leider nicht
verstanden" after a perfectly good answer. Such actions therefore end the turn themselves.
"""

from __future__ import annotations

import functools

from rasa_sdk.events import FollowupAction


def ends_turn(run):
    """Wrap an action's ``run``: unless it chains another action, wait for the citizen."""

    @functools.wraps(run)
    async def wrapper(self, dispatcher, tracker, domain):
        events = list(await run(self, dispatcher, tracker, domain))
        if not any(e.get("event") == "followup" for e in events):
            events.append(FollowupAction("action_listen"))
        return events

    return wrapper
