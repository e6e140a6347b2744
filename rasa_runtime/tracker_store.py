"""Rasa's SQL tracker store, with three fixes we need in production.

Configured in endpoints as ``type: rasa_runtime.tracker_store.CachingSQLTrackerStore`` with the same keys
as Rasa's ``SQL`` type, and the same ``events`` table (so ``make review`` and Rasa's own tools
read it unchanged).

1. **Reconnects instead of hanging.** Rasa's store retries forever when the database is down at
   start-up and has no ``pool_pre_ping``, so after a database restart the first request on each
   pooled connection fails. Here start-up retries for ``BA_DB_CONNECT_TIMEOUT`` seconds (default
   60) and then stops with a clear error; pooled connections are checked before use.
2. **No full reload per message.** Rasa reads every event of the conversation, parses the JSON
   and replays it into a tracker on each message (a fifth of the Rasa process's time in our
   benchmark profile). We keep the tracker we last saved for a conversation and hand it out
   again when the database still holds exactly what we wrote: a fingerprint of the
   conversation's rows (count, highest id, latest timestamp) is compared on every retrieval.
   Another replica's write, a failed turn that changed the tracker without saving, or a
   deletion all change the fingerprint, and the tracker is read from the database as before.
   The kept tracker is never handed out itself: every ``retrieve`` gets its own copy (the fast
   copy of rasa_runtime/tracker_copy.py: the same event objects in a new list, copied slots), and
   ``save`` keeps a copy of what it wrote. So a reader that takes no conversation lock (web chat
   history, Rasa's ``GET /conversations/{id}/tracker``) sees the last saved turn, never a turn
   half applied by the processor; and a failed turn leaves the kept tracker untouched.
   The dialogue-state replay of rasa_runtime/state_replay.py goes with the copies (it checks
   the events it replayed by identity, so it stays valid), else each message would replay the
   conversation from its start.
3. **SQLite for a single machine:** write-ahead log and ``synchronous=NORMAL`` — a crashed
   process loses nothing; only a power cut may lose the last turns. (PostgreSQL is the
   production choice; see README.)
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, create_engine_kwargs, validate_port
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from buergerassistent.settings import get_settings
from buergerassistent.storage import create_tables, private_sqlite_file

logger = logging.getLogger(__name__)

Fingerprint = tuple[int, Optional[int], Optional[float]]


_FINGERPRINT = sa.text("SELECT count(id), max(id), max(timestamp) FROM events WHERE sender_id = :sender_id")
_LAST_ID = sa.text("SELECT max(id) FROM events WHERE sender_id = :sender_id")


@dataclass
class _Entry:
    tracker: DialogueStateTracker  # a private copy: never handed out, never changed
    stored_events: int  # len(tracker.events) right after our save
    fingerprint: Fingerprint  # the conversation's rows right after our save


# Memos our Rasa fixes keep on a tracker that stay valid on a copy (they check the events).
_CARRIED_MEMOS = ("_ba_state_replays", "_ba_applied")


def copy_for_caller(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A copy of ``tracker`` nobody else holds: the fast copy while the "tracker_copy" fix is on,
    else Rasa's own ``copy`` (which replays the events)."""
    from rasa_runtime.patches import is_enabled
    from rasa_runtime.tracker_copy import copy_tracker

    new = copy_tracker(tracker) if is_enabled("tracker_copy") else tracker.copy()
    for name in _CARRIED_MEMOS:
        if name in tracker.__dict__:
            new.__dict__[name] = tracker.__dict__[name]
    return new


def _extends(tracker: DialogueStateTracker, kept: DialogueStateTracker, count: int) -> bool:
    """``tracker``'s first ``count`` events are the kept tracker's (the same objects): it is a
    copy we handed out, with events added since."""
    if len(tracker.events) < count or len(kept.events) != count:
        return False
    return all(a is b for a, b in zip(itertools.islice(tracker.events, count), kept.events, strict=False))


