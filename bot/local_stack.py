"""A private copy of the whole stack on free local ports, and a REST chat client for it.

Shared by the end-to-end tests and the benchmarks: every run gets its own ports and its own
SQLite files in ``var_dir``, so runs never see each other's conversations.
"""

from __future__ import annotations

import json
import secrets
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
        # The REST channel exists only with a token (rasa_runtime/channels/rest); RestChat sends it.
        rest_channel_token=secrets.token_urlsafe(32),
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


def start_local_stack(
    model: Path, var_dir: Path, timeout: float = 240, login_required: bool = False, **overrides
) -> Stack:
    stack = set_login_required(Stack(local_settings(var_dir, **overrides), model), login_required)
    stack.start(timeout=timeout, progress=lambda _msg: None)
    return stack


def rest_headers(settings: Settings) -> dict[str, str]:
    """Headers of a request to the REST channel (rasa_runtime/channels/rest)."""
    return {"Content-Type": "application/json", "Authorization": f"Bearer {settings.rest_channel_token}"}


def rest_conversation_id(sender: str) -> str:
    """The conversation Rasa keeps for a REST ``sender`` (the channel prefixes every sender)."""
    from rasa_runtime.channels.rest.channel import SENDER_PREFIX

    return SENDER_PREFIX + sender


@dataclass
class RestChat:
    """One citizen talking to our REST channel (rasa_runtime/channels/rest)."""

    settings: Settings
    sender: str
    timeout: float = 120

    @property
    def url(self) -> str:
        return f"{self.settings.rasa_url}/webhooks/rest/webhook"

    @property
    def conversation_id(self) -> str:
        return rest_conversation_id(self.sender)

    def say(self, text: str) -> list[dict]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers=rest_headers(self.settings))
        with urllib.request.urlopen(request, timeout=self.timeout) as resp:
            return json.loads(resp.read())

    def trigger_intent(self, intent: str, entities: dict | None = None) -> list[dict]:
        """What our own services do through Rasa's HTTP API (never a citizen: typed intent
        payloads count only where the assistant offered them, rasa_runtime/channels/payload_guard.py)."""
        s = self.settings
        body = json.dumps({"name": intent, "entities": entities or {}}).encode()
        query = urllib.parse.urlencode({"token": s.rasa_api_token})
        url = f"{s.rasa_url}/conversations/{urllib.parse.quote(self.conversation_id)}/trigger_intent?{query}"
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as resp:
            return json.loads(resp.read()).get("messages") or []

    def trigger_intent_text(self, intent: str, entities: dict | None = None) -> str:
        return "\n".join(m.get("text", "") for m in self.trigger_intent(intent, entities))

    def say_text(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text))

    def bot_texts(self) -> list[str]:
        """Everything the bot said in this conversation, from Rasa's tracker (HTTP API)."""
        s = self.settings
        query = urllib.parse.urlencode({"token": s.rasa_api_token})
        url = f"{s.rasa_url}/conversations/{urllib.parse.quote(self.conversation_id)}/tracker?{query}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            tracker = json.loads(resp.read())
        return [e.get("text") or "" for e in tracker["events"] if e.get("event") == "bot"]
