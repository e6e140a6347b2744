"""The two chat clients of the tests: ``RestChat`` (our REST channel, shared with the benchmarks:
``bot/local_stack.py``) and ``WebChat`` (the web chat's socket.io protocol, as the widget speaks
it). Both have ``say``, ``say_text`` and ``bot_texts``."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Optional

import socketio

from bot.local_stack import RestChat, rest_conversation_id, rest_headers  # noqa: F401 (re-exported)
from bot.stack import Stack


class WebChat:
    """One citizen's chat, spoken as the widget does (socket.io, server-signed session)."""

    def __init__(self, stack: Optional[Stack], url: Optional[str] = None, http_session=None) -> None:
        """To ``stack``'s Rasa, or to ``url`` (e.g. through a proxy, with a ``requests`` session
        that trusts its certificate; the page's origin is then the same address)."""
        self.stack = stack
        self.messages: list[dict] = []
        self.idle = 0  # bot_typing false events: a message was fully answered
        self.sender = ""
        self.cond = threading.Condition()
        self.sio = socketio.Client(http_session=http_session)
        self.sio.on("session_confirm", self._confirm)
        self.sio.on("bot_uttered", self._bot)
        self.sio.on("bot_typing", self._typing)
        target, origin = (url, url) if url else (stack.settings.rasa_url, "http://127.0.0.1")
        # Polling: the installed aiohttp is older than engineio's websocket client wants.
        self.sio.connect(target, headers={"Origin": origin}, transports=["polling"], wait_timeout=30 if url else 20)
        self.sio.emit("session_request", {})
        self._wait(lambda: bool(self.sender), "session_confirm")

    def _confirm(self, data):
        with self.cond:
            self.sender = data["conversation_id"]
            self.cond.notify_all()

    def _bot(self, message):
        with self.cond:
            self.messages.append(message)
            self.cond.notify_all()

    def _typing(self, data):
        if not (data or {}).get("typing"):
            with self.cond:
                self.idle += 1
                self.cond.notify_all()

    def _wait(self, ready, what: str, timeout: float = 90) -> None:
        with self.cond:
            if not self.cond.wait_for(ready, timeout):
                raise AssertionError(f"no {what}; got {[m.get('text') for m in self.messages]}")

    def close(self) -> None:
        self.sio.eio.disconnect(abort=True)

    def say(self, text: str) -> list[dict]:
        """Send a message and return the bot's answers to it."""
        with self.cond:
            seen, idle = len(self.messages), self.idle
        self.sio.emit("user_uttered", {"message": text, "session_id": None})
        self._wait(lambda: self.idle > idle, f"answer to {text!r}")
        return self.messages[seen:]

    def say_text(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text))

    def mark(self) -> int:
        with self.cond:
            return len(self.messages)

    def wait_for_bot(self, needle: str, after: int, timeout: float = 90) -> list[str]:
        """The bot's messages since ``after`` once one contains ``needle`` (also messages that
        arrive outside a request: login result, code confirmation)."""
        self._wait(lambda: any(needle in (m.get("text") or "") for m in self.messages[after:]), repr(needle), timeout)
        return [m.get("text") or "" for m in self.messages[after:]]

    def type(self, text: str) -> int:
        """Send without waiting for an answer (a login code is answered outside Rasa's turn).
        Returns the mark to wait from."""
        mark = self.mark()
        self.sio.emit("user_uttered", {"message": text})
        return mark

    def send_code(self, code: str) -> None:
        """What the widget does with the code its login window handed back."""
        self.sio.emit("login_code", {"code": code})

    def bot_texts(self) -> list[str]:
        """The bot's messages in the tracker (read through Rasa's HTTP API)."""
        url = (
            f"{self.stack.settings.rasa_url}/conversations/{self.sender}/tracker"
            f"?token={self.stack.settings.rasa_api_token}"
        )
        with urllib.request.urlopen(url, timeout=30) as resp:
            events = json.loads(resp.read())["events"]
        return [e.get("text") or "" for e in events if e["event"] == "bot"]
