"""Consume Rasa's event broker queue (RabbitMQ, aio-pika) into the insights store.

Rasa's Pika event broker declares a fanout exchange (not durable) and binds our durable queue
to it; we declare both the same way, so either side may start first and events wait in the
queue while this service is down. A message is acknowledged after its facts are committed; an
unreadable message is dropped with a log line that names no content.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Optional

import aio_pika

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
            return
        if not isinstance(event, dict):
            return
        await asyncio.to_thread(store.ingest, event)


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

    async def worker() -> None:
        while True:
            message = await pending.get()
            try:
                await handle(store, message)
            except Exception as exc:  # noqa: BLE001 - one bad event must not stop the service
                logger.error("event not stored: %s", type(exc).__name__)
            finally:
                pending.task_done()

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
