"""The compiled response validator accepts and refuses what Rasa's own validation does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from rasa_runtime.patches import _validate_action_result

ORIGINAL = RemoteAction._validate_action_result  # Rasa's own, before any patch
ACTION = RemoteAction("validate_meldebescheinigung_form", None)

GOOD = {"events": [{"event": "slot", "name": "plz", "value": "80331"}], "responses": [{"text": "Danke"}]}
BAD = {"events": [{"event": "slot", "name": 5, "value": "x"}], "responses": []}


def test_valid_response_passes_both():
    assert ORIGINAL(ACTION, GOOD) is True
    assert _validate_action_result(ACTION, GOOD) is True


CASES = [
    GOOD,
    BAD,
    {"events": [], "responses": []},
    {},
    {
        "events": [
            {"event": "slot", "name": "plz", "value": None, "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
            {"event": "bot", "text": "Hallo", "data": {}, "metadata": {}},
        ]
    },
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

    from rasa_runtime.patches import _resolve_event_type

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

from rasa_runtime.patches import _run_graph  # noqa: E402

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
    return SchemaNode(
        needs=needs, uses=Add, fn="run", constructor_name="create", config={"name": name, "k": k}, is_target=target
    )


def runner(tmp_path):
    schema = GraphSchema(
        {
            "x": node("x", {"a": "__input__"}),
            "y": node("y", {"a": "x", "b": "__input__"}, target=True, k=10),
            "z": node("z", {"a": "x", "b": "y"}, target=True, k=100),
            "unused": node("unused", {"a": "__input__"}, k=1000),
        }
    )
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


# ---------------------------------------------------------------- rule matching stops early


def _random_state(rng, start=False):
    state = {}
    if not start:
        state["prev_action"] = rng.choice(
            [{"action_name": name} for name in ("action_listen", "utter_greet", "a_form", "should_not_be_set")]
            + [{"action_text": "Hallo"}]
        )
    if rng.random() < 0.7:
        state["user"] = {"intent": rng.choice(["greet", "inform", "stop"])}
    if rng.random() < 0.4:
        state["active_loop"] = {"name": rng.choice(["a_form", "should_not_be_set"])}
    if rng.random() < 0.3:
        state["slots"] = {"plz": rng.choice([(1.0,), "should_not_be_set"])}
    return state


def test_rule_keys_match_as_in_rasa():
    import json
    import random

    from rasa.core.policies.rule_policy import RulePolicy

    from rasa_runtime.policies import _possible_rule_keys

    rng = random.Random(7)
    policy = RulePolicy.__new__(RulePolicy)  # the two methods used need no trained policy
    for _ in range(300):
        lookup = {}
        for _ in range(rng.randint(0, 30)):
            length = rng.randint(1, 4)
            rule = [_random_state(rng, start=(i == 0 and rng.random() < 0.2)) for i in range(length)]
            lookup[json.dumps(rule)] = "utter_x"
        states = [_random_state(rng, start=(i == 0)) for i in range(rng.randint(1, 12))]
        assert _possible_rule_keys(policy, lookup, states) == RulePolicy._get_possible_keys(policy, lookup, states)


# ---------------------------------------------------------------- sparse features side by side


@pytest.mark.parametrize("seed", range(20))
def test_sparse_features_join_as_with_hstack(seed, monkeypatch):
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    import rasa_runtime.patches as patches

    monkeypatch.setattr(patches, "_ORIGINAL_COMBINE_SPARSE", Features._combine_sparse_features)
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 6))
    dtypes = [np.float64, np.int64, np.float32, np.int32]

    def matrix():
        dense = rng.integers(0, 3, size=(rows, int(rng.integers(1, 9)))) * (rng.random((rows, 1)) > 0.2)
        return scipy.sparse.coo_matrix(dense.astype(dtypes[int(rng.integers(0, 4))]))

    left, right = matrix(), matrix()
    expected = Features(left, "sentence", "text", "a")
    Features._combine_sparse_features(expected, Features(right, "sentence", "text", "b"))
    ours = Features(left, "sentence", "text", "a")
    patches._combine_sparse(ours, Features(right, "sentence", "text", "b"))
    assert scipy.sparse.isspmatrix_coo(ours.features)
    assert ours.features.shape == expected.features.shape
    assert ours.features.dtype == expected.features.dtype
    assert np.array_equal(ours.features.toarray(), expected.features.toarray())
    assert np.array_equal(ours.features.row, expected.features.row)
    assert np.array_equal(ours.features.col, expected.features.col)


def test_sparse_features_of_different_length_are_refused_as_by_rasa(monkeypatch):
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    import rasa_runtime.patches as patches

    monkeypatch.setattr(patches, "_ORIGINAL_COMBINE_SPARSE", Features._combine_sparse_features)
    one = Features(scipy.sparse.coo_matrix((2, 3)), "sequence", "text", "a")
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        patches._combine_sparse(one, Features(scipy.sparse.coo_matrix((3, 3)), "sequence", "text", "b"))


# ---------------------------------------------------------------- kept-alive action server session


async def test_action_calls_share_one_connection_and_survive_a_server_restart(monkeypatch):
    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from rasa.utils.endpoints import EndpointConfig

    from rasa_runtime.patches import _kept_alive_session

    monkeypatch.setattr(EndpointConfig, "session", _kept_alive_session)
    peers, tokens = [], []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername")[1])
        tokens.append(request.query.get("token"))
        return web.json_response({"events": [], "responses": []})

    def app():
        application = web.Application()
        application.router.add_post("/webhook", webhook)
        return application

    server = TestServer(app(), host="127.0.0.1")
    await server.start_server()
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{server.port}/webhook", token="geheim")
    for _ in range(3):
        assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [], "responses": []}
    assert len(set(peers)) == 1  # one TCP connection for three calls (Rasa opened three)
    assert tokens == ["geheim"] * 3

    port = server.port
    await server.close()  # the action server restarts
    server = TestServer(app(), host="127.0.0.1", port=port)
    await server.start_server()
    try:
        assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [], "responses": []}
        assert len(set(peers)) == 2
    finally:
        await server.close()
        session = endpoint.__dict__["_ba_session"][1]
        await session.close()


async def test_action_call_bodies_carry_the_same_json_values(monkeypatch):
    """orjson encodes the request body: the action server must read the values json.dumps gave."""
    import json

    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from bot.training import DOMAIN
    from rasa_runtime.patches import _kept_alive_session

    monkeypatch.setattr(EndpointConfig, "session", _kept_alive_session)
    received = []

    async def webhook(request):
        received.append(await request.json())
        return web.json_response({"events": [], "responses": []})

    application = web.Application()
    application.router.add_post("/webhook", webhook)
    server = TestServer(application, host="127.0.0.1")
    await server.start_server()
    domain = Domain.load(str(DOMAIN))
    tracker = DialogueStateTracker.from_events(
        "bürger/1",
        [
            ActionExecuted("action_listen"),
            UserUttered(
                "Grüß Gott, ich bin nach München gezogen / 80331 € \"zitiert\"\n",
                {"name": "greet", "confidence": 0.123456789012345},
                [{"entity": "plz", "value": 80331}],
            ),
            SlotSet("nachname", "Müller-Lüdenscheidt"),
            SlotSet("plz", None),
        ],
        slots=domain.slots,
    )
    body = {
        "next_action": "action_x",
        "sender_id": tracker.sender_id,
        "tracker": tracker.current_state(),
        "version": "3.6.21",
    }
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{server.port}/webhook")
    try:
        await endpoint.request(json=body, method="post")
    finally:
        await server.close()
        await endpoint.__dict__["_ba_session"][1].close()
    assert received == [json.loads(json.dumps(body))]


def test_action_call_bodies_orjson_refuses_go_the_old_way():
    import json

    from rasa_runtime.patches import _body_dumps

    body = {"tracker": {"events": [{"event": "slot", "name": "aktenzeichen", "value": 10**30}]}, 7: "sieben"}
    assert json.loads(_body_dumps(body)) == json.loads(json.dumps(body))
    assert json.loads(_body_dumps({"confidence": float("nan")})) == {"confidence": None}  # valid JSON


def test_action_call_bodies_take_numpy_numbers_as_json_does():
    import json

    import numpy as np
    import orjson

    from rasa_runtime.patches import _ORJSON_OPTIONS, _body_dumps

    assert _ORJSON_OPTIONS == orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    body = {"intent": {"name": "inform", "confidence": np.float64(0.123456789012345)}, "rank": np.int64(3)}
    assert _body_dumps(body) == '{"intent":{"name":"inform","confidence":0.123456789012345},"rank":3}'
    assert json.loads(_body_dumps(body)) == json.loads(json.dumps({**body, "rank": 3}))


# ---------------------------------------------------------------- empty domain built once


def test_domain_is_empty_as_in_rasa():
    from rasa.shared.core.domain import Domain

    from bot.training import DOMAIN
    from rasa_runtime.patches import _domain_is_empty

    original = Domain.__dict__["is_empty"]
    assert original is not _domain_is_empty  # Rasa's own is compared here
    for domain in (
        Domain.empty(),
        Domain.from_dict({}),
        Domain.from_dict({"intents": ["greet"]}),
        Domain.load(str(DOMAIN)),
    ):
        assert _domain_is_empty(domain) == original(domain)
    assert _domain_is_empty(Domain.empty()) and not _domain_is_empty(Domain.load(str(DOMAIN)))


# ---------------------------------------------------------------- applied events remembered


def test_applied_events_as_in_rasa_through_reverts_loops_and_restarts(monkeypatch):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker
    from support.trackers import form_opening

    import rasa_runtime.patches as patches
    from bot.training import DOMAIN

    original = DialogueStateTracker.applied_events
    monkeypatch.setattr(patches, "_ORIGINAL_APPLIED_EVENTS", original)
    domain = Domain.load(str(DOMAIN))
    tracker = DialogueStateTracker("applied", domain.slots)
    form = "meldebescheinigung_form"
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        *form_opening(form),
        ActionExecuted(form),
        SlotSet("vorname", "Erika"),
        ActionExecuted("action_listen"),
        UserUttered("was?", {"name": "help", "confidence": 0.8}),
        UserUtteranceReverted(),
        ActionExecuted("utter_help"),
        ActionReverted(),
        ActionExecuted(form),
        ActionExecuted("action_listen"),
        Restarted(),
        ActionExecuted("action_listen"),
    ]
    for event in events:
        tracker.update(event, domain)
        expected = original(tracker)
        first = patches._applied_events(tracker)
        assert first == expected
        first.clear()  # a caller editing its list changes nothing for the next one
        assert patches._applied_events(tracker) == expected


def test_applied_events_continue_in_copies_as_in_rasa(monkeypatch):
    """A copy carries the memo and continues from it with the events added to it; a new loop
    name, a revert or a restart among them gives what Rasa's filter gives."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, Restarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from support.trackers import training_conversations

    import rasa_runtime.patches as patches
    from rasa_runtime.tracker_copy import copy_tracker

    original = DialogueStateTracker.applied_events
    monkeypatch.setattr(patches, "_ORIGINAL_APPLIED_EVENTS", original)
    domain, trackers = training_conversations()
    other_form = "reisepass_form"
    tails = [
        [ActionExecuted("action_listen"), UserUttered("Erika", {"name": "inform", "confidence": 0.9})],
        [ActionExecuted(other_form), ActiveLoop(other_form), SlotSet("requested_slot", "vorname")],
        [ActionExecuted(other_form), ActiveLoop(None), Restarted(), ActionExecuted("action_listen")],
    ]
    continued = 0
    for number, source in enumerate(trackers):
        tracker = DialogueStateTracker(f"applied-{number}", domain.slots)
        for event in source.events:
            tracker.update(event, domain)
            assert patches._applied_events(tracker) == original(tracker), number
            for tail in tails:
                copied = copy_tracker(tracker)
                assert copied.__dict__["_ba_applied"] is tracker.__dict__["_ba_applied"]
                for added in tail:
                    copied.update(added, domain)
                    assert patches._applied_events(copied) == original(copied), (number, added)
                    continued += 1
    assert continued > 5000
    # a copy whose events are other objects than the memo's starts over
    copied = copy_tracker(tracker)
    copied.events.clear()
    copied.events.extend(e.__class__.from_parameters(e.as_dict()) for e in tracker.events)
    assert patches._applied_events(copied) == original(copied)


