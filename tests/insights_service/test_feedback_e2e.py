"""Issue 22 end to end: the real stack with Rasa's event broker pointed at a unique exchange and
queue on the shared RabbitMQ; a citizen chats over REST, rates the chat and comments; the insights
service consumes what Rasa published and the figures say exactly what happened, masked."""

from __future__ import annotations

import asyncio
import time

import pytest
from support.chat import RestChat
from support.stacks import running_stack

from actions.feedback import BUTTONS, QUESTION, THANKS_FOR_COMMENT, THANKS_FOR_RATING
from buergerassistent.insights import Insights, to_json
from insights.consumer import consume

from .conftest import AMQP_URL

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def broker_stack(tmp_path_factory):
    from .conftest import rabbitmq_running

    if not rabbitmq_running():
        pytest.fail("RabbitMQ läuft nicht auf 127.0.0.1:5672")
    import secrets

    name = f"test-insights-e2e-{secrets.token_hex(4)}"
    env = {"INSIGHTS_BROKER_URL": AMQP_URL, "INSIGHTS_EXCHANGE": name, "INSIGHTS_QUEUE": name}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        with running_stack(tmp_path_factory.mktemp("insights-stack"), env=env) as stack:
            yield stack, name
    import aio_pika

    async def cleanup():
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(name)
            await channel.exchange_delete(name)

    asyncio.run(cleanup())


async def drain(store: Insights, name: str, quiet_seconds: float = 3.0) -> None:
    """Consume until no event arrived for ``quiet_seconds``."""
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(consume(store, AMQP_URL, name, name, stop=stop, ready=ready))
    await asyncio.wait_for(ready.wait(), 30)
    seen, last_change = -1, time.monotonic()
    while time.monotonic() - last_change < quiet_seconds:
        await asyncio.sleep(0.2)
        if store.count_events != seen:
            seen, last_change = store.count_events, time.monotonic()
    stop.set()
    await task


OUTSIDE = "Wie kündige ich meine Mitgliedschaft im Fitnessstudio?"


class CountingStore(Insights):
    count_events = 0

    def ingest(self, event):
        self.count_events += 1
        return super().ingest(event)


def test_feedback_and_figures_through_rabbitmq(broker_stack, tmp_path):
    stack, name = broker_stack
    chat = RestChat(stack.settings, sender="insights-e2e")
    assert "Meldebescheinigung" in chat.say_text("Ich brauche eine Meldebescheinigung")
    chat.say_text("Nein")
    thanks = chat.say("Danke")
    asked = [m for m in thanks if m.get("text") == QUESTION]
    assert asked and [b["title"] for b in asked[0]["buttons"]] == [b["title"] for b in BUTTONS]
    rated = chat.say_text(asked[0]["buttons"][0]["payload"])  # "Ja, hat geholfen" = 5
    assert THANKS_FOR_RATING in rated and "was gut war" in rated
    assert THANKS_FOR_COMMENT in chat.say_text("Sehr hilfreich! Grüße von Erika Mustermann, Heidestraße 17")
    # Outside the catalogue (church exit has an information entry since issue 16's fourth round):
    # the honest answer with 115, no procedure offered.
    nothing = chat.say_text(OUTSIDE)
    assert "115" in nothing and "Meinen Sie" not in nothing
    again = chat.say_text("Danke")
    assert QUESTION not in again  # asked once per session

    store = CountingStore(f"sqlite:///{tmp_path / 'insights.db'}")
    asyncio.run(drain(store, name))
    figures = to_json(store.figures(since="2000-01-01"))
    total = figures["total"]
    assert total["conversations"] == 1
    assert total["by_channel"] == {"rest": 1}
    assert total["discovery"] == {"answer": 1, "choice": 0, "none": 1}
    assert total["procedures"] == {"meldebescheinigung": 1}
    assert total["ratings"] == {"5": 1}
    assert figures["nothing_found"] == [{"text": OUTSIDE, "count": 1}]
    assert [c["text"] for c in store.comments(since="2000-01-01")] == ["Sehr hilfreich! Grüße von «Name», «Adresse»"]
