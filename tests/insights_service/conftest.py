"""Fixtures of the insights tests: a uniquely named exchange and queue on the shared RabbitMQ
(127.0.0.1:5672, guest/guest; ``INSIGHTS_TEST_AMQP_URL`` elsewhere is not read: the tests use
the same default as the CI machine), deleted afterwards, and a private SQLite store."""

from __future__ import annotations

import asyncio
import secrets
import socket

import pytest

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def rabbitmq_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def broker_names():
    """(exchange, queue) unique to this test; removed from RabbitMQ afterwards."""
    if not rabbitmq_running():
        pytest.fail("RabbitMQ läuft nicht auf 127.0.0.1:5672 (make test braucht ihn: .ci/apt-packages.txt)")
    suffix = secrets.token_hex(4)
    names = (f"test-insights-{suffix}", f"test-insights-{suffix}")
    yield names

    async def cleanup():
        import aio_pika

        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(names[1])
            await channel.exchange_delete(names[0])

    asyncio.run(cleanup())


@pytest.fixture
def store(tmp_path):
    from buergerassistent.insights import Insights

    return Insights(f"sqlite:///{tmp_path / 'insights.db'}")
