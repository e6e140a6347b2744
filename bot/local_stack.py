"""A private copy of the whole stack on free local ports, and a REST chat client for it.

Shared by the end-to-end tests and the benchmarks: every run gets its own ports and its own
SQLite files in ``var_dir``, so runs never see each other's conversations.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from bot.stack import Stack, free_port


def local_settings(var_dir: Path, **overrides) -> Settings:
    values = dict(
        rasa_port=free_port(),
        action_port=free_port(),
        portal_port=free_port(),
        demo_port=free_port(),
        tracker_store_url=f"sqlite:///{var_dir / 'tracker.db'}",
        portal_database_url=f"sqlite:///{var_dir / 'portal.db'}",
        lock_store_url=None,
        var_dir=var_dir,
    )
    values.update(overrides)
    return Settings(**values)


def set_login_required(stack: Stack, required: bool) -> Stack:
    """Say explicitly whether this test or benchmark stack enforces the login (on by default in
    every deployment; these stacks have no IdP unless a test configures one)."""
    if not stack.services:
        stack.build()
    for service in stack.services:
        service.env = {**service.env, "BA_LOGIN_REQUIRED": "1" if required else "0"}
    return stack


def start_local_stack(model: Path, var_dir: Path, timeout: float = 240, login_required: bool = False,
                      **overrides) -> Stack:
    stack = set_login_required(Stack(local_settings(var_dir, **overrides), model), login_required)
    stack.start(timeout=timeout, progress=lambda _msg: None)
    return stack


@dataclass
class RestChat:
    """One citizen talking to Rasa's REST channel."""

    settings: Settings
    sender: str
    timeout: float = 120

    @property
    def url(self) -> str:
        return f"{self.settings.rasa_url}/webhooks/rest/webhook"

    def say(self, text: str) -> list[dict]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as resp:
            return json.loads(resp.read())

    def say_text(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text))

    def bot_texts(self) -> list[str]:
        """Everything the bot said in this conversation, from Rasa's tracker (HTTP API)."""
        s = self.settings
        query = urllib.parse.urlencode({"token": s.rasa_api_token})
        url = f"{s.rasa_url}/conversations/{urllib.parse.quote(self.sender)}/tracker?{query}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            tracker = json.loads(resp.read())
        return [e.get("text") or "" for e in tracker["events"] if e.get("event") == "bot"]
