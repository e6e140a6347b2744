"""Dialogue states from the remembered replay (rasa_runtime/state_replay.py) against Rasa's full replay.

Conversations: every rule and test story of the bot as Rasa's training generator turns them into
trackers, plus one with reverts and a restart. After every event both must give the same states,
for each combination of the arguments RulePolicy and the featurizers use.
"""

from __future__ import annotations

import copy
import itertools

import pytest
from rasa.shared.core.domain import Domain
from support.trackers import training_conversations

from rasa_runtime import state_replay

ORIGINAL = Domain.states_for_tracker_history  # Rasa's own (the patch is not applied in tests)
FORM = "meldebescheinigung_form"


@pytest.fixture(scope="module")
def domain_and_trackers():
    return training_conversations()


def argument_sets(domain):
    rule_only = {"rule_only_slots": ["requested_slot"], "rule_only_loops": [FORM]}
    for omit, ignore in itertools.product((False, True), repeat=2):
        yield omit, ignore, (rule_only if ignore else None)


def replay_and_compare(domain, events, slots, is_rule_tracker=False, sender="t"):
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, slots, is_rule_tracker=is_rule_tracker)
    compared = 0
    for event in events:
        tracker.update(event, domain)
        for omit, ignore, rule_only in argument_sets(domain):
            expected = ORIGINAL(domain, tracker, omit, ignore, rule_only)
            ours = state_replay.states_for_tracker_history(domain, tracker, omit, ignore, rule_only)
            assert ours == expected, (sender, event, omit, ignore)
            if ours:
                ours[-1].clear()  # a caller changing its states changes nothing for the next one
            compared += 1
    return compared


def test_same_states_as_rasa_on_our_rules_and_stories(domain_and_trackers):
    domain, trackers = domain_and_trackers
    assert len(trackers) > 100
    assert any(t.is_rule_tracker for t in trackers) and any(not t.is_rule_tracker for t in trackers)
    compared = sum(
        replay_and_compare(domain, list(t.events), domain.slots, t.is_rule_tracker, t.sender_id) for t in trackers
    )
    assert compared > 1000


def with_hidden_rule_turns(events: list) -> list:
    """Every other action after a user message marked as a rule-only turn, as RulePolicy marks
    its predictions (the training generator marks none)."""
    from rasa.shared.core.events import ActionExecuted

    marked, count = [], 0
    for event in events:
        if isinstance(event, ActionExecuted) and event.action_name != "action_listen":
            count += 1
            if count % 2:
                event = copy.copy(event)
                event.hide_rule_turn = True
        marked.append(event)
    return marked


def test_same_states_as_rasa_with_hidden_rule_turns(domain_and_trackers):
    domain, trackers = domain_and_trackers
    stories = [t for t in trackers if not t.is_rule_tracker][:40]
    for tracker in stories:
        replay_and_compare(domain, with_hidden_rule_turns(list(tracker.events)), domain.slots, sender=tracker.sender_id)


def test_same_states_through_reverts_and_restarts(domain_and_trackers):
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )

    domain, _ = domain_and_trackers
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("Meldebescheinigung", {"name": "request_procedure", "confidence": 0.9}),
        ActionExecuted(FORM),
        ActiveLoop(FORM),
        SlotSet("requested_slot", "vorname"),
        ActionExecuted("action_listen"),
        UserUttered("Erika", {"name": "inform", "confidence": 0.8}),
        ActionExecuted(FORM),
        SlotSet("vorname", "Erika"),
        ActionExecuted("action_listen"),
        UserUttered("was?", {"name": "help", "confidence": 0.8}),
        UserUtteranceReverted(),
        ActionExecuted("utter_help", hide_rule_turn=True),
        ActionReverted(),
        ActionExecuted(FORM),
        ActiveLoop(None),
        ActionExecuted("action_listen"),
        Restarted(),
        ActionExecuted("action_listen"),
        UserUttered("Hallo", {"name": "greet", "confidence": 0.9}),
    ]
    assert replay_and_compare(domain, events, domain.slots) == 4 * len(events)


def test_another_domain_replays_from_the_start(domain_and_trackers):
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain, _ = domain_and_trackers
    other = Domain.from_dict({"intents": ["greet"], "actions": ["utter_x"]})
    tracker = DialogueStateTracker("d", domain.slots)
    for event in (ActionExecuted("action_listen"), UserUttered("Hallo", {"name": "greet"})):
        tracker.update(event, domain)
    assert state_replay.states_for_tracker_history(domain, tracker) == ORIGINAL(domain, tracker)
    assert state_replay.states_for_tracker_history(other, tracker) == ORIGINAL(other, tracker)


def test_a_form_turn_dropping_out_resumes_from_the_forms_last_run(domain_and_trackers, monkeypatch):
    """Rasa drops the user turn between two happy-path runs of a form from the applied events;
    the replay goes on from its copy after the form's previous run, not from the start."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain, _ = domain_and_trackers
    fresh_replays = []
    original_init_copy = DialogueStateTracker.init_copy

    def counted_init_copy(self):
        fresh_replays.append(1)
        return original_init_copy(self)

    tracker = DialogueStateTracker("form", domain.slots)
    turns = [
        [
            ActionExecuted("action_listen"),
            UserUttered("Meldebescheinigung", {"name": "request_procedure"}),
            ActionExecuted(FORM),
            ActiveLoop(FORM),
            SlotSet("requested_slot", "vorname"),
            ActionExecuted("action_listen"),
        ],
        [
            UserUttered("Erika", {"name": "inform"}),
            SlotSet("vorname", "Erika"),
            ActionExecuted(FORM),
            SlotSet("requested_slot", "nachname"),
            ActionExecuted("action_listen"),
        ],
        [
            UserUttered("Mustermann", {"name": "inform"}),
            SlotSet("nachname", "Mustermann"),
            ActionExecuted(FORM),
            SlotSet("requested_slot", "geburtsdatum"),
            ActionExecuted("action_listen"),
        ],
    ]
    rule_only = {"rule_only_slots": [], "rule_only_loops": []}
    for turn in turns:
        applied_before = tracker.applied_events()
        for event in turn:
            tracker.update(event, domain)
        with monkeypatch.context() as patched:
            patched.setattr(DialogueStateTracker, "init_copy", counted_init_copy)
            ours = state_replay.states_for_tracker_history(domain, tracker, False, True, rule_only)
        assert ours == ORIGINAL(domain, tracker, False, True, rule_only)
    # the user turn before the last form run dropped out of the applied events …
    assert not set(map(id, applied_before)) <= set(map(id, tracker.applied_events()))
    assert len(fresh_replays) == 1  # … and yet ours replayed from the start only the first time
