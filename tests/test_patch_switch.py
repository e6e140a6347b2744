"""When our Rasa speed fixes run (rasa_runtime/patches.py): only on the Rasa version they were
written against, and as ``BA_RASA_PATCHES`` says; the payload guard (a security measure) always,
or the Rasa process does not start. Our two Rasa components (IndexedRulePolicy,
FastDIETClassifier) follow the same switch and then behave as Rasa's own classes."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from rasa_runtime import patches
from rasa_runtime.patches import GROUPS, RASA_VERSION, enabled_groups, parse_switch


def test_written_for_the_installed_rasa():
    import rasa

    assert rasa.__version__ == RASA_VERSION, "Rasa updated: check the fixes, then RASA_VERSION"


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, set(GROUPS)),
        ("", set(GROUPS)),
        ("1", set(GROUPS)),
        ("all", set(GROUPS)),
        ("0", set()),
        ("off", set()),
        ("none", set()),
        ("-state_replay,-tracker_copy", set(GROUPS) - {"state_replay", "tracker_copy"}),
        ("rule_index, diet_numpy", {"rule_index", "diet_numpy"}),
    ],
)
def test_switch_values(value, expected):
    assert parse_switch(value) == expected


@pytest.mark.parametrize("value", ["-state_replays", "fast", "rule_index,-diet_numpy"])
def test_a_wrong_switch_stops_with_a_clear_message(value):
    with pytest.raises(SystemExit, match="BA_RASA_PATCHES"):
        parse_switch(value)


def test_other_rasa_version_runs_unpatched_with_a_warning(monkeypatch, caplog):
    import rasa

    monkeypatch.setattr(rasa, "__version__", "3.6.22")
    monkeypatch.setattr(patches, "_WARNED", False)
    patches._groups_for.cache_clear()
    with caplog.at_level(logging.WARNING, logger="rasa_runtime.patches"):
        assert enabled_groups({}) == frozenset()
        assert not patches.is_enabled("rule_index", {})
    assert "Rasa 3.6.22" in caplog.text and RASA_VERSION in caplog.text
    monkeypatch.setattr(rasa, "__version__", RASA_VERSION)
    assert enabled_groups({}) == frozenset(GROUPS)


def _rasa_functions() -> dict:
    import rasa.core.processor
    import rasa.core.run
    from rasa.core.actions.action import ActionExtractSlots, RemoteAction
    from rasa.core.actions.forms import FormAction
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.slots import Slot
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.training_data.features import Features
    from rasa.utils.endpoints import EndpointConfig

    return {
        "validate": RemoteAction.__dict__["_validate_action_result"],
        "resolve": Event.__dict__["resolve_by_type"],
        "run": DaskGraphRunner.run,
        "sparse": Features._combine_sparse_features,
        "session": EndpointConfig.session,
        "is_empty": Domain.is_empty,
        "applied": DialogueStateTracker.applied_events,
        "slot_copy": Slot.__dict__.get("__copy__"),
        "states": Domain.states_for_tracker_history,
        "copy": DialogueStateTracker.copy,
        "temporary": FormAction._temporary_tracker,
        "processor_copy": rasa.core.processor.copy,
        "set_slot": DialogueStateTracker._set_slot,
        "reset_slots": DialogueStateTracker._reset_slots,
        "load_agent": rasa.core.run.load_agent_on_start,
        "extract_slots": ActionExtractSlots.run,
    }


@pytest.mark.parametrize("environ, version", [({"BA_RASA_PATCHES": "0"}, RASA_VERSION), ({}, "3.7.0")])
def test_unpatched_leaves_every_rasa_function_alone(environ, version, monkeypatch):
    import rasa

    monkeypatch.setattr(rasa, "__version__", version)
    before = _rasa_functions()
    assert patches.apply_patches(environ) == frozenset()
    assert _rasa_functions() == before


CHILD = """
import json, sys
from rasa_runtime import patches
groups = patches.apply_patches()
import rasa.core.run
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_runtime import state_replay, tracker_copy
print(json.dumps({"groups": sorted(groups), "run": DaskGraphRunner.run is patches._run_graph,
                  "states": Domain.states_for_tracker_history is state_replay.states_for_tracker_history,
                  "copy": DialogueStateTracker.copy is tracker_copy.copy_tracker,
                  "set_slot": DialogueStateTracker._set_slot is tracker_copy.set_slot,
                  "freeze": getattr(rasa.core.run.load_agent_on_start, "_ba_freezes", False)}))
