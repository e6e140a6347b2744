"""The caching SQL tracker store (rasa_runtime/tracker_store.py) on SQLite and, when DATABASE_URL is set as
in CI, on PostgreSQL: it returns what is in the database, whoever wrote it; it hands out its own
tracker again (a copy of it for each caller) only while the database still holds exactly what it
wrote; a reader never sees a turn half applied; it reconnects after
the database dropped its connections; and it gives up with a clear error when the database is
down at start-up instead of retrying forever."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url
from support.databases import postgres_schema

from rasa_runtime.tracker_store import CachingSQLTrackerStore, delete_events

DOMAIN = Domain.from_dict({"intents": ["greet"], "slots": {"plz": {"type": "text", "mappings": []}}})


def _store_kwargs(url) -> dict:
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": url.database}
    return {
        "dialect": url.drivername,
        "host": url.host,
        "port": url.port,
        "db": url.database,
        "username": url.username,
        "password": url.password,
        "query": dict(url.query),
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def store_kwargs(request, tmp_path):
    if request.param == "sqlite":
        yield _store_kwargs(f"sqlite:///{tmp_path / 'tracker.db'}")
        return
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL variant skipped: DATABASE_URL is not set")
    with postgres_schema(make_url(url), "tracker") as schema_url:
        yield _store_kwargs(schema_url)


def turn(tracker: DialogueStateTracker, text: str, answer: str) -> None:
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("plz", text))
    tracker.update(BotUttered(answer))
    tracker.update(ActionExecuted("action_listen"))


async def saved_conversation(store, sender_id: str) -> DialogueStateTracker:
    """A conversation with one turn, saved through ``store``."""
    tracker = DialogueStateTracker(sender_id, DOMAIN.slots)
    turn(tracker, "80331", "Danke.")
    await store.save(tracker)
    return tracker


def texts(tracker) -> list[str]:
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


async def test_saved_tracker_comes_back_and_rasa_reads_the_same_rows(store_kwargs):
    store = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    tracker = await saved_conversation(store, "erika")

    again = await store.retrieve("erika")
    # served from the cache (the database still holds what we wrote): the same event objects,
    # not parsed again; but in a tracker of its own, which no other caller holds
    assert again is not tracker and list(again.events) == list(tracker.events)
    assert all(a is b for a, b in zip(again.events, tracker.events, strict=False))
    assert again is not await store.retrieve("erika")
    turn(again, "80333", "Geändert.")
    await store.save(again)

    # Rasa's own SQL store, reading the same table, sees every event once and in order.
    rasa_store = SQLTrackerStore(DOMAIN, **store_kwargs)
    from_rasa = await rasa_store.retrieve("erika")
    assert texts(from_rasa) == ["80331", "Danke.", "80333", "Geändert."]
    assert from_rasa.get_slot("plz") == "80333"
    assert await store.retrieve("nobody") is None


async def test_another_replica_writing_invalidates_the_cache(store_kwargs):
    ours = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    other = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    tracker = await saved_conversation(ours, "max")

    theirs = await other.retrieve("max")
    assert theirs is not tracker
    turn(theirs, "80999", "Von der anderen Instanz.")
    await other.save(theirs)

    fresh = await ours.retrieve("max")
    assert fresh is not tracker
    assert texts(fresh) == ["80331", "Danke.", "80999", "Von der anderen Instanz."]
    turn(fresh, "80335", "Weiter hier.")
    await ours.save(fresh)
    assert texts(await other.retrieve("max"))[-2:] == ["80335", "Weiter hier."]


async def test_a_reader_never_sees_a_half_applied_turn(store_kwargs):
    """The processor applies a turn event by event (yielding to the event loop in between, as
    it does while it waits for the action server) to the tracker it retrieved; a reader without
    the conversation lock (web chat history, GET /conversations/{id}/tracker) retrieves the
    conversation over and over meanwhile, and reads what it got only after yielding too (as an
    HTTP handler that serialises it later). It sees the turn before or after, never in between."""
    import asyncio

    store = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    await saved_conversation(store, "parallel")
    before = (["80331", "Danke."], "80331")
    after = (["80331", "Danke.", "80333", "Erst halb.", "Ganz."], "80333")
    seen: list = []
    done = asyncio.Event()

    async def processor() -> None:
        tracker = await store.retrieve("parallel")
        for event in (
            UserUttered("80333", {"name": "greet", "confidence": 1.0}),
            SlotSet("plz", "80333"),
            BotUttered("Erst halb."),
            ActionExecuted("utter_x"),
            BotUttered("Ganz."),
            ActionExecuted("action_listen"),
        ):
            tracker.update(event)
            await asyncio.sleep(0.001)
        await store.save(tracker)
        done.set()

    async def reader() -> None:
        while True:
            finished = done.is_set()
            tracker = await store.retrieve("parallel")
            await asyncio.sleep(0)
            seen.append((texts(tracker), tracker.get_slot("plz")))
            if finished:
                return

    await asyncio.gather(reader(), processor())
    assert len(seen) > 5 and seen[0] == before and seen[-1] == after
    assert all(view in (before, after) for view in seen), [v for v in seen if v not in (before, after)]


async def test_a_reader_changing_its_copy_changes_nothing_kept(store_kwargs):
    store = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    await saved_conversation(store, "kopie")
    mine = await store.retrieve("kopie")
    mine.update(SlotSet("plz", "99999"))
    mine.update(BotUttered("Nur in meiner Kopie."))
    again = await store.retrieve("kopie")
    assert texts(again) == ["80331", "Danke."] and again.get_slot("plz") == "80331"


async def test_a_turn_that_failed_before_saving_is_not_served(store_kwargs):
    store = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    tracker = await saved_conversation(store, "anna")
    turn(tracker, "ungespeichert", "Nie gespeichert.")  # the turn crashed before save()

    fresh = await store.retrieve("anna")
    assert fresh is not tracker
    assert texts(fresh) == ["80331", "Danke."]


async def test_delete_removes_rows_and_the_kept_tracker(store_kwargs):
    store = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    await saved_conversation(store, "weg")
    delete_events(store, "weg")
    assert len(store.cache) == 0
    assert await store.retrieve("weg") is None


async def test_deleted_conversation_is_gone(store_kwargs):
    store = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    await saved_conversation(store, "loeschen")
    with store.engine.begin() as conn:  # e.g. a deletion request handled by another process
        conn.execute(sa.text("DELETE FROM events WHERE sender_id = 'loeschen'"))
    assert await store.retrieve("loeschen") is None


async def test_a_new_session_is_read_as_rasa_reads_it(store_kwargs):
    store = CachingSQLTrackerStore(DOMAIN, **store_kwargs)
    tracker = DialogueStateTracker("sitzung", DOMAIN.slots)
    turn(tracker, "80331", "Alte Sitzung.")
    await store.save(tracker)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, "80333", "Neue Sitzung.")
    await store.save(tracker)

    fresh = await store.retrieve("sitzung")
    assert fresh is not tracker
    assert texts(fresh) == ["80333", "Neue Sitzung."]
    assert texts(fresh) == texts(await SQLTrackerStore(DOMAIN, **store_kwargs).retrieve("sitzung"))


async def test_cache_holds_at_most_its_size(store_kwargs):
    store = CachingSQLTrackerStore(DOMAIN, cache_size=2, **store_kwargs)
    for name in ("a", "b", "c"):
        await saved_conversation(store, name)
    assert len(store.cache) == 2
    assert texts(await store.retrieve("a")) == ["80331", "Danke."]  # from the database


async def test_reconnects_after_postgresql_dropped_its_connections():
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.skip("needs PostgreSQL: DATABASE_URL is not set")
    with postgres_schema(make_url(url), "tracker") as schema_url:
        name = f"ba-test-{uuid.uuid4().hex[:8]}"
        store = CachingSQLTrackerStore(
            DOMAIN, **_store_kwargs(schema_url.update_query_dict({"application_name": name}))
        )
        tracker = DialogueStateTracker("neustart", DOMAIN.slots)
        turn(tracker, "80331", "Danke.")
        await store.save(tracker)
        # What a database restart does to the pool: every connection of ours is closed.
        admin = sa.create_engine(make_url(url), future=True)
        with admin.begin() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": name},
            )
        admin.dispose()
        assert texts(await store.retrieve("neustart")) == ["80331", "Danke."]


def test_database_down_at_start_gives_up_with_a_clear_error():
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="not reachable after 1 s"):
        CachingSQLTrackerStore(
            DOMAIN, dialect="postgresql", host="127.0.0.1", port=1, db="x", username="x", connect_timeout=1
        )
    assert time.monotonic() - started < 10
