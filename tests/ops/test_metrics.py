"""/metrics of our aiohttp services and the delivery worker's outbox gauge (buergerassistent/metrics.py).
The Rasa process and the action server are scraped end to end in tests/ops/test_store_outages.py."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from buergerassistent import metrics
from buergerassistent.submission.outbox import Outbox
from delivery_worker.__main__ import create_app as worker_app
from delivery_worker.worker import DeliveryWorker


async def test_metrics_need_the_token(monkeypatch):
    monkeypatch.setenv("BA_METRICS_TOKEN", "geheim-und-lang")
    app = web.Application()
    metrics.aiohttp_route(app)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics")).status == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer geheim"})
        assert wrong.status == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer geheim-und-lang"})
        assert ok.status == 200 and ok.content_type == "text/plain"
        assert "# TYPE ba_messages_total counter" in await ok.text()


async def test_without_a_token_there_is_no_metrics_endpoint(monkeypatch):
    monkeypatch.delenv("BA_METRICS_TOKEN", raising=False)
    app = web.Application()
    metrics.aiohttp_route(app)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics", headers={"Authorization": "Bearer x"})).status == 404


async def test_worker_reports_the_outbox_depth(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_METRICS_TOKEN", "geheim-und-lang")
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    monkeypatch.setenv("OUTBOX_DATABASE_URL", url)
    outbox = Outbox.from_url(url)
    for n in range(3):
        outbox.enqueue(f"app-{n}", "meldebescheinigung", {"vorname": "Erika"}, f"wc-{n}")
    await DeliveryWorker(outbox, backend=None).measure_depth()
    async with TestClient(TestServer(worker_app())) as client:
        text = await (await client.get("/metrics", headers={"Authorization": "Bearer geheim-und-lang"})).text()
    assert 'ba_outbox_depth{state="pending"} 3.0' in text
    assert "Erika" not in text and "wc-" not in text


def test_labels_are_closed_sets():
    assert metrics.channel_label("webchat") == "webchat"
    assert metrics.channel_label("wc-1234abcd") == "other"  # never a conversation id
    assert metrics.channel_label(None) == "other"


def test_rasa_gets_the_metrics_channel_and_our_lock_store_only_when_configured(tmp_path):
    from bot.local_stack import local_settings
    from bot.settings import LOCK_STORE_TYPE, METRICS_CHANNEL, credentials, lock_store_config

    assert METRICS_CHANNEL not in credentials(local_settings(tmp_path, metrics_token=None))
    assert METRICS_CHANNEL in credentials(local_settings(tmp_path, metrics_token="geheim-und-lang"))
    config = lock_store_config("redis://:pw@127.0.0.1:6390/2")
    assert config["type"] == LOCK_STORE_TYPE and config["port"] == 6390 and config["db"] == 2
    assert lock_store_config(None) == {"type": "in_memory"}


async def test_staff_desk_serves_metrics_with_the_metrics_token_only(monkeypatch):
    """The staff desk (issue 19) is one of our services too; its API token is not the metrics token."""
    from staff_desk.app import make_app

    monkeypatch.setenv("BA_METRICS_TOKEN", "geheim-und-lang")
    async with TestClient(TestServer(make_app(desk=None, token="desk-token-lang"))) as client:
        assert (await client.get("/metrics", headers={"Authorization": "Bearer desk-token-lang"})).status == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer geheim-und-lang"})
        assert ok.status == 200
        assert "process_resident_memory_bytes" in await ok.text()
        # The metrics token opens nothing else.
        assert (await client.post("/cases", headers={"Authorization": "Bearer geheim-und-lang"})).status == 401
