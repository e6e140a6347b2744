"""Run-time fixes to Rasa 3.6.21 that our Rasa process applies before it starts (rasa_runtime/process.py).

Each replaces a private Rasa function with one that gives the same results for less work, and is
checked against Rasa's own in tests/test_rasa_patches.py. All were found by profiling the Rasa
process under `make bench` with py-spy; the share of the process's time each removed is in its
docstring. They are applied only on the Rasa version they were written against (``RASA_VERSION``;
any other: a warning, and plain Rasa), and only the groups ``BA_RASA_PATCHES`` turns on
(``GROUPS``; ``0`` = none; ``-a,-b`` = all but a and b). Where Rasa has an extension point we use
it instead of a patch: the rule index is our RulePolicy subclass (rasa_runtime/policies.py), the
numpy DIET path our DIETClassifier subclass (rasa_runtime/components.py), both in bot/config.yml
and switched by the same variable. ``make bench`` shows the gain (ours with and without).

- action-server responses: one compiled validator, and for a valid response only the schema of
  each event's type (Rasa re-checked the schema against the meta-schema on every call: 72 %);
- event types looked up in a table instead of a walk over all ``Event`` subclasses per event;
- the prediction graph run without dask, with the schema walk cached;
- ``applied_events`` remembered per tracker until its events change;
- sparse features joined without ``scipy``'s ``bmat``;
- slots copied without the generic copy protocol;
- deep copies that only feed debug log lines made only when Rasa logs at debug level;
- one kept-alive HTTP session to the action server instead of one per call, whose request
  bodies (the whole tracker) are encoded with orjson;
- ``Domain.is_empty`` compared with an empty domain built once, not on every message;
- the dialogue states of a conversation replayed once per event, not per prediction
  (rasa_runtime/state_replay.py);
- the tracker copied before each action without replaying the conversation
  (rasa_runtime/tracker_copy.py);
- the slot mappings after each message checked for their conditions first
  (rasa_runtime/extract_slots.py);
- once the model is loaded, everything alive is frozen for the garbage collector, whose full
  collections walked the whole model each time (18 % of the process's time;
  buergerassistent/gc_freeze.py).
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)  # once, not per response
    return cls(spec)


@lru_cache(maxsize=1)
def _fast_response_check():
    """Validators for one response without the ``oneOf`` over all event types per event.

    Each event schema in the ``oneOf`` fixes ``event`` to its own constant and ``event`` is
    required, so an event is valid exactly when the item checks and the one schema for its
    ``event`` name accept it. Returns None if Rasa's schema ever stops having that shape.
    """
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    items = spec["properties"]["events"]["items"]
    branches = items.get("oneOf") or []
    names = [branch.get("properties", {}).get("event", {}).get("const") for branch in branches]
    if not names or None in names or len(set(names)) != len(names) or "event" not in items.get("required", []):
        return None
    cls = validator_for(spec)
    outer = cls(dict(spec, properties=dict(spec["properties"], events={"type": "array"})))
    item = cls({key: value for key, value in items.items() if key != "oneOf"})
    return outer, item, {name: cls(branch) for name, branch in zip(names, branches, strict=False)}


def _is_valid_fast(result) -> bool:
    check = _fast_response_check()
    if check is None or not isinstance(result, dict):
        return False
    outer, item, by_event = check
    if not outer.is_valid(result):
        return False
    for event in result.get("events") or []:
        if not item.is_valid(event):
            return False
        branch = by_event.get(event.get("event"))
        if branch is None or not branch.is_valid(event):
            return False
    return True


def _validate_action_result(self, result) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    if _is_valid_fast(result):
        return True
    # Invalid (or unusual): the full schema decides, and gives Rasa's error message.
    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from "
        f"the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


_EVENT_TYPES: dict = {}


def _resolve_event_type(type_name, default=None):
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    cls = _EVENT_TYPES.get(type_name)
    if cls is None:
        for subclass in all_subclasses(Event):  # same order as Rasa: the first match wins
            _EVENT_TYPES.setdefault(subclass.type_name, subclass)
        cls = _EVENT_TYPES.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa keeps this for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def _run_graph(self, inputs=None, targets=None):
    """``DaskGraphRunner.run`` without dask: each needed node once, dependencies first."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = list(targets) if targets else self._graph_schema.target_names
    needs = _needs_of_targets(self, tuple(run_targets))
    inputs = inputs or {}
    for _input_name, input_value in inputs.items():
        if isinstance(input_value, str) and input_value in needs:
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
    results: dict = {}

    def value(name):
        if name in results:
            return results[name]
        if name in inputs:
            result = (name, inputs[name])
        elif name in needs:
            result = self._instantiated_nodes[name](*(value(dep) for dep in needs[name]))
        else:
            result = name  # dask passes an unknown key as its name; GraphNode warns about it
        results[name] = result
        return result

    return dict(value(target) for target in run_targets)  # as Rasa: node name -> output


