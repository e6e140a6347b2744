"""One stack for the whole suite with every channel of ``DRIVER_MODULES`` switched on; the
fixture ``driver`` runs each journey once per registered channel (``drivers.FACTORIES``)."""

from __future__ import annotations

import importlib

import pytest
from support.stacks import start_stack

from channels_suite import drivers

# One module per channel; each registers its factory (drivers.register).
DRIVER_MODULES = [
    "channels_suite.driver_web",
    "channels_suite.driver_matrix",
    "channels_suite.driver_messengers",
]
for _module in DRIVER_MODULES:
    importlib.import_module(_module)


@pytest.fixture(scope="session")
def suite_factories(tmp_path_factory):
    factories = {name: make() for name, make in drivers.FACTORIES.items()}
    var_dir = tmp_path_factory.mktemp("suite-var")
    # Status messages (delivery_worker/status.py): polled every second here.
    env: dict[str, str] = {"STATUS_POLL_INTERVAL_S": "1"}
    try:
        for factory in factories.values():
            env.update(factory.environment(var_dir))
        # The launcher decides from its settings and the stack's environment which channels Rasa
        # starts (bot/settings.py: credentials), so the channels' settings go into both.
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            stack = start_stack(var_dir, env=env)
        try:
            for factory in factories.values():
                factory.attach(stack)
            yield stack, factories
        finally:
            stack.stop()
    finally:
        for factory in factories.values():
            factory.close()


@pytest.fixture
def suite_stack(suite_factories):
    return suite_factories[0]


@pytest.fixture(params=sorted(drivers.FACTORIES))
def driver(request, suite_factories):
    d = suite_factories[1][request.param].open()
    yield d
    d.close()
