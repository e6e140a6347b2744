"""The real stack (portal backend, action server, Rasa with the cached model) on free ports,
with its own SQLite tracker store, for the review inbox and reload tests."""

from __future__ import annotations

import json
import socket
import urllib.request
from dataclasses import dataclass

import pytest

from bot.settings import Settings
from bot.stack import Stack
from bot.training import ensure_model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Chat:
    url: str
    sender: str

    def say(self, text: str) -> list[dict]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())

    def say_text(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text))


@pytest.fixture(scope="session")
def model_path():
    # Trains only when the training data changed; otherwise the cached model is reused.
    return ensure_model(quiet=True)


@pytest.fixture(scope="module")
def content_stack(model_path, tmp_path_factory):
    var = tmp_path_factory.mktemp("content-stack")
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), portal_port=free_port(), demo_port=free_port(),
        tracker_store_url=f"sqlite:///{var / 'tracker.db'}",
        portal_database_url=f"sqlite:///{var / 'portal.db'}",
        lock_store_url=None, var_dir=var,
    )
    stack = Stack(settings, model_path)
    stack.start(timeout=240, progress=lambda _msg: None)
    yield stack
    stack.stop()


@pytest.fixture
def new_chat(content_stack):
    def make(sender: str) -> Chat:
        return Chat(f"{content_stack.settings.rasa_url}/webhooks/rest/webhook", sender=sender)

    return make
