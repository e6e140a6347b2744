"""Delivery against the real reference portal backend (in-process, SQLite): exactly once
despite injected 503s and a backend that is down; rejections keep their fields."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from buergerassistent.submission import delivery
from buergerassistent.submission.backends import (
    BackendNotAvailable,
    ReferencePortalBackend,
    SubmissionBackend,
    backend_from_env,
)
from buergerassistent.submission.outbox import DELIVERED, PENDING, REJECTED
from buergerassistent.submission.portal_client import PortalClient
from delivery_worker.worker import NOTIFY_INTENT, DeliveryWorker, RasaNotifier
from portal_backend.app import STORE, create_app

from .conftest import FILLED, closed_port_url


def fast_backend(url: str) -> ReferencePortalBackend:
    return ReferencePortalBackend(PortalClient(base_url=url, timeout_s=2, attempts=2, backoff_s=0.01))


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SUBMISSION_RETRY_BASE_S", "0.01")
    monkeypatch.setenv("SUBMISSION_RETRY_MAX_S", "0.05")


async def drain(worker: DeliveryWorker, rounds: int = 200) -> None:
    for _ in range(rounds):
        if not worker.outbox.due(1000) and not worker.outbox.counts().get(PENDING):
            return
        await worker.run_once()
        await asyncio.sleep(0.02)
    raise AssertionError(f"not drained: {worker.outbox.counts()}")


async def test_exactly_once_despite_injected_503s(outbox, tmp_path, withdrawable_catalogue):
    # Half of the injected 503s come after the backend stored the application: only the
    # idempotency key prevents a second one when the worker sends again.
    app = create_app(f"sqlite:///{tmp_path / 'portal.db'}", catalogue=withdrawable_catalogue, fault_503_rate=0.5)
    server = TestServer(app)
    await server.start_server()
    try:
        ids = [str(uuid.uuid4()) for _ in range(30)]
        for i in ids:
            outbox.enqueue(i, "meldebescheinigung", FILLED, None)
        worker = DeliveryWorker(outbox, fast_backend(str(server.make_url("")).rstrip("/")), RasaNotifier(url=""))
        await drain(worker)
        entries = outbox.all()
        assert {e.state for e in entries} == {DELIVERED}
        assert len({e.case_number for e in entries}) == 30
        assert any(e.attempts > 1 for e in entries), "no fault was injected: the test proves nothing"
        assert app[STORE].count() == 30
    finally:
        await server.close()


async def test_backend_down_then_up_delivers_later(outbox, tmp_path, withdrawable_catalogue):
    outbox.enqueue("down-1", "meldebescheinigung", FILLED, None)
    down = DeliveryWorker(outbox, fast_backend(closed_port_url()), RasaNotifier(url=""))
    await down.run_once()
    entry = outbox.get("down-1")
    assert entry.state == PENDING and entry.attempts == 1

    server = TestServer(create_app(f"sqlite:///{tmp_path / 'portal.db'}", catalogue=withdrawable_catalogue))
    await server.start_server()
    try:
        up = DeliveryWorker(outbox, fast_backend(str(server.make_url("")).rstrip("/")), RasaNotifier(url=""))
        await drain(up)
        assert outbox.get("down-1").state == DELIVERED
        assert server.app[STORE].get(outbox.get("down-1").case_number) is not None
    finally:
        await server.close()


async def test_rejection_is_final_and_names_the_fields(outbox, backend):
    outbox.enqueue("bad-1", "meldebescheinigung", {**FILLED, "art_meldebescheinigung": "gold"})
    entry = await delivery.attempt(outbox, backend_from_env(), "bad-1")
    assert entry.state == REJECTED
    assert list(entry.rejection["fields"]) == ["art_meldebescheinigung"]
    assert outbox.due(10) == []


async def test_worker_tells_the_conversation_through_rasas_http_api(outbox, backend):
    # Stand-in for Rasa's HTTP API (the real one is exercised in test_e2e_submission.py):
    # it records what the worker sends and marks the entry announced, as the action would.
    calls = []

    async def trigger(request: web.Request) -> web.Response:
        calls.append(
            (
                request.match_info["conversation"],
                request.query.get("output_channel"),
                request.query.get("token"),
                await request.json(),
            )
        )
        for entry in outbox.for_conversation(request.match_info["conversation"]):
            outbox.mark_announced(entry.id)
        return web.json_response({})

    rasa = web.Application()
    rasa.router.add_post("/conversations/{conversation}/trigger_intent", trigger)
    rasa_server = TestServer(rasa)
    await rasa_server.start_server()
    try:
        outbox.enqueue("n-1", "meldebescheinigung", FILLED, "conv/with slash")
        outbox.enqueue("n-2", "meldebescheinigung", FILLED, None)  # no conversation: postbox only
        notifier = RasaNotifier(url=str(rasa_server.make_url("")).rstrip("/"), token="t0k")
        worker = DeliveryWorker(outbox, backend_from_env(), notifier)
        await worker.run_once()
        await worker.run_once()
        assert calls == [("conv/with slash", "latest", "t0k", {"name": NOTIFY_INTENT, "entities": {}})]
        assert outbox.unannounced() == []
    finally:
        await rasa_server.close()


def test_backend_is_chosen_by_configuration(monkeypatch):
    assert isinstance(backend_from_env("reference"), ReferencePortalBackend)
    with pytest.raises(BackendNotAvailable, match="docs/fit-connect.md"):
        backend_from_env("fit-connect")
    custom = backend_from_env("buergerassistent.submission.backends:ReferencePortalBackend")
    assert isinstance(custom, SubmissionBackend)
    with pytest.raises(BackendNotAvailable):
        backend_from_env("nonsense")
