"""``DialogueStateTracker.copy`` without replaying the conversation.

Rasa copies the tracker before every action it runs (so a rejected action leaves no trace) by
building a fresh tracker and applying every event of the conversation to it again: the longer
the conversation, the dearer each action (5 % of the Rasa process's time in `make bench`).

A tracker's state is what its events made of it, so the copy can take that state directly:
the same events in a new list, copies of the slots, the same latest message, action and loop.
What Rasa's replayed copy does not inherit, ours does not either (model and assistant id,
sender source). Trackers with a limited event history are copied Rasa's way: there the events
kept no longer explain the state. tests/test_tracker_copy.py compares both copies field by field
on every prefix of our rule and test conversations.
"""

from __future__ import annotations

import copy
from collections import deque

def copy_tracker(self):
    from rasa.shared.constants import DEFAULT_SENDER_ID
    from rasa.shared.core.trackers import DialogueStateTracker

    if type(self) is not DialogueStateTracker or type(self.slots) is not dict or self._max_event_history:
        return self.travel_back_in_time(float("inf"))  # Rasa's copy: for a subclass, slots made
        # up on access, or a cut history
    new = DialogueStateTracker.__new__(DialogueStateTracker)
    new._max_event_history = self._max_event_history
    new.events = deque(self.events)
    new.sender_id = self.sender_id or DEFAULT_SENDER_ID
    new.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
    new.sender_source = None
    new.is_rule_tracker = self.is_rule_tracker
    new._paused = self._paused
    new.followup_action = self.followup_action
    new.latest_action = dict(self.latest_action) if self.latest_action is not None else None
    new.latest_message = self.latest_message
    new.latest_bot_utterance = self.latest_bot_utterance
    new.active_loop = copy.copy(self.active_loop)
    new.model_id = None
    new.assistant_id = None
    return new


def apply_patch() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    DialogueStateTracker.copy = copy_tracker
