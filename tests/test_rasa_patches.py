"""The compiled response validator accepts and refuses what Rasa's own validation does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_patches import _validate_action_result

ORIGINAL = RemoteAction._validate_action_result  # Rasa's own, before any patch
ACTION = RemoteAction("validate_meldebescheinigung_form", None)

GOOD = {"events": [{"event": "slot", "name": "plz", "value": "80331"}],
        "responses": [{"text": "Danke"}]}
BAD = {"events": [{"event": "slot", "name": 5, "value": "x"}], "responses": []}


def test_valid_response_passes_both():
    assert ORIGINAL(ACTION, GOOD) is True
    assert _validate_action_result(ACTION, GOOD) is True


CASES = [
    GOOD,
    BAD,
    {"events": [], "responses": []},
    {},
    {"events": [{"event": "slot", "name": "plz", "value": None, "timestamp": None},
                {"event": "active_loop", "name": None},
                {"event": "followup", "name": "action_listen"},
                {"event": "bot", "text": "Hallo", "data": {}, "metadata": {}}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "plz", "value": "1"}]},  # no event name
    {"events": [{"event": "slot", "name": "plz", "value": "1", "timestamp": "gestern"}]},
    {"events": "slot"},
    {"events": [5]},
    {"responses": "Hallo"},
]


@pytest.mark.parametrize("result", CASES)
def test_same_verdict_as_rasa(result):
    try:
        expected = ORIGINAL(ACTION, result)
    except ValidationError:
        expected = "refused"
    try:
        got = _validate_action_result(ACTION, result)
    except ValidationError:
        got = "refused"
    assert got == expected


def test_invalid_response_is_refused_by_both():
    with pytest.raises(ValidationError):
        ORIGINAL(ACTION, BAD)
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        _validate_action_result(ACTION, BAD)


# ---------------------------------------------------------------- event types by name

def test_event_types_resolve_as_in_rasa():
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    from bot.rasa_patches import _resolve_event_type

    original = Event.resolve_by_type  # Rasa's own: the tests never apply the patches
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 15
    for name in names:
        assert _resolve_event_type(name) is original(name)
    assert _resolve_event_type("topic") is None
    assert _resolve_event_type("nonsense", default=Event) is Event
    with pytest.raises(ValueError, match="Unknown event name 'nonsense'"):
        _resolve_event_type("nonsense")


# ---------------------------------------------------------------- graph runner without dask

from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode  # noqa: E402
from rasa.engine.runner.dask import DaskGraphRunner  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402

from bot.rasa_patches import _run_graph  # noqa: E402

CALLS: list[str] = []


class Add(GraphComponent):
    """a + b + k, and a record of each call (to see that each node runs once)."""

    def __init__(self, config):
        self.config = config

    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls(config)

    def run(self, a, b=0):
        CALLS.append(self.config["name"])
        return a + b + self.config["k"]


def node(name, needs, target=False, k=1):
    return SchemaNode(needs=needs, uses=Add, fn="run", constructor_name="create",
                      config={"name": name, "k": k}, is_target=target)


def runner(tmp_path):
    schema = GraphSchema({
        "x": node("x", {"a": "__input__"}),
        "y": node("y", {"a": "x", "b": "__input__"}, target=True, k=10),
        "z": node("z", {"a": "x", "b": "y"}, target=True, k=100),
        "unused": node("unused", {"a": "__input__"}, k=1000),
    })
    return DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "test"))


ORIGINAL_RUN = DaskGraphRunner.run


@pytest.mark.parametrize("targets", [None, ["y"], ["z"], ["x", "z"], ["__input__"]])
def test_graph_runs_as_with_dask(tmp_path, targets):
    graph = runner(tmp_path)
    CALLS.clear()
    expected = ORIGINAL_RUN(graph, inputs={"__input__": 5}, targets=targets)
    dask_calls = sorted(CALLS)
    CALLS.clear()
    assert _run_graph(graph, inputs={"__input__": 5}, targets=targets) == expected
    assert sorted(CALLS) == dask_calls  # the same nodes, each once
    assert "unused" not in CALLS


def test_missing_input_fails_as_with_dask(tmp_path):
    from rasa.engine.exceptions import GraphRunError

    graph = runner(tmp_path)
    with pytest.raises(GraphRunError) as with_dask:
        ORIGINAL_RUN(graph, inputs={}, targets=["y"])
    with pytest.raises(GraphRunError) as ours:
        _run_graph(graph, inputs={}, targets=["y"])
    assert str(ours.value) == str(with_dask.value)
