"""The connector's own small table: which room is which conversation, and the options the
assistant offered last in each room (so "2" still means the second option after a restart).

The options' event (the assistant's message that listed them) is kept with them: a reaction
answers only that message (``reactions.py``).

One room is one conversation: ``mx-<room key>``, the key an HMAC of the room id (the Matrix id
itself never becomes the conversation id).

Each message reads the options and usually writes new ones, on the connector's event loop: the
table is cached in memory (written through, and only when something changed), and commits do
not wait for the disk (WAL with ``synchronous=NORMAL``: a crash of the machine may lose the last
options, never corrupt the file). A commit with ``fsync`` took 4 ms here and blocked every
conversation meanwhile."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
from pathlib import Path
from typing import Optional

from buergerassistent.messenger_format import Option


class RoomStore:
    def __init__(self, path: Path, key: bytes):
        self.key = key
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # room id -> room key / options as stored (JSON); filled on first use.
        self._keys: dict[str, str] = {}
        self._options: dict[str, tuple[str, str]] = {}  # room id -> (options JSON, their event id)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS matrix_rooms (room_key TEXT PRIMARY KEY, room_id TEXT UNIQUE NOT NULL,"
            " options TEXT NOT NULL DEFAULT '[]', options_event TEXT NOT NULL DEFAULT '')"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(matrix_rooms)")}
        if "options_event" not in columns:  # a store from before reactions
            self._db.execute("ALTER TABLE matrix_rooms ADD COLUMN options_event TEXT NOT NULL DEFAULT ''")

    def room_key(self, room_id: str) -> str:
        key = self._keys.get(room_id)
        if key is not None:
            return key
        key = hmac.new(self.key, room_id.encode(), hashlib.sha256).hexdigest()[:32]
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO matrix_rooms (room_key, room_id) VALUES (?, ?)", (key, room_id))
            self._keys[room_id] = key
        return key

    def known(self, room_id: str) -> bool:
        if room_id in self._keys:
            return True
        with self._lock:
            row = self._db.execute("SELECT room_key FROM matrix_rooms WHERE room_id = ?", (room_id,)).fetchone()
            if row is not None:
                self._keys[room_id] = row[0]
        return row is not None

    def room_id(self, room_key: str) -> Optional[str]:
        with self._lock:
            row = self._db.execute("SELECT room_id FROM matrix_rooms WHERE room_key = ?", (room_key,)).fetchone()
        return row[0] if row else None

    def _stored(self, room_id: str) -> Optional[tuple[str, str]]:
        stored = self._options.get(room_id)
        if stored is None:
            with self._lock:
                row = self._db.execute(
                    "SELECT options, options_event FROM matrix_rooms WHERE room_id = ?", (room_id,)
                ).fetchone()
            if row is None:
                return None
            stored = self._options[room_id] = (row[0], row[1])
        return stored

    def options(self, room_id: str) -> list[Option]:
        stored = self._stored(room_id)
        return [Option(**o) for o in json.loads(stored[0])] if stored else []

    def options_event(self, room_id: str) -> str:
        """The event id of the message that listed the current options ("" if none)."""
        stored = self._stored(room_id)
        return stored[1] if stored else ""

    def set_options(self, room_id: str, options: list[Option], event_id: str = "") -> None:
        data = json.dumps([{"number": o.number, "title": o.title, "payload": o.payload} for o in options])
        stored = (data, event_id if options else "")
        self.room_key(room_id)
        if self._options.get(room_id) == stored:
            return
        with self._lock:
            self._db.execute(
                "UPDATE matrix_rooms SET options = ?, options_event = ? WHERE room_id = ?", (*stored, room_id)
            )
            self._options[room_id] = stored

    def forget(self, room_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM matrix_rooms WHERE room_id = ?", (room_id,))
            self._keys.pop(room_id, None)
            self._options.pop(room_id, None)

    def close(self) -> None:
        self._db.close()
