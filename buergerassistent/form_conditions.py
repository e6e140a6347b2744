"""Conditional questions of a form, declared in the catalogue entry.

A field with ``ask_if: {field: <earlier field>, value: <answer>}`` is asked only when the earlier
field (the *deciding* question, itself always asked) got that answer; otherwise it takes its
``otherwise`` value. Example (``blaue_karte_eu``): „Trifft einer dieser Punkte auf Sie zu?“ – with
„nein“ every yes/no question of the list is answered „nein“, as the citizen declared for the whole
list; with „ja“ each is asked on its own. So the authority still gets every mandatory field, and
most citizens answer two questions instead of fourteen.

A deciding question that maps to no FIM field is a question of the chat only: it is not part of
the data document (``fim_mapping``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from buergerassistent.catalogue import Field, Procedure


def deciders(proc: Procedure) -> set[str]:
    """Names of the fields that decide whether others are asked."""
    return {f.ask_if[0] for f in proc.fields if f.ask_if}


def follow_ups(proc: Procedure, changed: Mapping[str, Any]) -> dict[str, Optional[str]]:
    """The values of the conditional fields after deciding fields changed (``changed``: the new
    values by name): ``otherwise`` when the decision excludes them, ``None`` (ask them) when it
    includes them. Fields whose deciding field did not change are left out."""
    result: dict[str, Optional[str]] = {}
    for f in proc.fields:
        if f.ask_if and f.ask_if[0] in changed:
            answer = changed[f.ask_if[0]]
            if answer is None:
                result[f.name] = None  # the decision was reopened: decide again first
            else:
                result[f.name] = None if str(answer) == f.ask_if[1] else f.otherwise
    return result


def after_change(
    proc: Procedure, values: Mapping[str, Any], changed: Mapping[str, Any]
) -> tuple[dict[str, Optional[str]], list[str]]:
    """What else changes when answers change (``changed``, on top of ``values``): the values to
    set, and the list questions reopened because a point of theirs was corrected.

    A point answered other than its ``otherwise`` value („ja“) while its list question says it is
    not asked („nein“ to „Trifft einer dieser Punkte zu?“) contradicts the list answer: the list
    answer becomes the one that asks the points, and its other points – filled only by the
    „nein“ now taken back – are open again, to be asked one by one. A changed list question
    fills or reopens its points as in ``follow_ups``. Points changed in the same message keep
    their new value."""
    lists: dict[str, str] = {}
    for f in proc.fields:
        if not f.ask_if or changed.get(f.name) is None or str(changed[f.name]) == str(f.otherwise):
            continue
        decider, wanted = f.ask_if
        if str(changed.get(decider, values.get(decider))) != wanted:
            lists[decider] = wanted
    decided = {name: value for name, value in changed.items() if name in deciders(proc)}
    decided.update(lists)
    updates: dict[str, Optional[str]] = dict(lists)
    for name, value in follow_ups(proc, decided).items():
        if name not in changed:
            updates[name] = value
    return updates, list(lists)


def steps(proc: Procedure) -> tuple[list[int], int]:
    """Step number of each field and the number of steps, as the citizen counts them: a
    conditional question belongs to the step of its deciding question."""
    numbers: list[int] = []
    step = 0
    for f in proc.fields:
        if not f.ask_if:
            step += 1
        numbers.append(step)
    return numbers, step


def asked(field: Field, values: Mapping[str, Any]) -> bool:
    """Whether ``field`` is asked, given the answers so far."""
    if not field.ask_if:
        return True
    return str(values.get(field.ask_if[0])) == field.ask_if[1]
