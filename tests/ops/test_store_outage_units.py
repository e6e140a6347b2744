"""Store outages inside one Rasa process's parts, against a real PostgreSQL and a real Redis that
this test starts and stops (tests/support/services.py): the tracker store never answers from an
empty tracker and never keeps a turn only in memory; the lock store says the store is down; the
message handler turns both into the German notice and drops replies of a turn that was not saved.
The whole chat through the REST channel: tests/ops/test_store_outages.py."""

from __future__ import annotations

import time

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url
from support import services

from rasa_runtime import outage
from rasa_runtime.lock_store import RedisLockStore
from rasa_runtime.tracker_store import CachingSQLTrackerStore

pytestmark = pytest.mark.skipif(services.missing() is not None, reason=services.missing() or "")

DOMAIN = Domain.from_dict({"intents": ["inform"], "slots": {"geburtsdatum": {"type": "text", "mappings": []}}})


@pytest.fixture(scope="module")
def postgres():
    server = services.PrivatePostgres().init()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture()
def redis_server():
    server = services.PrivateRedis().start()
    try:
        yield server
    finally:
        server.close()


def answer(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
    tracker.update(SlotSet("geburtsdatum", text))
    tracker.update(BotUttered("Wie lautet Ihre Straße?"))
    tracker.update(ActionExecuted("action_listen"))


def failsafe_store(url: str) -> FailSafeTrackerStore:
    parts = make_url(url)
    store = CachingSQLTrackerStore(
        DOMAIN,
        dialect="postgresql",
        host=parts.host,
        port=parts.port,
        db=parts.database,
        username=parts.username,
        password=parts.password,
        connect_timeout=10,
    )
    return FailSafeTrackerStore(store)  # as Rasa's Agent wraps every tracker store


@pytest.fixture()
def installed(monkeypatch):
    """outage.install() for this test only (monkeypatch restores Rasa's classes afterwards)."""
    from rasa.core.agent import Agent

    for name in ("on_tracker_store_error", "on_tracker_store_retrieve_error"):
        monkeypatch.setattr(FailSafeTrackerStore, name, getattr(FailSafeTrackerStore, name))
    monkeypatch.setattr(Agent, "handle_message", Agent.handle_message)
    outage.install()


async def test_tracker_store_down_raises_instead_of_an_empty_tracker_and_loses_nothing(postgres, installed):
    store = failsafe_store(postgres.url)
    tracker = DialogueStateTracker("erika-outage", DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)

    postgres.stop()
    try:
        # Rasa's own behaviour here: None (an empty conversation) and a save into memory.
        with pytest.raises(outage.StoreUnavailable) as raised:
            await store.retrieve("erika-outage")
        assert raised.value.store == outage.TRACKER_STORE
        answered = DialogueStateTracker("erika-outage", DOMAIN.slots)
        answer(answered, "12.08.1964")
        with pytest.raises(outage.StoreUnavailable):
            await store.save(answered)
        assert store._fallback_tracker_store is None  # nothing was kept only in memory
    finally:
        postgres.start()

    again = await store.retrieve("erika-outage")
    assert again is not None and again.get_slot("geburtsdatum") is None  # the field is still open
    answer(again, "12.08.1964")
    await store.save(again)
    stored = await failsafe_store(postgres.url).retrieve("erika-outage")
    texts = [e.text for e in stored.events if isinstance(e, UserUttered)]
    assert texts == ["12.08.1964"] and stored.get_slot("geburtsdatum") == "12.08.1964"


def lock_store(server: services.PrivateRedis) -> RedisLockStore:
    return RedisLockStore(host="127.0.0.1", port=server.port, password=server.password, key_prefix="test")


async def test_lock_store_down_is_reported_and_a_lost_release_is_not(redis_server):
    store = lock_store(redis_server)
    async with store.lock("erika"):
        pass
    redis_server.stop()
    with pytest.raises(outage.StoreUnavailable) as raised:
        async with store.lock("erika"):
            pytest.fail("no lock without Redis")
    assert raised.value.store == outage.LOCK_STORE
    redis_server.start()
    store = lock_store(redis_server)
    # Redis goes away while the turn runs: the turn is complete, releasing is not worth an error.
    async with store.lock("erika"):
        redis_server.stop()
    redis_server.start()
    async with store.lock("erika") as lock:
        assert lock.conversation_id == "erika"


async def test_handler_answers_the_notice_and_drops_replies_of_the_unsaved_turn():
    async def failing(_agent, message):
        await message.output_channel.send_text_message(message.sender_id, "Wie lautet Ihre Straße?")
        raise outage.StoreUnavailable(outage.TRACKER_STORE)

    collector = CollectingOutputChannel()
    message = UserMessage("12.08.1964", collector, "erika", input_channel="rest")
    assert await outage._wrap_handle_message(failing)(None, message) is None
    assert [m["text"] for m in collector.messages] == [outage.OUTAGE_TEXT]

    async def broken(_agent, _message):
        raise ValueError("kein Ausfall eines Speichers")

    with pytest.raises(ValueError):  # other errors stay errors
        await outage._wrap_handle_message(broken)(None, message)


async def test_web_chat_rate_limit_counts_in_the_process_while_redis_is_down(redis_server):
    """rasa_runtime/channels/webchat/limits.py: no message refused or lost because Redis is down,
    and the limit still holds (counted in this process) until Redis is back."""
    import redis.asyncio as aioredis

    from rasa_runtime.channels.webchat.limits import RateLimiter

    client = aioredis.from_url(redis_server.url, socket_timeout=3, socket_connect_timeout=3)
    limiter = RateLimiter(3, 60, redis=client)
    assert await limiter.allow("wc-erika")
    assert await client.zcard("webchat:rate:wc-erika") == 1  # counted in Redis
    redis_server.stop()
    try:
        assert [await limiter.allow("wc-erika") for _ in range(4)] == [True, True, True, False]
    finally:
        redis_server.start()
    assert await limiter.allow("wc-max")  # Redis again: counted there
    assert await client.zcard("webchat:rate:wc-max") == 1
    await client.close()


async def test_web_chat_revocation_holds_while_redis_is_down(redis_server, postgres):
    """rasa_runtime/channels/webchat/sessions.py: a conversation revoked by another replica is not
    resumed while Redis is down (the table is asked), and one that is not revoked still is."""
    import redis.asyncio as aioredis

    from buergerassistent.privacy import RevocationStore
    from rasa_runtime.channels.webchat.sessions import SessionIssuer

    client = aioredis.from_url(redis_server.url, socket_timeout=3, socket_connect_timeout=3)
    store = RevocationStore(postgres.url)
    here = SessionIssuer(3600, client, store)
    deleted, kept = here.new(), here.new()
    # Another replica deletes the chat (it writes the table and Redis; this one has it in neither memory).
    await SessionIssuer(3600, client, store).revoke(deleted.conversation_id)
    redis_server.stop()
    try:
        assert await here.is_revoked(deleted.conversation_id)
        assert await here.resume(deleted.token) is None
        assert (await here.resume(kept.token)).conversation_id == kept.conversation_id
        await here.revoke(kept.conversation_id)  # a deletion while Redis is down still counts
    finally:
        redis_server.start()
    assert await SessionIssuer(3600, client, store).is_revoked(kept.conversation_id)
    await client.close()


# A Redis that hangs (SIGSTOP) instead of refusing: every channel's client must give up (3 s)
# instead of holding the citizen's message. The guard below only catches a hang; it is no figure.
HANG = 30


@pytest.fixture()
def paused_redis(redis_server):
    redis_server.pause()
    try:
        yield redis_server
    finally:
        redis_server.resume()


async def test_rest_channel_rate_limit_does_not_hang_on_a_paused_redis(paused_redis):
    import asyncio

    from rasa_runtime.channels.rest.channel import RestChannel
    from rasa_runtime.channels.webchat.settings import WebChatSettings

    channel = RestChannel(token="t", settings=WebChatSettings(redis_url=paused_redis.url))
    # Counted in the process: the message goes on (to Rasa, whose lock store answers the notice).
    assert await asyncio.wait_for(channel.limiter.allow("rest-erika"), HANG)


async def test_messenger_limits_do_not_hang_on_a_paused_redis(paused_redis):
    import asyncio

    from rasa_runtime.channels.messenger import Limits
    from rasa_runtime.channels.webchat.settings import WebChatSettings

    limits = Limits(WebChatSettings(redis_url=paused_redis.url))
    assert await asyncio.wait_for(limits.check("telegram-1", "Hallo", newcomer=True), HANG) is None


async def test_web_chat_fan_out_does_not_hang_on_a_paused_redis(paused_redis):
    """rasa_runtime/channels/webchat/fanout.py: publishing to other replicas gives up, and the
    next emits of the same turn skip Redis instead of waiting again."""
    import asyncio

    from rasa_runtime.channels.webchat.fanout import BoundedRedisManager

    manager = BoundedRedisManager(paused_redis.url, "test-fanout")
    message = {"method": "emit", "event": "bot_uttered", "data": [{"text": "x"}], "room": "wc-erika"}
    await asyncio.wait_for(manager._publish(message), HANG)
    assert manager.guard.skip()
    publisher, manager._publisher = manager._publisher, Untouched()
    await asyncio.wait_for(manager._publish(message), HANG)  # skipped: Untouched is not called
    manager._publisher = publisher
    paused_redis.resume()
    manager.guard._timed_out_at -= 60  # the pause is over: the next emit tries Redis again
    await manager._publish(message)
    assert not manager.guard.skip() and manager.guard._timed_out_at is None


class Untouched:
    """A Redis client that must not be asked."""

    def __getattr__(self, name):
        pytest.fail(f"Redis asked ({name}) although the guard said to skip it")


async def test_web_chat_parts_share_one_guard_on_a_paused_redis(paused_redis, postgres):
    """After the revocation check timed out, the rate limit of the same message does not wait for
    Redis again (rasa_runtime/channels/redis_guard.py); the table still answers revocations."""
    import asyncio

    from buergerassistent.privacy import RevocationStore
    from rasa_runtime.channels.redis_guard import RedisGuard
    from rasa_runtime.channels.webchat.limits import RateLimiter
    from rasa_runtime.channels.webchat.sessions import SessionIssuer
    from rasa_runtime.channels.webchat.settings import WebChatSettings

    client = WebChatSettings(redis_url=paused_redis.url).redis_client()
    guard = RedisGuard()
    store = RevocationStore(postgres.url)
    sessions = SessionIssuer(3600, client, store, guard=guard)
    deleted = sessions.new()
    store.revoke(deleted.conversation_id, time.time() + 3600)  # by another replica, not in memory here
    assert await asyncio.wait_for(sessions.is_revoked(deleted.conversation_id), HANG)
    assert guard.skip()
    limiter = RateLimiter(3, 60, redis=Untouched(), guard=guard)
    assert await limiter.allow("wc-erika")  # counted in the process, Redis not asked
    assert await sessions.is_revoked(deleted.conversation_id)  # the table, Redis not asked again


def test_only_a_timeout_pauses_redis():
    """A refused connection fails at once: no reason to skip Redis afterwards."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    from rasa_runtime.channels.redis_guard import RedisGuard

    now = [100.0]
    guard = RedisGuard(retry_after=5, clock=lambda: now[0])
    guard.failed(RedisConnectionError())
    assert not guard.skip()
    guard.failed(RedisTimeout())
    assert guard.skip()
    now[0] += 5
    assert not guard.skip()  # one call tries again
    guard.failed(RedisTimeout())
    guard.answered()
    assert not guard.skip()


async def test_lock_store_on_a_paused_redis_keeps_the_event_loop_free(paused_redis):
    """Rasa's lock store client is synchronous: waiting on the event loop's thread stopped every
    other conversation, socket and health check of the process for the whole timeout. Now the
    loop goes on while it waits, the message gets the notice, and the next message within the
    pause gets it without waiting for Redis again."""
    import asyncio

    store = lock_store(paused_redis)
    ticks = 0

    async def other_work():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(other_work())
    try:
        with pytest.raises(outage.StoreUnavailable):
            async with store.lock("erika"):
                pytest.fail("no lock without Redis")
    finally:
        ticker.cancel()
    assert ticks > 10  # the loop ran while the lock store waited for Redis
    store.red = Untouched()
    with pytest.raises(outage.StoreUnavailable):
        async with store.lock("erika"):
            pytest.fail("no lock without Redis")


async def test_lock_store_turns_of_one_conversation_follow_each_other(redis_server):
    """A citizen's next message often arrives while the last turn releases its lock. Rasa's lock
    store reads, changes and writes the lock; run in threads without order, a release and a new
    ticket overwrote each other and the next turn waited for the lock's lifetime (60 s)."""
    import asyncio

    store = lock_store(redis_server)
    served = []

    async def turn(n):
        async with store.lock("erika", lock_lifetime=60, wait_time_in_seconds=0.01):
            served.append(n)
            await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(*(turn(n) for n in range(30))), HANG)
    assert sorted(served) == list(range(30))
