"""Tracker copies without replaying the conversation: ``DialogueStateTracker.copy`` and the
temporary tracker a form validates with.

Rasa copies the tracker before every action it runs (so a rejected action leaves no trace) by
building a fresh tracker and applying every event of the conversation to it again: the longer
the conversation, the dearer each action (5 % of the Rasa process's time in `make bench`).

A tracker's state is what its events made of it, so the copy can take that state directly:
the same events in a new list, copies of the slots, the same latest message, action and loop.
A form, too, replays the conversation into a temporary tracker before each validation and each
question (another 6 %); that is such a copy plus the form's few events.
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


def _same_slots(tracker, domain) -> bool:
    """The tracker's slots are the domain's (names, order, types, initial values)."""
    slots = tracker.slots
    return len(slots) == len(domain.slots) and all(
        own.name == name and type(own) is type(slot) and own.initial_value == slot.initial_value
        for (name, own), slot in zip(slots.items(), domain.slots, strict=False)
    )


def temporary_form_tracker(self, current_tracker, additional_events, domain):
    """``FormAction._temporary_tracker``: Rasa's builds a tracker from the domain's slots and the
    conversation's events since the latest restart, then the form's events; when there was no
    restart and the tracker's slots are the domain's, that is a copy of it plus those events."""
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, SlotSet

    if (
        not current_tracker.sender_id
        or current_tracker._max_event_history
        or current_tracker.idx_after_latest_restart() != 0
        or not _same_slots(current_tracker, domain)
    ):
        return _ORIGINAL_TEMPORARY_TRACKER(self, current_tracker, additional_events, domain)
    tracker = copy_tracker(current_tracker)
    for event in [
        SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
        ActionExecuted(self.name()),
        *additional_events,
    ]:
        tracker.update(event)
    return tracker


_ORIGINAL_TEMPORARY_TRACKER = None


def apply_patch() -> None:
    global _ORIGINAL_TEMPORARY_TRACKER
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.trackers import DialogueStateTracker

    DialogueStateTracker.copy = copy_tracker
    if _ORIGINAL_TEMPORARY_TRACKER is None:
        _ORIGINAL_TEMPORARY_TRACKER = FormAction._temporary_tracker
        FormAction._temporary_tracker = temporary_form_tracker
