"""The connector's own small table: which room is which conversation, and the options the
assistant offered last in each room (so "2" still means the second option after a restart).

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
        self._options: dict[str, str] = {}
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS matrix_rooms (room_key TEXT PRIMARY KEY, room_id TEXT UNIQUE NOT NULL,"
            " options TEXT NOT NULL DEFAULT '[]')"
        )

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

    def options(self, room_id: str) -> list[Option]:
        data = self._options.get(room_id)
        if data is None:
            with self._lock:
                row = self._db.execute("SELECT options FROM matrix_rooms WHERE room_id = ?", (room_id,)).fetchone()
            if row is None:
                return []
            data = self._options[room_id] = row[0]
        return [Option(**o) for o in json.loads(data)]

    def set_options(self, room_id: str, options: list[Option]) -> None:
        data = json.dumps([{"number": o.number, "title": o.title, "payload": o.payload} for o in options])
        self.room_key(room_id)
        if self._options.get(room_id) == data:
            return
        with self._lock:
            self._db.execute("UPDATE matrix_rooms SET options = ? WHERE room_id = ?", (data, room_id))
            self._options[room_id] = data

    def forget(self, room_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM matrix_rooms WHERE room_id = ?", (room_id,))
            self._keys.pop(room_id, None)
            self._options.pop(room_id, None)

    def close(self) -> None:
        self._db.close()