def _needs_of_targets(runner, targets: tuple) -> dict:
    """Node name -> names it needs, for the nodes the targets depend on (cached per runner)."""
    cache = runner.__dict__.setdefault("_ba_needs", {})
    if targets not in cache:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        cache[targets] = {name: list(node.needs.values()) for name, node in schema.nodes.items()}
    return cache[targets]


_ORIGINAL_COMBINE_SPARSE = None


def _combine_sparse(self, additional_features) -> None:
    """``Features._combine_sparse_features`` for two COO matrices without ``scipy.sparse.hstack``.

    The message's features are joined side by side for every featurizer and every message;
    ``hstack`` goes through the general ``bmat`` (9 % of the process's time). Joining the COO
    arrays directly gives the same matrix (same entries, order, shape and dtype)."""
    import numpy as np
    import scipy.sparse

    left, right = self.features, additional_features.features
    if (
        not (scipy.sparse.isspmatrix_coo(left) and scipy.sparse.isspmatrix_coo(right))
        or left.shape[0] != right.shape[0]
    ):
        return _ORIGINAL_COMBINE_SPARSE(self, additional_features)  # Rasa's own path and errors
    dtype = scipy.sparse.sputils.upcast(left.dtype, right.dtype)
    data = np.concatenate([left.data.astype(dtype, copy=False), right.data.astype(dtype, copy=False)])
    row = np.concatenate([left.row, right.row])
    col = np.concatenate([left.col, right.col + left.shape[1]])
    self.features = scipy.sparse.coo_matrix((data, (row, col)), shape=(left.shape[0], left.shape[1] + right.shape[1]))
    self._cached_fingerprint = None


_ORIGINAL_APPLIED_EVENTS = None


def _applied_events(self):
    """``DialogueStateTracker.applied_events``, remembered until the tracker's events change, and
    continued from there when events are only added.

    Rasa filters the whole event list again on every call, and a message makes dozens of calls
    (session check, every state computation, the policies; 7 % of the process's time). The
    answer depends only on the events: it is reused while the tracker holds the same event list
    with the same length and the same last event. Copies of the tracker carry the memo
    (rasa_runtime/tracker_copy.py): their events start with the same event objects, so the
    filter continues with the events added since (another 4 %). Rasa's filter walks the events
    once, in order, with the names of the conversation's loops; it starts over when an added
    event names a loop not seen before. Callers get their own list.
    """
    events = self.events
    count = len(events)
    last = events[-1] if count else None
    memo = self.__dict__.get("_ba_applied")
    if memo is not None and memo[0] is events and memo[1] == count and memo[2] is last:
        return list(memo[3])
    continued = _continue_applied(self, memo, events, count) if memo is not None else None
    if continued is None:
        active_loop = _event_types()[2]
        loops = frozenset(e.name for e in events if isinstance(e, active_loop) and e.name)
        continued = (_ORIGINAL_APPLIED_EVENTS(self), loops)
    self.__dict__["_ba_applied"] = (events, count, last, *continued)
    return list(continued[0])


