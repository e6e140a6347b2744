"""Conditional questions declared in the catalogue (``ask_if``/``otherwise``): the Blue Card's
two list questions decide whether the fourteen yes/no questions of the FIM schema are asked."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from actions.forms import CatalogueFormValidation
from buergerassistent import fim_mapping, form_conditions
from buergerassistent.catalogue import CatalogueError, default_catalogue, parse_procedure

from .conftest import make_tracker, slot_events

PROC = default_catalogue()["blaue_karte_eu"]
STATUS = [f.name for f in PROC.fields if f.ask_if and f.ask_if[0] == "aufenthalt_besonderheiten"]
SECURITY = [f.name for f in PROC.fields if f.ask_if and f.ask_if[0] == "sicherheitsfragen"]


class ValidateBlueCard(CatalogueFormValidation):
    procedure_id = "blaue_karte_eu"


def answer(slot: str, typed: str, dispatcher, slots=None) -> dict:
    tracker = make_tracker(
        text=typed,
        slots={**(slots or {}), slot: typed, "requested_slot": slot},
        active_loop="blaue_karte_eu_form",
        events=[{"event": "slot", "name": slot, "value": typed}],
    )
    return slot_events(asyncio.run(ValidateBlueCard().run(dispatcher, tracker, {})))


def test_the_blue_card_asks_27_steps_and_every_fim_field_stays_mapped():
    assert len(STATUS) == 8 and len(SECURITY) == 6
    numbers, total = form_conditions.steps(PROC)
    assert total == 27 and len(PROC.fields) == 41
    # A conditional question belongs to the step of its list question.
    by_name = dict(zip([f.name for f in PROC.fields], numbers, strict=True))
    assert {by_name[n] for n in STATUS} == {by_name["aufenthalt_besonderheiten"]}
    assert {by_name[n] for n in SECURITY} == {by_name["sicherheitsfragen"]}
    mapping = fim_mapping.mapping_for(PROC)
    assert set(STATUS + SECURITY) <= set(mapping.paths)
    assert "aufenthalt_besonderheiten" not in mapping.paths  # a question of the chat, not sent


def test_no_to_the_list_answers_each_point_no(dispatcher):
    slots = answer("aufenthalt_besonderheiten", "nein", dispatcher)
    assert slots["aufenthalt_besonderheiten"] == "nein"
    assert {n: slots[n] for n in STATUS} == dict.fromkeys(STATUS, "nein")
    assert not set(SECURITY) & set(slots)  # the other list decides its own questions


def test_yes_to_the_list_asks_each_point(dispatcher):
    slots = answer("sicherheitsfragen", "ja", dispatcher, slots=dict.fromkeys(SECURITY, "nein"))
    assert slots["sicherheitsfragen"] == "ja"
    assert {n: slots[n] for n in SECURITY} == dict.fromkeys(SECURITY, None)  # asked one by one


def test_an_invalid_answer_to_the_list_decides_nothing(dispatcher):
    slots = answer("sicherheitsfragen", "vielleicht", dispatcher)
    assert slots["sicherheitsfragen"] is None
    assert {n: slots[n] for n in SECURITY} == dict.fromkeys(SECURITY, None)


def test_ask_if_must_name_an_earlier_field_that_is_always_asked():
    raw = {
        "id": "x",
        "name": "X",
        "description": "X",
        "form": {
            "fields": [
                {
                    "name": "a",
                    "label": "A",
                    "type": "yes_no",
                    "prompt": "A?",
                    "ask_if": {"field": "b", "value": "ja"},
                    "otherwise": "nein",
                },
                {"name": "b", "label": "B", "type": "yes_no", "prompt": "B?"},
            ]
        },
    }
    with pytest.raises(CatalogueError, match="earlier field"):
        parse_procedure(raw)
    raw["form"]["fields"].reverse()
    parse_procedure(raw)
    del raw["form"]["fields"][1]["otherwise"]
    with pytest.raises(CatalogueError, match="otherwise"):
        parse_procedure(raw)


def test_only_a_deciding_question_may_go_without_fim():
    gate = PROC.field("sicherheitsfragen")
    fields = [dataclasses.replace(f, ask_if=None, otherwise=None) for f in PROC.fields]
    errors, _ = fim_mapping.check_mapping(dataclasses.replace(PROC, fields=tuple(fields)))
    assert any(gate.name in e for e in errors)
