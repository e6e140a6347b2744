"""Which action the chat runs for an intent at the start of a conversation, read from the
dialogue rules in ``bot/data`` (the rules the model is trained with).

``python -m bot discover`` uses it to say exactly what the chat does with a message: only the
intents whose rule runs a discovery action (``procedure_finder.DISCOVERY_ACTIONS``) lead to a
procedure; a greeting or "abbrechen" gets its own answer and the decision ``none``. Reading the
rules (instead of a list here) keeps the command and the chat from diverging when rules change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.settings import REPO_ROOT
from buergerassistent.procedure_finder import DISCOVERY_ACTIONS

RULE_DATA = REPO_ROOT / "bot" / "data"


def _holds_at_start(conditions: list) -> bool:
    """Conditions that hold in a fresh conversation: no active form, slots not set."""
    for cond in conditions or []:
        if not isinstance(cond, dict):
            return False
        if "active_loop" in cond:
            if cond["active_loop"] is not None:
                return False
        elif "slot_was_set" in cond:
            for slot in cond["slot_was_set"] or []:
                if not (isinstance(slot, dict) and all(v is None for v in slot.values())):
                    return False
        else:
            return False
    return True


@lru_cache(maxsize=4)
def start_actions(rule_dir: Path = RULE_DATA) -> dict[str, str]:
    """intent -> the first action its rule runs in a fresh conversation (no active form)."""
    routes: dict[str, str] = {}
    for path in sorted(Path(rule_dir).rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or []:
            if rule.get("conversation_start") is False or not _holds_at_start(rule.get("condition")):
                continue
            steps = rule.get("steps") or []
            if len(steps) < 2 or "intent" not in steps[0] or "action" not in steps[1]:
                continue
            routes.setdefault(steps[0]["intent"], steps[1]["action"])
    return routes


def runs_discovery(intent: str | None) -> bool:
    """Whether the chat looks for a procedure when a conversation starts with this intent."""
    return start_actions().get(intent or "") in DISCOVERY_ACTIONS


def runs_request(intent: str | None) -> bool:
    """Whether that is ``action_discover_procedure``, which shows a life situation's checklist or
    separate needs before the ranking (``first_message.request_turn``)."""
    return start_actions().get(intent or "") == "action_discover_procedure"