def _continue_applied(self, memo, events, count):
    """``(applied events, loop names)`` for ``events``, continued from ``memo`` (the filter's
    result for its first events); None when they do not start with those very events or add a
    loop name."""
    import itertools

    ActionExecuted, ActionReverted, ActiveLoop, Restarted, SessionStarted, UserUtteranceReverted, UserUttered = (  # noqa: N806
        _event_types()
    )
    old_events, old_count, _last, applied, loops = memo
    if count < old_count or len(old_events) < old_count or type(events) is not type(old_events):
        return None
    if events is not old_events and not all(
        a is b
        for a, b in zip(itertools.islice(events, old_count), itertools.islice(old_events, old_count), strict=True)
    ):
        return None
    added = list(itertools.islice(events, old_count, None))
    if any(isinstance(e, ActiveLoop) and e.name and e.name not in loops for e in added):
        return None
    applied = list(applied)
    for event in added:  # Rasa 3.6.21's loop, line for line
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loops
            and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied, loops


@lru_cache(maxsize=1)
def _event_types() -> tuple:
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    return ActionExecuted, ActionReverted, ActiveLoop, Restarted, SessionStarted, UserUtteranceReverted, UserUttered


@lru_cache(maxsize=1)
def _empty_domain_dict() -> dict:
    from rasa.shared.core.domain import Domain

    return Domain.empty().as_dict()


def _domain_is_empty(self) -> bool:
    """``Domain.is_empty``: Rasa built a new empty ``Domain`` (and checked it) for each call,
    once per message (3 % of the process's time); the empty domain's dict is the same every time."""
    return self.as_dict() == _empty_domain_dict()


def _copy_slot(self):
    """``copy.copy`` of a slot, as Python's default does it for a plain object: a new instance of
    the same class with the same attribute values. Every new tracker copies every slot (90 here),
    and the generic protocol (``__reduce_ex__``, ``copyreg``) was most of that cost."""
    new = type(self).__new__(type(self))
    new.__dict__.update(self.__dict__)
    return new


# Rasa modules whose every ``copy.deepcopy`` is an argument of a structlog debug call
# (tests/test_rasa_patches.py checks that in their source).
DEBUG_LOG_COPY_MODULES = (
    "rasa.core.processor",
    "rasa.core.policies.rule_policy",
    "rasa.core.policies.memoization",
    "rasa.core.actions.forms",
)


class _CopyForDebugLogs:
    """Stands in for the ``copy`` module in ``DEBUG_LOG_COPY_MODULES``.

    Those modules deep-copy events, states and parse data for their debug log lines on every
    message, also when debug logging is off and the line is dropped (5 % of the process's
    time). The copy is made only when Rasa logs at debug level; everything else is ``copy``.
    """

    def __getattr__(self, name):
        import copy

        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        import copy
        import logging

        if logging.getLogger("rasa").isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value


# The action server (Sanic) closes a connection after 5 s idle; we stop reusing one after 2 s,
# so a request never goes out on a connection the server is closing.
ACTION_SERVER_KEEPALIVE_SECONDS = 2.0


def _kept_alive_session(self):
    """``EndpointConfig.session`` handing out one kept-alive session per endpoint and event loop.

    Rasa opened a new HTTP session, with a new TCP connection, for every call to the action
    server (most messages make one or two; 10 % of the process's time). Callers use it as
    ``async with``; leaving that block no longer closes it. Same headers, auth and timeout.
    Request bodies are the whole tracker as JSON; orjson encodes them in a fraction of the time
    of ``json.dumps`` (8 % of the process's time; ujson, before, still 5 %), into the same JSON
    values (``_body_dumps``).
    """
    import asyncio

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    cached = self.__dict__.get("_ba_session")
    if cached is None or cached[0] is not loop or cached[1].closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=ACTION_SERVER_KEEPALIVE_SECONDS),
            json_serialize=_body_dumps,
        )
        cached = (loop, session)
        self.__dict__["_ba_session"] = cached
    return _LeaveOpen(cached[1])


def _body_dumps(value) -> str:
    """The JSON of an action call's body: orjson, about 3.5 times faster than ujson here (the
    body is the whole tracker, up to 50 KB by the end of an application), with the same JSON
    values as ``json.dumps`` (tests/test_rasa_patches.py). Two differences, both to valid JSON:
    NaN and infinities become null (``json.dumps`` writes ``NaN``, which is not JSON; a tracker
    has floats only in timestamps and confidences), and what orjson refuses (an integer beyond
    64 bits) goes the old way."""
    import orjson

    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _ujson_dumps(value)


