"""Tracker copies without replaying the conversation: ``DialogueStateTracker.copy`` and the
temporary tracker a form validates with.

Rasa copies the tracker before every action it runs (so a rejected action leaves no trace) by
building a fresh tracker and applying every event of the conversation to it again: the longer
the conversation, the dearer each action (5 % of the Rasa process's time in `make bench`).

A tracker's state is what its events made of it, so the copy can take that state directly:
the same events in a new list, copies of the slots, the same latest message, action and loop.
A form, too, replays the conversation into a temporary tracker before each validation and each
question (another 6 %); that is such a copy plus the form's few events.
Copies share their slot objects: setting or resetting a slot puts a new slot object into that
tracker's dict instead of changing the shared one (``_set_slot``, ``_reset_slots``, the only two
places where Rasa changes a slot). Copying each of our 105 slots for every copy, several copies a
message, was 5-10 % of the Rasa process's time.
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
    new.slots = dict(self.slots) if _slots_replaced_on_write() else {n: copy.copy(s) for n, s in self.slots.items()}
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
    if "_ba_applied" in self.__dict__:
        # the applied events of these same event objects: the copy continues from them
        # (rasa_runtime/patches.py ``_applied_events``)
        new.__dict__["_ba_applied"] = self.__dict__["_ba_applied"]
    return new


def _slots_replaced_on_write() -> bool:
    """Whether no slot object is ever changed in place, so copies may share them."""
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker._set_slot is set_slot and DialogueStateTracker._reset_slots is reset_slots


def set_slot(self, key, value) -> None:
    """``DialogueStateTracker._set_slot``: the slot's new value in a new slot object."""
    slot = self.slots.get(key) if type(self.slots) is dict else None
    if slot is None:
        _ORIGINAL_SET_SLOT(self, key, value)  # a slot made up on access, or Rasa's error log
        return
    new = copy.copy(slot)
    new.value = value
    self.slots[key] = new


def reset_slots(self) -> None:
    """``DialogueStateTracker._reset_slots``: every slot at its initial value, in new objects."""
    if type(self.slots) is not dict:
        _ORIGINAL_RESET_SLOTS(self)
        return
    for name, slot in list(self.slots.items()):
        new = copy.copy(slot)
        new.reset()
        self.slots[name] = new


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
_ORIGINAL_SET_SLOT = None
_ORIGINAL_RESET_SLOTS = None


def keep_originals() -> None:
    """Remember Rasa's own functions (before any patch replaces them)."""
    global _ORIGINAL_SET_SLOT, _ORIGINAL_RESET_SLOTS
    from rasa.shared.core.trackers import DialogueStateTracker

    if _ORIGINAL_SET_SLOT is None:
        _ORIGINAL_SET_SLOT = DialogueStateTracker._set_slot
        _ORIGINAL_RESET_SLOTS = DialogueStateTracker._reset_slots


def apply_patch() -> None:
    global _ORIGINAL_TEMPORARY_TRACKER
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.trackers import DialogueStateTracker

    keep_originals()
    DialogueStateTracker._set_slot = set_slot
    DialogueStateTracker._reset_slots = reset_slots
    DialogueStateTracker.copy = copy_tracker
    if _ORIGINAL_TEMPORARY_TRACKER is None:
        _ORIGINAL_TEMPORARY_TRACKER = FormAction._temporary_tracker
        FormAction._temporary_tracker = temporary_form_tracker
