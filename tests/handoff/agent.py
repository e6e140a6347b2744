"""A member of staff in a Matrix client, for the tests: speaks the client-server API of the real
Synapse (tests/support/synapse.py) as Element would – sync, accept invitations, send messages."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
import uuid


class Agent:
    def __init__(self, base_url: str, user_id: str, token: str) -> None:
        self.base_url = base_url
        self.user_id = user_id
        self.token = token
        self.since: str | None = None
        self.messages: list[tuple[str, str, str]] = []  # (room id, sender, body)
        self.rooms: set[str] = set()

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read() or b"{}")

    def create_room(self, invite: list[str]) -> str:
        room = self._request("POST", "/_matrix/client/v3/createRoom", {"preset": "private_chat", "invite": invite})
        self.rooms.add(room["room_id"])
        return room["room_id"]

    def join(self, room_id: str) -> None:
        self._request("POST", f"/_matrix/client/v3/join/{urllib.parse.quote(room_id)}", {})
        self.rooms.add(room_id)

    def send(self, room_id: str, text: str) -> None:
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}"
        self._request("PUT", path, {"msgtype": "m.text", "body": text})

    def sync(self, timeout_ms: int = 1000) -> None:
        query = {"timeout": str(timeout_ms)}
        if self.since:
            query["since"] = self.since
        answer = self._request("GET", "/_matrix/client/v3/sync?" + urllib.parse.urlencode(query))
        self.since = answer["next_batch"]
        rooms = answer.get("rooms") or {}
        for room_id in rooms.get("invite") or {}:
            self.join(room_id)  # staff accept the desk's invitation to a case room
        for room_id, room in (rooms.get("join") or {}).items():
            for event in (room.get("timeline") or {}).get("events") or []:
                if event.get("type") == "m.room.message":
                    self.messages.append((room_id, event["sender"], (event.get("content") or {}).get("body", "")))

    def wait_for(self, needle: str, timeout: float = 90, room_id: str | None = None) -> tuple[str, str, str]:
        """The first message (from anyone else) that contains ``needle``."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if needle in message[2] and message[1] != self.user_id and room_id in (None, message[0]):
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user_id}: no message with {needle!r}; got {[m[2] for m in self.messages]}")
            self.sync()