# ---------------------------------------------------------------- slot copies


def test_slots_copy_as_with_the_default_protocol():
    import copy

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.slots import Slot

    from bot.training import DOMAIN
    from rasa_runtime.patches import _copy_slot

    assert "__copy__" not in Slot.__dict__  # Rasa's own slots use Python's default
    slots = Domain.load(str(DOMAIN)).slots
    assert {type(s).__name__ for s in slots} >= {"TextSlot", "AnySlot"}
    for slot in slots:
        slot.value = "80331"
        before = slot.value  # a list slot keeps ["80331"]
        expected, ours = copy.copy(slot), _copy_slot(slot)
        assert type(ours) is type(expected)
        assert ours.__dict__ == expected.__dict__
        assert ours is not slot
        ours.value = "anders"
        assert slot.value == before


# ---------------------------------------------------------------- deep copies for debug logs only


@pytest.mark.parametrize("module_name", __import__("rasa_runtime.patches").patches.DEBUG_LOG_COPY_MODULES)
def test_every_deepcopy_in_these_modules_only_feeds_a_debug_log(module_name):
    import ast
    import importlib
    import inspect

    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def is_log_call(node):
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "structlogger"
            and node.func.attr == "debug"
        )

    copies = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "deepcopy"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "copy"
    ]
    assert copies
    for node in copies:
        parent = parents.get(node)
        while parent is not None and not is_log_call(parent):
            parent = parents.get(parent)
        assert parent is not None, f"{module_name}:{node.lineno} deep-copies for more than a debug log"


