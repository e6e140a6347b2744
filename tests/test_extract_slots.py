"""Our ActionExtractSlots.run (rasa_runtime/extract_slots.py) against Rasa's own, on every user
turn of our rule and test conversations, with a text and with entities in each message."""

from __future__ import annotations

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from support.trackers import form_opening, training_conversations

from rasa_runtime import extract_slots

ORIGINAL = ActionExtractSlots.run  # Rasa's own (the patch is not applied in tests)


@pytest.fixture(scope="module")
def domain_and_conversations():
    domain, trackers = training_conversations()
    conversations = [list(t.events) for t in trackers]
    conversations.append(form_opening(confidence=0.9))
    return domain, conversations


def with_text(event, text: str):
    """The user's message with a text, and an entity for the entity mappings."""
    if not isinstance(event, UserUttered):
        return event
    entities = [{"entity": name, "value": "80331", "start": 0, "end": 5} for name in ("plz", "postleitzahl")]
    return UserUttered(text, event.parse_data.get("intent") or event.intent, entities, event.parse_data)


def described(events) -> list[dict]:
    """The events without their timestamps (made a moment apart)."""
    return [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in events]


@pytest.mark.parametrize("text", ["Erika", "80331 München"])
async def test_extracts_as_rasa_does(domain_and_conversations, text):
    domain, conversations = domain_and_conversations
    action = ActionExtractSlots(None)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    compared = filled = 0
    for number, events in enumerate(conversations):
        tracker = DialogueStateTracker(f"extract-{number}", domain.slots)
        for event in events:
            tracker.update(with_text(event, text), domain)
            if not isinstance(event, UserUttered):
                continue
            expected = await ORIGINAL(action, CollectingOutputChannel(), nlg, tracker, domain)
            ours = await extract_slots.run(action, CollectingOutputChannel(), nlg, tracker, domain)
            assert described(ours) == described(expected), (number, event)
            compared += 1
            filled += bool(expected)
    assert compared > 300
    assert filled > 20  # the comparison includes turns where a form's slot is filled


def test_trigger_intent_type_is_named_as_in_rasa():
    from rasa.shared.core.constants import SlotMappingType

    assert extract_slots._FROM_TRIGGER_INTENT == str(SlotMappingType.FROM_TRIGGER_INTENT)