# Keys that are not strings as json.dumps writes them; numpy numbers (NLU confidences) as the
# floats and integers they are, which json.dumps writes for numpy.float64 too.
_ORJSON_OPTIONS = (1 << 2) | (1 << 4)  # orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _ujson_dumps(value) -> str:
    import ujson

    # like json.dumps: "/" unescaped; non-ASCII escaped as \uXXXX
    return ujson.dumps(value, escape_forward_slashes=False)


def _freezing_after_load(load_agent_on_start):
    """Rasa's ``load_agent_on_start`` (a listener before the server starts), then the loaded
    model and domain frozen for the garbage collector."""
    import functools

    from buergerassistent.gc_freeze import freeze_startup_objects

    @functools.wraps(load_agent_on_start)
    async def load_then_freeze(*args, **kwargs):
        agent = await load_agent_on_start(*args, **kwargs)
        freeze_startup_objects()
        return agent

    load_then_freeze._ba_freezes = True
    return load_then_freeze


class _LeaveOpen:
    """``async with`` that hands out the shared session and does not close it."""

    def __init__(self, session) -> None:
        self.session = session

    async def __aenter__(self):
        return self.session

    async def __aexit__(self, *exc) -> None:
        return None


# ----------------------------------------------------------------- which fixes run

# The Rasa version every fix here (and in the components of rasa_runtime/policies.py and
# rasa_runtime/components.py) was written against and compared with. Any other version runs
# unpatched: the private functions replaced here may have changed meaning.
RASA_VERSION = "3.6.21"

# Fix groups, as named in BA_RASA_PATCHES. "rule_index" and "diet_numpy" are not patches but
# switches of our own components (IndexedRulePolicy, FastDIETClassifier in bot/config.yml).
GROUPS = (
    "action_response",  # RemoteAction._validate_action_result
    "event_types",  # Event.resolve_by_type
    "graph_runner",  # DaskGraphRunner.run
    "sparse_features",  # Features._combine_sparse_features
    "applied_events",  # DialogueStateTracker.applied_events
    "domain_empty",  # Domain.is_empty
    "slot_copy",  # Slot.__copy__
    "debug_copies",  # copy.deepcopy for debug log lines
    "action_session",  # EndpointConfig.session (kept-alive, orjson)
    "state_replay",  # Domain.states_for_tracker_history (rasa_runtime/state_replay.py)
    "tracker_copy",  # DialogueStateTracker.copy, FormAction._temporary_tracker
    "rule_index",  # IndexedRulePolicy (rasa_runtime/policies.py)
    "diet_numpy",  # FastDIETClassifier (rasa_runtime/components.py)
    "gc_freeze",  # the loaded model kept out of garbage collection (buergerassistent/gc_freeze.py)
    "extract_slots",  # ActionExtractSlots.run, conditions first (rasa_runtime/extract_slots.py)
)

SWITCH = "BA_RASA_PATCHES"


class InvalidPatchSwitch(SystemExit):
    pass


def rasa_version() -> str:
    import rasa

    return rasa.__version__


def parse_switch(value: str | None) -> frozenset[str]:
    """The groups a value of BA_RASA_PATCHES turns on.

    unset, "", "1", "all": every group; "0", "none", "off": none; "-a,-b": all but a and b;
    "a,b": only a and b. An unknown group name is an error (a typo must not silently measure
    or run something else)."""
    value = (value or "").strip().lower()
    if value in ("", "1", "all", "on"):
        return frozenset(GROUPS)
    if value in ("0", "none", "off"):
        return frozenset()
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted({name.lstrip("-") for name in names} - set(GROUPS))
    if unknown:
        raise InvalidPatchSwitch(f"{SWITCH}: unbekannte Gruppe(n) {', '.join(unknown)}; bekannt: {', '.join(GROUPS)}")
    removed = {name[1:] for name in names if name.startswith("-")}
    added = {name for name in names if not name.startswith("-")}
    if removed and added:
        raise InvalidPatchSwitch(f"{SWITCH}: entweder Gruppen abschalten (-name) oder aufzählen, nicht beides")
    return frozenset(set(GROUPS) - removed) if removed else frozenset(added)


