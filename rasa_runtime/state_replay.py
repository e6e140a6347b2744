"""The dialogue states of a conversation, computed once per event instead of once per prediction.

To predict the next action, RulePolicy asks ``Domain.states_for_tracker_history`` for the state
at every turn of the conversation (two or three times per message). Rasa answers by replaying the
whole conversation into a fresh tracker each time, so a message costs more the longer the
conversation is (17 % of the Rasa process's time in `make bench`).

The state at a turn depends only on the events before it. So we keep, on the tracker, the replay
tracker, the states computed so far and the applied events they came from; the next call replays
only the events added since. Rasa's applied events are not always an extension of the earlier
ones: when a form runs again on its happy path, the user turn since its previous run drops out.
For that case we keep a copy of the replay as it was right after the form's latest run and go on
from there. Any other change (a revert, a restart, another domain or other arguments) replays
from the start as Rasa does.
The tracker store hands each message a copy of the conversation's kept tracker and passes this
replay on with it (rasa_runtime/tracker_store.py), so the replay carries over between messages
too; it is checked against the events by identity, which copies share.

tests/test_state_replay.py compares it with Rasa's own on training and test conversations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class _Replay:
    domain: Any
    rule_only_data: Optional[dict]
    tracker: Any  # the replay tracker, after ``events``
    events: list = field(default_factory=list)  # applied events replayed so far
    states: list = field(default_factory=list)  # states at each ActionExecuted among them
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False
    checkpoint: Optional[_Replay] = None  # as it was right after the latest form action


def _snapshot(replay: _Replay) -> _Replay:
    from rasa_runtime.tracker_copy import copy_tracker

    return _Replay(
        replay.domain,
        replay.rule_only_data,
        copy_tracker(replay.tracker),
        list(replay.events),
        list(replay.states),
        replay.last_ml_action_sub_state,
        replay.turn_was_hidden,
    )


def _copy_states(states: list) -> list:
    # A state maps to sub-states, which map to strings and tuples: two levels to copy.
    return [{key: dict(sub) for key, sub in state.items()} for state in states]


def _common_prefix(done: list, applied: list) -> int:
    for index, (a, b) in enumerate(zip(done, applied, strict=False)):
        if a is not b:
            return index
    return min(len(done), len(applied))


def _resume(replay: Optional[_Replay], domain, rule_only_data, applied: list) -> Optional[_Replay]:
    """The remembered replay if ``applied`` extends what it replayed, else its checkpoint if
    ``applied`` extends that; None if neither."""
    if replay is None or replay.domain is not domain or replay.rule_only_data != rule_only_data:
        return None
    common = _common_prefix(replay.events, applied)
    if common == len(replay.events):
        return replay
    checkpoint = replay.checkpoint
    if checkpoint is not None and len(checkpoint.events) <= common:
        # Kept as it is: Rasa drops the form's later happy-path runs from the applied events too,
        # so every later turn of this form goes back to this same point.
        resumed = _snapshot(checkpoint)
        resumed.checkpoint = checkpoint
        return resumed
    return None


def _state_at(
    domain,
    replay: _Replay,
    tr,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data,
) -> Optional[dict]:
    """The loop body of Rasa's ``states_for_tracker_history`` for one turn (same order of steps)."""
    import rasa.shared.core.constants

    if ignore_rule_only_turns:
        if not replay.turn_was_hidden:
            replay.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
            replay.turn_was_hidden = hide_rule_turn
        if replay.turn_was_hidden:
            return None
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if replay.states:
            domain._substitute_rule_only_user_input(state, replay.states[-1])
        if replay.last_ml_action_sub_state:
            state[rasa.shared.core.constants.PREVIOUS_ACTION] = replay.last_ml_action_sub_state
    return domain._clean_state(state)


def states_for_tracker_history(
    self, tracker, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False, rule_only_data=None
):
    from rasa.shared.core.events import ActionExecuted

    memos = tracker.__dict__.setdefault("_ba_state_replays", {})
    key = (omit_unset_slots, ignore_rule_only_turns)
    applied = tracker.applied_events()
    replay = _resume(memos.get(key), self, rule_only_data, applied)
    if replay is None:
        replay = _Replay(self, rule_only_data, tracker.init_copy())
    memos[key] = replay
    args = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    forms = set(self.form_names)
    for event in applied[len(replay.events) :]:
        if isinstance(event, ActionExecuted):
            state = _state_at(self, replay, replay.tracker, event.hide_rule_turn, *args)
            if state is not None:
                replay.states.append(state)
        replay.tracker.update(event)
        replay.events.append(event)
        if isinstance(event, ActionExecuted) and event.action_name in forms:
            replay.checkpoint = _snapshot(replay)
    # The state after the last event is not kept: the next event may still change it. Its turn
    # bookkeeping goes to a scratch copy for the same reason.
    scratch = _Replay(
        self,
        rule_only_data,
        replay.tracker,
        states=replay.states,
        last_ml_action_sub_state=replay.last_ml_action_sub_state,
        turn_was_hidden=replay.turn_was_hidden,
    )
    final = _state_at(self, scratch, replay.tracker, False, *args)
    return _copy_states(replay.states + ([final] if final is not None else []))


def apply_patch() -> None:
    from rasa.shared.core.domain import Domain

    Domain.states_for_tracker_history = states_for_tracker_history
