"""``ActionExtractSlots.run`` (the default action after every message) asking the cheap question first.

Rasa runs it after each message over every slot mapping of the domain (ours: 103 slots) and, for
each, first builds the mapping's type, checks the mapping against the domain and whether the
message's intent is wanted, and only then whether the mapping's conditions (which form is active,
which slot it asks for) hold. Nearly all of our mappings are conditions on one form and one slot,
so all that work was for mappings that the conditions then skipped: 6-8 % of the Rasa process's
time in `make bench`. Here the conditions come first, with what they ask of the tracker read once
per message (0.78 -> 0.2 ms per message in a form). Every check Rasa makes before them is a
pure test that only skips the mapping (``check_mapping_validity`` also warns about a mapping to an
entity or intent the domain lacks, which ``make check-content`` refuses before training), so the
result is the same; tests/test_extract_slots.py compares both on every user turn of our rule and
test conversations. Everything else is Rasa 3.6.21's ``run``, line for line.
"""

from __future__ import annotations

from typing import Any

from rasa.core.actions.action import extract_slot_value_from_predefined_mapping
from rasa.shared.core.constants import (
    ACTIVE_LOOP,
    DEFAULT_SLOT_NAMES,
    MAPPING_CONDITIONS,
    MAPPING_TYPE,
    REQUESTED_SLOT,
    SlotMappingType,
)
from rasa.shared.core.events import SlotSet
from rasa.shared.core.slot_mappings import SlotMapping
from rasa.shared.core.slots import ListSlot

_ORIGINAL_RUN = None


async def run(self, output_channel, nlg, tracker, domain) -> list[Any]:  # noqa: ANN001 - Rasa's signature
    slot_events: list = []
    executed_custom_actions: set = set()

    user_slots = [slot for slot in domain.slots if slot.name not in DEFAULT_SLOT_NAMES]
    # What the conditions ask of the tracker, read once instead of per mapping.
    state = (tracker.active_loop_name, tracker.get_slot(REQUESTED_SLOT), tracker.is_active_loop_rejected)

    for slot in user_slots:
        for mapping in slot.mappings:
            # The change: Rasa asks this fourth (after the three pure checks below).
            if not _conditions_hold(mapping, slot.name, *state):
                continue

            mapping_type = SlotMappingType(mapping.get(MAPPING_TYPE))

            if not SlotMapping.check_mapping_validity(
                slot_name=slot.name, mapping_type=mapping_type, mapping=mapping, domain=domain
            ):
                continue

            if not SlotMapping.intent_is_desired(mapping, tracker, domain):
                continue

            if self._fails_unique_entity_mapping_check(slot.name, mapping, tracker, domain):
                continue

            if mapping_type.is_predefined_type():
                value = extract_slot_value_from_predefined_mapping(mapping_type, mapping, tracker)
            else:
                value = None

            if value:
                if not isinstance(slot, ListSlot):
                    value = value[-1]

                if value is not None or tracker.get_slot(slot.name) is not None:
                    slot_events.append(SlotSet(slot.name, value))
                    break

            if mapping_type == SlotMappingType.CUSTOM:
                custom_evts, executed_custom_actions = await self._execute_custom_action(
                    mapping, executed_custom_actions, output_channel, nlg, tracker, domain
                )
                slot_events.extend(custom_evts)

    return await self._execute_validation_action(slot_events, output_channel, nlg, tracker, domain)


def _conditions_hold(mapping: dict, slot_name: str, loop, requested, rejected: bool) -> bool:  # noqa: ANN001
    """``ActionExtractSlots._verify_mapping_conditions`` with the tracker's answers given."""
    conditions = mapping.get(MAPPING_CONDITIONS)
    if not conditions or mapping[MAPPING_TYPE] == _FROM_TRIGGER_INTENT:
        return True
    if rejected and requested == slot_name:
        return False
    for condition in conditions:
        active_loop = condition.get(ACTIVE_LOOP)
        if active_loop and active_loop == loop:
            wanted = condition.get(REQUESTED_SLOT)
            if not wanted or wanted == requested:
                return True
        if active_loop is None and loop is None:
            return True
    return False


_FROM_TRIGGER_INTENT = "from_trigger_intent"  # str(SlotMappingType.FROM_TRIGGER_INTENT), checked in the tests


def apply_patch() -> None:
    global _ORIGINAL_RUN
    from rasa.core.actions.action import ActionExtractSlots

    if _ORIGINAL_RUN is None:
        _ORIGINAL_RUN = ActionExtractSlots.run
        ActionExtractSlots.run = run
