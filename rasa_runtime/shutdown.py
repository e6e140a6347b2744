"""A Rasa replica that is stopped finishes the turns it holds (issue 18, rolling update).

What Sanic does by itself on SIGTERM: it closes the listening socket, waits up to 15 s for open
*connections*, then exits. A turn is not always a connection: a web chat message arrives in a
socket.io packet whose HTTP request has long returned, and its turn runs as a task of its own.
When no connection was open (a long-polling socket between two polls), Sanic exited at once and
the turn was dropped in the middle: nothing saved, no answer, and the conversation's ticket in
the Redis lock store held until its lifetime (60 s) ran out, so the citizen's next message
waited for it too. In the replica benchmark that was the one message "without an answer in
120 s" during the rolling update (docs/capacity.md).

Now (``install``):

* every turn (``Agent.handle_message``, which runs under the conversation's lock and saves the
  tracker at its end, and ``Agent.trigger_intent``) is counted while it runs;
* on SIGTERM, before Sanic closes anything, the replica reports itself unavailable on ``GET /``
  (HTTP 503, so a load balancer's or Kubernetes' health checks take it out even when nobody told
  them), and waits until no turn has run for ``QUIET_S`` — at most ``TURN_GRACE_S``. Turns that
  arrive meanwhile (a load balancer that has not noticed yet) are served, not refused;
* a turn still running after ``TURN_GRACE_S`` is cancelled: the lock store's ``finally`` gives
  its ticket back at once (rasa_runtime/lock_store.py), nothing half-done is saved (Rasa saves a
  turn at its end), and the citizen's resend is processed without waiting for a dead ticket;
* open connections then get ``CONNECTION_GRACE_S`` (instead of Sanic's 15 s): what is still open
  is a web chat long poll with nothing to deliver. Closing it makes the socket reconnect through
  the load balancer to another replica at once; kept open, the citizen's next message would be
  sent while its socket still belongs to this replica, and lost.

Stop a replica with at least ``TURN_GRACE_S + CONNECTION_GRACE_S`` + a few seconds before
SIGKILL (Kubernetes: ``terminationGracePeriodSeconds`` 40 with a ``preStop`` of 5 s).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any, Optional

logger = logging.getLogger(__name__)

TURN_GRACE_S = 25.0  # at most this long for the turns in flight
QUIET_S = 1.0  # no turn for this long: nothing more is coming from the load balancer
CONNECTION_GRACE_S = 2.0  # then open connections (idle long polls) are closed


class Turns:
    """The turns running in this process, and the wait for them at shutdown."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task] = set()
        self.last_ended = time.monotonic()
        self.draining = False

    def enter(self) -> Optional[asyncio.Task]:
        task = asyncio.current_task()
        if task is not None:
            self.running.add(task)
        return task

    def leave(self, task: Optional[asyncio.Task]) -> None:
        if task is not None:
            self.running.discard(task)
        self.last_ended = time.monotonic()

    async def drain(self, grace: Optional[float] = None, quiet: Optional[float] = None, step: float = 0.05) -> int:
        """Wait until no turn runs and none ended for ``quiet`` s, at most ``grace`` s; cancel
        what still runs then (its lock ticket is given back). Returns the turns cancelled."""
        grace = TURN_GRACE_S if grace is None else grace
        quiet = QUIET_S if quiet is None else quiet
        self.draining = True
        deadline = time.monotonic() + grace
        waited_for = len(self.running)
        while time.monotonic() < deadline:
            if not self.running and time.monotonic() - self.last_ended >= quiet:
                break
            await asyncio.sleep(step)
        left = [task for task in self.running if not task.done()]
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=5)
        logger.info(
            "Herunterfahren: %d laufende Züge abgewartet, %d nach %.0f s abgebrochen", waited_for, len(left), grace
        )
        return len(left)


TURNS = Turns()


def _wrap_handle_message(original):
    """A turn: counted while it runs (``Agent.handle_message``, ``Agent.trigger_intent``)."""

    @functools.wraps(original)
    async def turn(self, *args, **kwargs):
        task = TURNS.enter()
        try:
            return await original(self, *args, **kwargs)
        finally:
            TURNS.leave(task)

    turn._ba_turns = True  # type: ignore[attr-defined]
    return turn


def prepare_app(app: Any, turns: Turns = TURNS) -> None:
    """On this Sanic app: ``GET /`` answers 503 while draining; on stop, the turns are waited
    for before Sanic closes its listener; then idle connections get ``CONNECTION_GRACE_S``."""
    from sanic import response

    @app.middleware("request")
    async def unavailable_while_draining(request):
        if turns.draining and request.path == "/":
            return response.text("shutting down", status=503)

    async def finish_turns(app_, _loop) -> None:
        app_.config.GRACEFUL_SHUTDOWN_TIMEOUT = CONNECTION_GRACE_S
        await turns.drain()

    app.register_listener(finish_turns, "before_server_stop")


def _wrap_configure_app(original):
    @functools.wraps(original)
    def configure_app(*args, **kwargs):
        app = original(*args, **kwargs)
        prepare_app(app)
        return app

    configure_app._ba_shutdown = True  # type: ignore[attr-defined]
    return configure_app


def install() -> None:
    """Idempotent. Install after the other ``Agent.handle_message`` wrappers, so that the whole
    turn (including the outage notice) counts."""
    import rasa.core.run as rasa_run
    from rasa.core.agent import Agent

    # Citizens' messages, and the turns our services start over the API (the delivery worker's
    # announcements: trigger_intent).
    for name in ("handle_message", "trigger_intent"):
        if not getattr(getattr(Agent, name), "_ba_turns", False):
            setattr(Agent, name, _wrap_handle_message(getattr(Agent, name)))
    if not getattr(rasa_run.configure_app, "_ba_shutdown", False):
        rasa_run.configure_app = _wrap_configure_app(rasa_run.configure_app)
