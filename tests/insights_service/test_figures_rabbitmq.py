"""Issue 22: a scripted set of conversations, published through Rasa's own Pika event broker
(configured exactly as ``bot/settings.py: endpoints()`` renders it) to the shared RabbitMQ and
consumed by the insights service, produces exactly the expected figures."""

from __future__ import annotations

import asyncio
import time

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.settings import event_broker_config
from buergerassistent.insights import Insights, to_json
from insights.consumer import consume

from .conftest import AMQP_URL
from .scripted import DAY2, published_events

NOTHING_WITH_NAME = "Mein Name ist «Name», wo melde ich meinen Kanarienvogel an? «PLZ»"


class CountingStore(Insights):
    ingested = 0

    def ingest(self, event):
        try:
            return super().ingest(event)
        finally:
            self.ingested += 1


async def publish_and_consume(store: CountingStore, exchange: str, queue: str, events: list[dict]) -> None:
    stop, ready = asyncio.Event(), asyncio.Event()
    consumer = asyncio.create_task(consume(store, AMQP_URL, exchange, queue, stop=stop, ready=ready))
    await asyncio.wait_for(ready.wait(), 30)
    config = event_broker_config(AMQP_URL)["event_broker"]
    config.update(exchange_name=exchange, queues=[queue])
    broker = await EventBroker.create(EndpointConfig.from_dict(config), asyncio.get_running_loop())
    assert broker is not None and broker.is_ready()
    for event in events:
        broker.publish(event)
    deadline = time.monotonic() + 60
    while store.ingested < len(events) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await broker.close()
    stop.set()
    await consumer
    assert store.ingested == len(events)


@pytest.fixture
def figures_store(tmp_path, broker_names, monkeypatch):
    monkeypatch.setenv("INSIGHTS_EXCHANGE", broker_names[0])
    monkeypatch.setenv("INSIGHTS_QUEUE", broker_names[1])
    store = CountingStore(f"sqlite:///{tmp_path / 'insights.db'}")
    asyncio.run(publish_and_consume(store, *broker_names, published_events()))
    return store


def test_scripted_conversations_give_exact_figures(figures_store):
    figures = to_json(figures_store.figures())
    total = figures["total"]
    assert total["conversations"] == 6
    assert total["by_channel"] == {"webchat": 5, "rest": 1}
    assert total["discovery"] == {"answer": 3, "choice": 1, "none": 4}
    assert total["procedures"] == {"meldebescheinigung": 3, "hundesteuer_anmelden": 1}
    assert total["forms_started"] == {"meldebescheinigung": 3, "hundesteuer_anmelden": 1}
    assert total["forms_completed"] == {"meldebescheinigung": 2}
    assert total["forms_abandoned"] == {"meldebescheinigung": 1, "hundesteuer_anmelden": 1}
    assert total["abandoned_at"] == {"meldebescheinigung/strasse": 1, "hundesteuer_anmelden/geburtsdatum": 1}
    assert total["median_form_seconds"] == 90.0
    assert total["login"] == {"level_too_low": 1, "success": 1}
    assert total["submissions"] == {"meldebescheinigung": 2}
    assert total["submission_states"] == {"delivered": 1, "saved": 1}
    assert total["ratings"] == {"5": 1, "1": 1, "4": 1}
    assert total["satisfaction_mean"] == 3.33
    assert figures["nothing_found"] == [
        {"text": "Wie trete ich aus der Kirche aus?", "count": 3},
        {"text": NOTHING_WITH_NAME, "count": 1},
    ]
    days = figures["periods"]
    assert list(days) == ["2026-11-30", "2026-12-01", "2026-12-07"]
    assert [days[d]["conversations"] for d in days] == [3, 2, 1]
    assert days["2026-11-30"]["discovery"] == {"answer": 1, "choice": 1, "none": 3}
    assert days["2026-12-01"]["median_form_seconds"] == 60.0
    assert days["2026-11-30"]["median_form_seconds"] == 120.0
    assert days["2026-12-01"]["login"] == {"success": 1}
    weeks = to_json(figures_store.figures(period="week"))["periods"]
    assert {w: weeks[w]["conversations"] for w in weeks} == {"2026-W49": 5, "2026-W50": 1}
    rest_only = to_json(figures_store.figures(channel="rest"))["total"]
    assert rest_only["conversations"] == 1 and rest_only["discovery"]["none"] == 3
    assert [c["text"] for c in figures_store.comments()] == ["Super, danke! Gruß «Name» «Name», Tel. «Telefon»"]


def test_nothing_personal_is_stored(figures_store):
    """Names, phone numbers, postcodes and form answers never reach the insights database, and
    conversation ids only as digests."""
    import sqlite3

    path = figures_store.engine.url.database
    dump = "\n".join(sqlite3.connect(path).iterdump())
    for personal in ("Erika", "Mustermann", "Musterberg", "0171", "80331", "aaaaaaaa", "citizen-b"):
        assert personal not in dump, personal


def test_retention_keeps_the_figures(figures_store):
    """Purging folds facts older than the retention period into daily figures: the figures stay
    the same (the nothing-found texts go with the facts), the facts are deleted."""
    before = to_json(figures_store.figures())
    now = DAY2 + 91 * 86400  # day 1 and 2 are older than 90 days, the week after is not
    deleted = figures_store.purge(now=now, retention_days=90)
    assert deleted > 0
    after = to_json(figures_store.figures())
    for key in ("conversations", "discovery", "procedures", "forms_completed", "abandoned_at", "login", "ratings"):
        assert after["total"][key] == before["total"][key], key
    assert after["total"]["median_form_seconds"] == 90.0
    assert after["total"]["satisfaction_mean"] == 3.33
    assert after["nothing_found"] == [{"text": "Wie trete ich aus der Kirche aus?", "count": 1}]
    assert figures_store.comments() == []


def test_forget_conversation_everywhere(figures_store):
    """One conversation's facts are deleted on request, and its events still on the way are dropped."""
    sender = "wc-" + "a" * 32
    assert figures_store.forget_conversation(sender) > 0
    total = to_json(figures_store.figures())["total"]
    assert total["conversations"] == 5
    assert total["ratings"] == {"1": 1, "4": 1}
    late = {"sender_id": sender, "event": "user", "text": "hallo", "timestamp": DAY2, "input_channel": "webchat"}
    assert figures_store.ingest(late) == []
    assert to_json(figures_store.figures())["total"]["conversations"] == 5
