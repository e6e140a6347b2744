"""A Rasa replica that is stopped (SIGTERM, as a rolling update or Kubernetes does) finishes the
turns it holds before it exits (issue 18; rasa_runtime/shutdown.py).

The replica benchmark's rolling update once left a web chat message without an answer: its turn
ran as a task of its own (socket.io), no HTTP connection was open, and Sanic exited at once on
SIGTERM. These tests run a real Sanic server in a process of its own (tests/ops/graceful_app.py)
with the real Redis lock store on a private Redis, and send it SIGTERM while such a turn runs."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import services

from bot.stack import free_port
from rasa_runtime import shutdown
from rasa_runtime.lock_store import RedisLockStore

APP = Path(__file__).with_name("graceful_app.py")


@pytest.fixture()
def redis():
    server = services.PrivateRedis().start()
    yield server
    server.stop()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as error:
        return error.code


def _server(redis, saved: Path, seconds: float, *extra: str):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(APP), str(port), redis.url, str(saved), str(seconds), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _status(base + "/") == 200:
                return process, base
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("test server did not start")
        time.sleep(0.2)


def _say(base: str, conversation: str) -> None:
    request = urllib.request.Request(f"{base}/say/{conversation}", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200


def _lock_free_within(redis, conversation: str, seconds: float) -> bool:
    store = RedisLockStore(host="127.0.0.1", port=redis.port, password=redis.password, key_prefix="graceful")

    async def take() -> None:
        async with store.lock(conversation, lock_lifetime=60):
            pass

    try:
        asyncio.run(asyncio.wait_for(take(), seconds))
    except asyncio.TimeoutError:
        return False
    return True


def test_sigterm_waits_for_a_socket_turn_and_reports_unavailable_meanwhile(redis, tmp_path):
    saved = tmp_path / "saved"
    process, base = _server(redis, saved, 3.0)
    _say(base, "c1")
    time.sleep(0.5)  # the turn runs; its HTTP request is over
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    # Still running, and telling health checks to take it out.
    assert process.poll() is None
    assert _status(base + "/") == 503
    assert process.wait(timeout=shutdown.TURN_GRACE_S + 10) == 0
    assert saved.read_text() == "c1 saved\n"
    assert time.monotonic() - started >= 2.0  # it waited for the turn
    assert _lock_free_within(redis, "c1", 3)


def test_without_it_the_turn_is_dropped_and_its_lock_ticket_stays(redis, tmp_path):
    """How Rasa stopped before: the same turn is lost, and the next message of that conversation
    would wait for the dead ticket until the lock's lifetime ends."""
    saved = tmp_path / "saved"
    process, base = _server(redis, saved, 3.0, "--plain")
    _say(base, "c2")
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert not saved.exists()
    assert not _lock_free_within(redis, "c2", 3)


def test_a_turn_longer_than_the_grace_is_cancelled_and_gives_its_ticket_back(redis, tmp_path):
    saved = tmp_path / "saved"
    process, base = _server(redis, saved, 30.0, "--grace", "1")
    _say(base, "c3")
    time.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert time.monotonic() - started < 15
    assert not saved.exists()  # nothing half-done saved
    assert _lock_free_within(redis, "c3", 3)  # no wait for a dead ticket


def test_drain_waits_for_quiet_before_it_lets_sanic_close():
    """A turn that starts during the wait (a load balancer that has not noticed yet) is served."""

    async def scenario() -> tuple[int, list[str]]:
        turns = shutdown.Turns()
        done: list[str] = []

        async def turn(name: str, delay: float, seconds: float) -> None:
            await asyncio.sleep(delay)
            task = turns.enter()
            try:
                await asyncio.sleep(seconds)
                done.append(name)
            finally:
                turns.leave(task)

        first = asyncio.ensure_future(turn("first", 0, 0.5))
        late = asyncio.ensure_future(turn("late", 0.7, 0.3))
        await asyncio.sleep(0.1)
        cancelled = await turns.drain(grace=5, quiet=0.5)
        await asyncio.gather(first, late)
        return cancelled, done

    cancelled, done = asyncio.run(scenario())
    assert cancelled == 0
    assert done == ["first", "late"]


def test_kubernetes_and_compose_give_rasa_the_time_to_finish_its_turns():
    """SIGKILL must not come before the turns are finished: Kubernetes' grace covers the preStop
    sleep plus the wait for turns and long polls; compose's stop_grace_period the wait."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    needed = shutdown.TURN_GRACE_S + shutdown.CONNECTION_GRACE_S
    rasa = next(
        doc
        for doc in yaml.safe_load_all((root / "k8s/base/rasa.yaml").read_text())
        if doc and doc.get("kind") == "Deployment"
    )
    pod = rasa["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "rasa")
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= float(pre_stop[1]) + needed + 3
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    for name in ("rasa-1", "rasa-2"):
        grace = compose["services"][name]["stop_grace_period"]
        assert grace.endswith("s") and float(grace[:-1]) >= needed + 3
