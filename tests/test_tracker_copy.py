"""Our tracker copy (rasa_runtime/tracker_copy.py) against Rasa's replayed copy, field by field, after
every event of our rule and test conversations and of one with reverts, a loop and a restart."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from support.trackers import training_conversations

from rasa_runtime import tracker_copy
from rasa_runtime.tracker_copy import copy_tracker

ORIGINAL = DialogueStateTracker.copy  # Rasa's own (the patch is not applied in tests)
FORM = "meldebescheinigung_form"


@pytest.fixture(scope="module")
def domain_and_conversations():
    domain, trackers = training_conversations()
    conversations = [list(t.events) for t in trackers]
    conversations.append(
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            SlotSet("vorname", "Alt"),
            ActionExecuted("action_listen"),
            UserUttered("Meldebescheinigung", {"name": "request_procedure", "confidence": 0.9}),
            ActionExecuted(FORM),
            ActiveLoop(FORM),
            SlotSet("requested_slot", "vorname"),
            BotUttered("Wie ist Ihr Vorname?"),
            ActionExecuted("action_listen"),
            UserUttered("was?", {"name": "help", "confidence": 0.8}),
            ActionExecutionRejected(FORM),
            ActionExecuted("utter_help"),
            ActionExecuted(FORM),
            ActionExecuted("action_listen"),
            UserUttered("Erika", {"name": "inform", "confidence": 0.8}),
            UserUtteranceReverted(),
            ActionReverted(),
            ConversationPaused(),
            ConversationResumed(),
            FollowupAction("utter_help"),
            ActionExecuted("utter_help"),
            ActiveLoop(None),
            Restarted(),
            ActionExecuted("action_listen"),
        ]
    )
    return domain, conversations


def fields(tracker) -> dict:
    values = {key: value for key, value in vars(tracker).items() if key not in ("slots", "events")}
    values["events"] = list(tracker.events)
    values["maxlen"] = tracker.events.maxlen
    values["slots"] = {name: (type(slot), vars(slot)) for name, slot in tracker.slots.items()}
    values["state"] = tracker.current_state(EventVerbosity.ALL)
    return values


def compare_copies(domain, conversations) -> int:
    compared = 0
    for number, events in enumerate(conversations):
        tracker = DialogueStateTracker(f"copy-{number}", domain.slots)
        tracker.model_id, tracker.assistant_id, tracker.sender_source = "m1", "a1", "rest"
        for event in events:
            tracker.update(event, domain)
            expected, ours = ORIGINAL(tracker), copy_tracker(tracker)
            assert fields(ours) == fields(expected), (number, event)
            compared += 1
            # the copy is on its own: changing it leaves the original as it was
            before = fields(tracker)
            if ours.active_loop:
                ours.active_loop.rejected = not ours.active_loop.rejected
            ours.latest_action["action_name"] = "geändert"
            ours.update(SlotSet("vorname", "Neu"), domain)
            ours.update(ActiveLoop(FORM), domain)
            ours.update(ActionExecuted("action_listen"), domain)
            ours.update(Restarted(), domain)
            assert fields(tracker) == before
    return compared


def test_copies_as_rasa_does(domain_and_conversations):
    domain, conversations = domain_and_conversations
    assert len(conversations) > 100
    assert compare_copies(domain, conversations) > 2000


def test_copies_share_slots_that_are_replaced_on_write(domain_and_conversations, monkeypatch):
    """With the patch's ``_set_slot`` and ``_reset_slots``, copies share their slot objects, and a
    slot set or reset in a copy (or in the original) is a new object in that tracker alone."""
    domain, conversations = domain_and_conversations
    tracker_copy.keep_originals()
    monkeypatch.setattr(DialogueStateTracker, "_set_slot", tracker_copy.set_slot)
    monkeypatch.setattr(DialogueStateTracker, "_reset_slots", tracker_copy.reset_slots)
    assert compare_copies(domain, conversations) > 2000

    tracker = DialogueStateTracker("geteilt", domain.slots)
    tracker.update(SlotSet("vorname", "Erika"), domain)
    copied = copy_tracker(tracker)
    assert all(copied.slots[name] is slot for name, slot in tracker.slots.items())
    tracker.update(SlotSet("vorname", "Max"), domain)
    assert (tracker.get_slot("vorname"), copied.get_slot("vorname")) == ("Max", "Erika")
    copied.update(Restarted(), domain)
    assert (tracker.get_slot("vorname"), copied.get_slot("vorname")) == ("Max", None)
    assert tracker.slots["vorname"].has_been_set and not copied.slots["vorname"].has_been_set
    tracker.update(SlotSet("gibt_es_nicht", 1), domain)  # Rasa's error log, no new slot
    assert "gibt_es_nicht" not in tracker.slots


def test_a_cut_history_is_copied_by_replay(domain_and_conversations):
    domain, _ = domain_and_conversations
    tracker = DialogueStateTracker("kurz", domain.slots, max_event_history=2)
    for event in (
        ActionExecuted("action_listen"),
        SlotSet("vorname", "Erika"),
        UserUttered("Hallo", {"name": "greet"}),
        ActionExecuted("utter_greet"),
    ):
        tracker.update(event, domain)
    assert fields(copy_tracker(tracker)) == fields(ORIGINAL(tracker))


def test_form_temporary_tracker_as_rasa_builds_it(domain_and_conversations, monkeypatch):
    from rasa.core.actions.forms import FormAction

    from rasa_runtime import tracker_copy

    domain, conversations = domain_and_conversations
    original = FormAction._temporary_tracker  # Rasa's own
    monkeypatch.setattr(tracker_copy, "_ORIGINAL_TEMPORARY_TRACKER", original)
    monkeypatch.setattr("time.time", lambda: 1_700_000_000.0)  # the form's new events get a timestamp
    form = FormAction(FORM, None)
    fast = 0
    for number, events in enumerate(conversations[:60] + conversations[-1:]):
        tracker = DialogueStateTracker(f"form-{number}", domain.slots)
        tracker.model_id = "m1"
        for event in events:
            tracker.update(event, domain)
            extra = [SlotSet("vorname", "Erika"), SlotSet("plz", "80331")]
            expected = original(form, tracker, extra, domain)
            ours = tracker_copy.temporary_form_tracker(form, tracker, extra, domain)
            assert fields(ours) == fields(expected), (number, event)
            fast += tracker.idx_after_latest_restart() == 0
    assert fast > 500


def test_form_temporary_tracker_with_other_slots_is_built_by_rasa(domain_and_conversations, monkeypatch):
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.domain import Domain

    from rasa_runtime import tracker_copy

    domain, _ = domain_and_conversations
    monkeypatch.setattr(tracker_copy, "_ORIGINAL_TEMPORARY_TRACKER", lambda *args: "Rasa's")
    other = Domain.from_dict({"slots": {"vorname": {"type": "text", "mappings": [{"type": "custom"}]}}})
    tracker = DialogueStateTracker("andere", other.slots)
    assert tracker_copy.temporary_form_tracker(FormAction(FORM, None), tracker, [], domain) == "Rasa's"
    tracker = DialogueStateTracker("neu", domain.slots)
    tracker.update(Restarted())
    assert tracker_copy.temporary_form_tracker(FormAction(FORM, None), tracker, [], domain) == "Rasa's"