"""


@pytest.mark.parametrize(
    "value, applied",
    [
        (
            "-state_replay,-tracker_copy",
            {"run": True, "states": False, "copy": False, "set_slot": False, "freeze": True},
        ),
        ("-gc_freeze", {"run": True, "states": True, "copy": True, "set_slot": True, "freeze": False}),
    ],
)
def test_groups_switch_off_one_by_one(value, applied):
    """In a process of its own: the tests never patch Rasa in their own process."""
    import os

    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=dict(os.environ, BA_RASA_PATCHES=value),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result.pop("groups")) == parse_switch(value)
    assert result == applied


# ------------------------------------------------------------------ our Rasa components


def _graph_args(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    return LocalModelStorage(tmp_path), Resource("node"), ExecutionContext(GraphSchema({}), "model")


@pytest.mark.parametrize("value, fast", [(None, True), ("0", False), ("-rule_index,-diet_numpy", False)])
def test_components_follow_the_switch(value, fast, monkeypatch, tmp_path):
    from rasa_runtime.components import FastDIETClassifier
    from rasa_runtime.policies import IndexedRulePolicy

    if value is None:
        monkeypatch.delenv("BA_RASA_PATCHES", raising=False)
    else:
        monkeypatch.setenv("BA_RASA_PATCHES", value)
    policy = IndexedRulePolicy(IndexedRulePolicy.get_default_config(), *_graph_args(tmp_path))
    diet = FastDIETClassifier(FastDIETClassifier.get_default_config(), *_graph_args(tmp_path))
    assert policy._ba_indexed is fast and diet._ba_numpy is fast


def test_unindexed_policy_is_rasas(monkeypatch, tmp_path):
    """Switched off, every call goes to RulePolicy's own method."""
    from rasa.core.policies.rule_policy import RulePolicy

    from rasa_runtime.policies import IndexedRulePolicy

    monkeypatch.setenv("BA_RASA_PATCHES", "0")
    calls = []
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", lambda self, lookup, states: calls.append(1) or {"k"})
    policy = IndexedRulePolicy(IndexedRulePolicy.get_default_config(), *_graph_args(tmp_path))
    assert policy._get_possible_keys({}, []) == {"k"} and calls == [1]


def test_config_uses_our_components_by_module_path():
    import yaml
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    from bot.training import CONFIG

    config = yaml.safe_load(CONFIG.read_text())
    names = [c["name"] for c in config["pipeline"]] + [p["name"] for p in config["policies"]]
    assert "rasa_runtime.components.FastDIETClassifier" in names
    assert "rasa_runtime.policies.IndexedRulePolicy" in names
    classes = [DefaultV1Recipe._from_registry(name).clazz for name in names]
    assert any(issubclass(c, RulePolicy) for c in classes) and any(issubclass(c, DIETClassifier) for c in classes)


# ------------------------------------------------------------------ the payload guard


def test_guard_refuses_a_rasa_without_its_hook():
    from rasa_runtime.channels import payload_guard

    class NoHook:
        pass

    class OtherHook:
        async def _handle_message_with_tracker(self, message, tracker, extra):
            pass

    class SyncHook:
        def _handle_message_with_tracker(self, message, tracker):
            pass

    for processor in (NoHook, OtherHook, SyncHook):
        with pytest.raises(payload_guard.GuardNotApplicable):
            payload_guard.check_hook(processor)
    from rasa.core.processor import MessageProcessor

    assert payload_guard.check_hook(MessageProcessor) is not None  # the installed Rasa has it


def test_process_does_not_start_without_the_guard(monkeypatch):
    from rasa_runtime import process
    from rasa_runtime.channels import payload_guard

    def unavailable():
        raise payload_guard.GuardNotApplicable("kein Haken")

    monkeypatch.setattr(payload_guard, "install", unavailable)
    started = []
    monkeypatch.setattr(process, "apply_patches", lambda: started.append("patches"))
    monkeypatch.setattr(sys, "argv", ["rasa", "run"])
    with pytest.raises(SystemExit, match="kein Haken"):
        process.main()
    assert started == []


@pytest.mark.parametrize(
    "environ, version", [({"BA_RASA_PATCHES": "0"}, RASA_VERSION), ({}, "3.7.0"), ({}, RASA_VERSION)]
)
def test_guard_is_installed_unpatched_and_on_other_versions(environ, version):
    """The Rasa process installs the guard whatever the switch and the version say."""
    import os

    code = (
        "import rasa, sys; rasa.__version__ = sys.argv[1]\n"
        "from rasa_runtime import process\nprocess.install_guard()\nprocess.apply_patches()\n"
        "from rasa.core.processor import MessageProcessor\n"
        "from rasa.engine.runner.dask import DaskGraphRunner\nfrom rasa_runtime import patches\n"
        "print(MessageProcessor._handle_message_with_tracker.__qualname__.startswith('install'),"
        " DaskGraphRunner.run is patches._run_graph)"
    )
    env = {k: v for k, v in os.environ.items() if k != "BA_RASA_PATCHES"}
    out = subprocess.run(
        [sys.executable, "-c", code, version], env={**env, **environ}, capture_output=True, text=True, check=True
    ).stdout.split()
    patched = version == RASA_VERSION and not environ
    assert out[-2:] == ["True", str(patched)], (version, environ)