def test_debug_log_copies_are_made_when_rasa_logs_at_debug_level():
    import logging

    from rasa_runtime.patches import _CopyForDebugLogs

    shim, value = _CopyForDebugLogs(), {"a": [1]}
    rasa_logger = logging.getLogger("rasa")
    old = rasa_logger.level
    try:
        rasa_logger.setLevel(logging.INFO)
        assert shim.deepcopy(value) is value
        rasa_logger.setLevel(logging.DEBUG)
        copied = shim.deepcopy(value)
        assert copied == value and copied is not value and copied["a"] is not value["a"]
    finally:
        rasa_logger.setLevel(old)
    assert shim.copy([1]) == [1]  # the rest is the copy module


# ---------------------------------------------------------------- the loaded model out of the collector


async def test_loaded_model_is_frozen_for_the_garbage_collector():
    import gc

    from rasa_runtime import patches

    model = [{"weights": list(range(100))} for _ in range(1000)]  # stands in for the loaded agent

    async def load_agent_on_start(*args):
        return args

    wrapped = patches._freezing_after_load(load_agent_on_start)
    assert wrapped.__name__ == "load_agent_on_start" and wrapped._ba_freezes
    try:
        assert gc.get_freeze_count() == 0
        assert await wrapped("model.tar.gz", None) == ("model.tar.gz", None)
        assert gc.get_freeze_count() >= len(model)
    finally:
        gc.unfreeze()
