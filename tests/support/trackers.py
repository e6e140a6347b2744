"""Trackers as the action server receives them, for running custom actions without Rasa.

Imported by the test packages as ``support.trackers`` (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from buergerassistent.catalogue import default_catalogue


def make_tracker(
    text: str = "",
    intent: str = "inform",
    slots: Optional[dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    entities: Optional[list[dict]] = None,
    events: Optional[list[dict]] = None,
    sender_id: str = "test",
) -> Tracker:
    all_slots = {
        "procedure": None,
        "awaiting": None,
        "application_id": None,
        "case_number": None,
        "requested_slot": None,
    }
    for proc in default_catalogue().with_forms():
        for f in proc.fields:
            all_slots[f.name] = None
    all_slots.update(slots or {})
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)


def slot_events(events: list) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def training_conversations():
    """Our domain, and every rule and test story of the bot as the trackers Rasa's training
    generator makes of them (for comparing our Rasa patches with Rasa's own code)."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    from bot.training import CONFIG, DOMAIN, REPO_ROOT, STORY_DATA

    importer = TrainingDataImporter.load_from_dict(
        config_path=str(CONFIG),
        domain_path=str(DOMAIN),
        training_data_paths=[str(STORY_DATA), str(REPO_ROOT / "bot" / "tests")],
    )
    domain = importer.get_domain()
    return domain, TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()


def form_opening(form: str = "meldebescheinigung_form", confidence: float = 0.8) -> list:
    """Rasa events of a conversation that opens ``form``, which asks for the first name, and the
    citizen's answer "Erika" (for comparing our Rasa patches with Rasa's own code)."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered

    return [
        ActionExecuted("action_listen"),
        UserUttered("Meldebescheinigung", {"name": "request_procedure", "confidence": 0.9}),
        ActionExecuted(form),
        ActiveLoop(form),
        SlotSet("requested_slot", "vorname"),
        ActionExecuted("action_listen"),
        UserUttered("Erika", {"name": "inform", "confidence": confidence}),
    ]
