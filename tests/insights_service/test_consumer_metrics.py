"""The insights consumer's /health and /metrics (issue 18): ``python -m insights consume`` as a
real process on the shared RabbitMQ; Rasa's events published through Rasa's own Pika broker;
/metrics answers only with ``BA_METRICS_TOKEN`` and counts what was stored and what was dropped."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aio_pika

from bot.stack import free_port

from .conftest import AMQP_URL
from .scripted import published_events

ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_urlsafe(24)


def get(port: int, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""


def value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def publish(exchange: str, bodies: list[bytes]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.FANOUT)
        for body in bodies:
            await ex.publish(aio_pika.Message(body=body), routing_key="")


def test_the_consumer_serves_health_and_metrics_with_the_token(tmp_path, broker_names):
    exchange, queue = broker_names
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "BA_VAR_DIR": str(tmp_path / "var"),
        "INSIGHTS_BROKER_URL": AMQP_URL,
        "INSIGHTS_EXCHANGE": exchange,
        "INSIGHTS_QUEUE": queue,
        "INSIGHTS_DATABASE_URL": f"sqlite:///{tmp_path / 'insights.db'}",
        "BA_METRICS_TOKEN": TOKEN,
    }
    log = tmp_path / "consumer.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "insights", "consume", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while get(port, "/health")[0] != 200:
            assert process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        assert get(port, "/metrics")[0] == 401
        assert get(port, "/metrics", "falsch")[0] == 401

        events = published_events()
        bodies = [json.dumps(event).encode() for event in events] + [b"not json", b"[1, 2]"]
        asyncio.run(publish(exchange, bodies))
        deadline = time.monotonic() + 60
        while True:
            status, text = get(port, "/metrics", TOKEN)
            stored = value(text, 'ba_insights_events_total{outcome="stored"}')
            if stored >= len(events) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200
        assert stored == len(events), text[-2000:]
        assert value(text, 'ba_insights_events_total{outcome="unreadable"}') == 2
        assert value(text, "ba_insights_ingest_seconds_count") == len(events)
        assert value(text, "ba_insights_pending") == 0
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode == 0, log.read_text()[-2000:]
