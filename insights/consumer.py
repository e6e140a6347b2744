"""Consume Rasa's event broker queue (RabbitMQ, aio-pika) into the insights store.

Rasa's Pika event broker declares a fanout exchange (not durable) and binds our durable queue
to it; we declare both the same way, so either side may start first and events wait in the
queue while this service is down. A message is acknowledged after its facts are committed; an
unreadable message is dropped with a log line that names no content.

``health_app`` is its HTTP side (``python -m insights consume --port``): ``GET /health`` (200
while it reads the queue) and ``GET /metrics`` with ``BA_METRICS_TOKEN`` like every service:
``ba_insights_events_total{outcome}``, ``ba_insights_pending``, ``ba_insights_ingest_seconds``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Optional

import aio_pika
from aiohttp import web

from buergerassistent import metrics
from buergerassistent.insights import Insights

logger = logging.getLogger(__name__)
HOUSEKEEPING_SECONDS = 3600


async def open_queue(url: str, exchange: str, queue: str):
    """(connection, queue) bound as Rasa binds it."""
    connection = await aio_pika.connect_robust(url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=200)
    ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.FANOUT)
    q = await channel.declare_queue(queue, durable=True)
    await q.bind(ex, "")
    return connection, q


async def handle(store: Insights, message: aio_pika.abc.AbstractIncomingMessage) -> None:
    async with message.process(requeue=False, ignore_processed=True):
        try:
            event = json.loads(message.body)
        except (ValueError, UnicodeDecodeError):
            logger.warning("unreadable event dropped (%d bytes)", len(message.body))
            metrics.INSIGHTS_EVENTS.labels(outcome="unreadable").inc()
            return
        if not isinstance(event, dict):
            metrics.INSIGHTS_EVENTS.labels(outcome="unreadable").inc()
            return
        started = time.monotonic()
        await asyncio.to_thread(store.ingest, event)
        metrics.INSIGHTS_INGEST_SECONDS.observe(time.monotonic() - started)
        metrics.INSIGHTS_EVENTS.labels(outcome="stored").inc()


async def consume(
    store: Insights,
    url: str,
    exchange: str,
    queue: str,
    stop: Optional[asyncio.Event] = None,
    ready: Optional[asyncio.Event] = None,
    housekeeping_seconds: float = HOUSEKEEPING_SECONDS,
) -> None:
    """Run until ``stop`` is set: ingest every event, hourly close idle forms and purge."""
    stop = stop or asyncio.Event()
    connection, q = await open_queue(url, exchange, queue)
    logger.info("insights: reading queue %s", queue)

    # aio-pika runs callbacks concurrently; the events of a conversation must be read in order,
    # so the callback only queues them and one worker ingests them one after the other.
    pending: asyncio.Queue = asyncio.Queue()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await pending.put(message)
        metrics.INSIGHTS_PENDING.set(pending.qsize())

    async def worker() -> None:
        while True:
            message = await pending.get()
            try:
                await handle(store, message)
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the service
                logger.error("event not stored: %s", type(exc).__name__)
                metrics.INSIGHTS_EVENTS.labels(outcome="failed").inc()
            finally:
                pending.task_done()
                metrics.INSIGHTS_PENDING.set(pending.qsize())

    runner = asyncio.create_task(worker())
    try:
        tag = await q.consume(on_message)
        if ready is not None:
            ready.set()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=housekeeping_seconds)
            except asyncio.TimeoutError:
                deleted = await asyncio.to_thread(store.purge)
                logger.info("insights housekeeping: %d old facts folded into daily figures", deleted)
        await q.cancel(tag)
        await pending.join()
    finally:
        runner.cancel()
        await connection.close()


def health_app(ready: asyncio.Event) -> web.Application:
    """``GET /health`` (200 once the queue is read, else 503) and ``GET /metrics``."""

    async def health(_: web.Request) -> web.Response:
        if not ready.is_set():
            return web.json_response({"status": "starting"}, status=503)
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", health)
    metrics.aiohttp_route(app)  # GET /metrics with BA_METRICS_TOKEN
    return app


async def serve(store: Insights, url: str, exchange: str, queue: str, host: str, port: int) -> None:
    """``consume`` with its HTTP side on ``host:port``; stops on SIGTERM/SIGINT."""
    import signal

    stop, ready = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(health_app(ready), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    try:
        await consume(store, url, exchange, queue, stop=stop, ready=ready)
    finally:
        await runner.cleanup()