def enabled_groups(environ=None) -> frozenset[str]:
    """The fix groups to use in this process: those BA_RASA_PATCHES turns on, and none at all on
    any Rasa version other than RASA_VERSION (with a warning)."""
    if environ is None:
        from buergerassistent.settings import get_settings

        value = get_settings().ba_rasa_patches
    else:
        value = environ.get(SWITCH)
    return _groups_for(value, rasa_version())


@lru_cache(maxsize=16)
def _groups_for(value: str | None, version: str) -> frozenset[str]:
    # Cached: the tracker store asks on every retrieve.
    groups = parse_switch(value)
    if groups and version != RASA_VERSION:
        _warn_version(version)
        return frozenset()
    return groups


def is_enabled(group: str, environ=None) -> bool:
    assert group in GROUPS, group
    return group in enabled_groups(environ)


_WARNED = False


def _warn_version(version: str) -> None:
    import logging

    global _WARNED
    if not _WARNED:
        logging.getLogger(__name__).warning(
            "Rasa %s installiert, die Laufzeit-Optimierungen sind für Rasa %s geschrieben und geprüft: "
            "sie bleiben aus, Rasa läuft unverändert (langsamer). Nach einem Rasa-Update: Tests in "
            "tests/test_rasa_patches.py u. a. laufen lassen und RASA_VERSION in rasa_runtime/patches.py "
            "anpassen.",
            version,
            RASA_VERSION,
        )
        _WARNED = True


def apply_patches(environ=None) -> frozenset[str]:
    """Replace Rasa's functions for the enabled groups (see ``enabled_groups``); returns the
    groups in use. Idempotent per group; groups not enabled keep Rasa's own functions."""
    import importlib
    import logging

    global _ORIGINAL_COMBINE_SPARSE, _ORIGINAL_APPLIED_EVENTS
    groups = enabled_groups(environ)
    logging.getLogger(__name__).info("Rasa-Optimierungen: %s", ", ".join(sorted(groups)) or "keine")
    if not groups:
        return groups
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.slots import Slot
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.training_data.features import Features
    from rasa.utils.endpoints import EndpointConfig

    if "action_response" in groups:
        RemoteAction._validate_action_result = _validate_action_result
    if "event_types" in groups:
        Event.resolve_by_type = staticmethod(_resolve_event_type)
    if "graph_runner" in groups:
        DaskGraphRunner.run = _run_graph
    if "sparse_features" in groups and _ORIGINAL_COMBINE_SPARSE is None:
        _ORIGINAL_COMBINE_SPARSE = Features._combine_sparse_features
        Features._combine_sparse_features = _combine_sparse
    if "action_session" in groups:
        EndpointConfig.session = _kept_alive_session
    if "domain_empty" in groups:
        Domain.is_empty = _domain_is_empty
    if "applied_events" in groups and _ORIGINAL_APPLIED_EVENTS is None:
        _ORIGINAL_APPLIED_EVENTS = DialogueStateTracker.applied_events
        DialogueStateTracker.applied_events = _applied_events
    if "slot_copy" in groups and "__copy__" not in Slot.__dict__:
        Slot.__copy__ = _copy_slot
    if "gc_freeze" in groups:
        import rasa.core.run

        if not getattr(rasa.core.run.load_agent_on_start, "_ba_freezes", False):
            rasa.core.run.load_agent_on_start = _freezing_after_load(rasa.core.run.load_agent_on_start)
    if "extract_slots" in groups:
        from rasa_runtime import extract_slots

        extract_slots.apply_patch()
    if "state_replay" in groups:
        from rasa_runtime import state_replay

        state_replay.apply_patch()
    if "tracker_copy" in groups:
        from rasa_runtime import tracker_copy

        tracker_copy.apply_patch()
    if "debug_copies" in groups:
        for module_name in DEBUG_LOG_COPY_MODULES:
            importlib.import_module(module_name).copy = _CopyForDebugLogs()
    return groups
