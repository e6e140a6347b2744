"""The connector's own small table: which room is which conversation, and the options the
assistant offered last in each room (so "2" still means the second option after a restart).

One room is one conversation: ``mx-<room key>``, the key an HMAC of the room id (the Matrix id
itself never becomes the conversation id)."""

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
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS matrix_rooms (room_key TEXT PRIMARY KEY, room_id TEXT UNIQUE NOT NULL,"
            " options TEXT NOT NULL DEFAULT '[]')"
        )

    def room_key(self, room_id: str) -> str:
        key = hmac.new(self.key, room_id.encode(), hashlib.sha256).hexdigest()[:32]
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO matrix_rooms (room_key, room_id) VALUES (?, ?)", (key, room_id))
        return key

    def known(self, room_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM matrix_rooms WHERE room_id = ?", (room_id,)).fetchone()
        return row is not None

    def room_id(self, room_key: str) -> Optional[str]:
        with self._lock:
            row = self._db.execute("SELECT room_id FROM matrix_rooms WHERE room_key = ?", (room_key,)).fetchone()
        return row[0] if row else None

    def options(self, room_id: str) -> list[Option]:
        with self._lock:
            row = self._db.execute("SELECT options FROM matrix_rooms WHERE room_id = ?", (room_id,)).fetchone()
        return [Option(**o) for o in json.loads(row[0])] if row else []

    def set_options(self, room_id: str, options: list[Option]) -> None:
        data = json.dumps([{"number": o.number, "title": o.title, "payload": o.payload} for o in options])
        self.room_key(room_id)
        with self._lock:
            self._db.execute("UPDATE matrix_rooms SET options = ? WHERE room_id = ?", (data, room_id))

    def forget(self, room_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM matrix_rooms WHERE room_id = ?", (room_id,))

    def close(self) -> None:
        self._db.close()