class TrackerCache:
    """Last saved tracker per conversation, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def get(self, sender_id: str) -> Optional[_Entry]:
        entry = self._entries.get(sender_id)
        if entry is not None:
            self._entries.move_to_end(sender_id)
        return entry

    def put(self, sender_id: str, entry: _Entry) -> None:
        if self.size <= 0:
            return
        self._entries[sender_id] = entry
        self._entries.move_to_end(sender_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def discard(self, sender_id: str) -> None:
        self._entries.pop(sender_id, None)

    def __len__(self) -> int:
        return len(self._entries)


def _enable_sqlite_wal(engine: sa.engine.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API connection
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


class CachingSQLTrackerStore(SQLTrackerStore):
    """See the module docstring."""

    def __init__(
        self,
        domain=None,  # noqa: ANN001 - Rasa passes its Domain
        dialect: str = "sqlite",
        host: Optional[str] = None,
        port: Optional[int] = None,
        db: str = "rasa.db",
        username: Optional[str] = None,
        password: Optional[str] = None,
        event_broker=None,  # noqa: ANN001
        login_db: Optional[str] = None,
        query: Optional[dict] = None,
        cache_size: Optional[int] = None,
        connect_timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        url = self.get_db_url(dialect, host, validate_port(port), db, username, password, login_db, query)
        if sa.engine.make_url(url).get_backend_name() == "sqlite":
            # The conversations are personal data: the file is the service user's only.
            private_sqlite_file(url)
            # SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool); keep one per
            # thread instead (the store runs on the event loop's thread). A QueuePool's checkout
            # cost 6 % of the Rasa process's time.
            self.engine = sa.create_engine(
                url,
                future=True,
                poolclass=sa.pool.SingletonThreadPool,
                pool_size=16,
                connect_args={"check_same_thread": False},
            )
            _enable_sqlite_wal(self.engine)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True, future=True, **create_engine_kwargs(url))
        timeout = connect_timeout if connect_timeout is not None else float(get_settings().ba_db_connect_timeout)
        self._connect(timeout, login_db, db, url)
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine, future=True)
        size = cache_size if cache_size is not None else int(get_settings().ba_tracker_cache_size)
        self.cache = TrackerCache(size)
        self._insert_statement = sa.insert(self.SQLEvent.__table__)
        TrackerStore.__init__(self, domain, event_broker, **kwargs)

    def _connect(self, timeout: float, login_db: Optional[str], db: str, url: Any) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if login_db:
                    self._create_database_and_update_engine(db, url)
                create_tables(self.Base.metadata, self.engine)
                return
            except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as error:
                # The database may not be up yet (or CREATE DATABASE raced); tables: create_tables.
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"Tracker store database not reachable after {timeout:.0f} s "
                        f"({self.engine.url.render_as_string(hide_password=True)}): {error.orig}"
                    ) from error
                logger.warning("Tracker store database not reachable yet, retrying: %s", error.orig)
                time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))

    def _fingerprint(self, session: sa.orm.Session, sender_id: str) -> Fingerprint:
        # Plain SQL: building the same ORM query each time cost more than running it.
        row = session.execute(_FINGERPRINT, {"sender_id": sender_id}).one()
        return int(row[0]), row[1], row[2]

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        entry = self.cache.get(sender_id)
        if entry is not None:
            with self.session_scope() as session:
                fingerprint = self._fingerprint(session, sender_id)
            if fingerprint == entry.fingerprint and len(entry.tracker.events) == entry.stored_events:
                return copy_for_caller(entry.tracker)
            self.cache.discard(sender_id)
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        entry = self.cache.get(sender_id)
        # The entry's fingerprint was checked when a copy of it was handed out (or written by us
        # since), and the lock store keeps other turns of this conversation out until we return.
        known = entry if entry is not None and _extends(tracker, entry.tracker, entry.stored_events) else None
        with self.session_scope() as session:
            if known is not None:
                stored = known.stored_events
            else:
                stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            rows = [self._row(sender_id, event) for event in itertools.islice(tracker.events, stored, None)]
            last_id = self._insert(session, sender_id, rows)
            if known is None:
                fingerprint = self._fingerprint(session, sender_id)
            elif rows:
                count, _, latest = known.fingerprint
                timestamps = [t for t in (latest, *(r["timestamp"] for r in rows)) if t is not None]
                fingerprint = (count + len(rows), last_id, max(timestamps, default=None))
            else:
                fingerprint = known.fingerprint
            session.commit()
        if stored and any(row["type_name"] == SessionStarted.type_name for row in rows):
            # A new session began in this object, which still holds the old one; read from the
            # database, Rasa hands out the new session only. Keep it that way.
            self.cache.discard(sender_id)
        else:
            kept = copy_for_caller(tracker)
            self.cache.put(sender_id, _Entry(kept, len(kept.events), fingerprint))

    def _insert(self, session: sa.orm.Session, sender_id: str, rows: list[dict]) -> Optional[int]:
        """Insert the rows with one prepared statement (the ORM's unit of work, or a multi-row
        INSERT compiled anew for each number of rows, cost more than the insert itself); returns
        the conversation's highest id."""
        if not rows:
            return None
        session.execute(self._insert_statement, rows)
        # Inside our transaction. Should another writer have added rows meanwhile (no shared
        # lock store), the count in our fingerprint misses them and the cache is not used.
        return session.execute(_LAST_ID, {"sender_id": sender_id}).scalar_one()

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


def delete_events(store: SQLTrackerStore, sender_id: str) -> None:
    """Remove a conversation from an SQL tracker store, ours or Rasa's: its rows and, in ours,
    the tracker kept in memory (personal data must not outlive a deletion request)."""
    if isinstance(store, CachingSQLTrackerStore):
        store.cache.discard(sender_id)
    with store.session_scope() as session:
        session.execute(sa.delete(store.SQLEvent.__table__).where(store.SQLEvent.sender_id == sender_id))
        session.commit()
