"""The whole stack on free ports (portal backend, action server, delivery worker, Rasa with a
SQL tracker store), chatting over the REST channel:

* a Rasa restart in the middle of a form resumes the same conversation at the same field;
* with the portal backend down at confirmation, the citizen is told the application is saved,
  and once the backend is back the worker delivers it and the case number arrives in the same
  conversation through Rasa's HTTP API (trigger_intent).

Only the named service is stopped and started again; the others keep running.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

from bot.settings import Settings
from bot.stack import Stack
from bot.training import ensure_model

pytestmark = pytest.mark.e2e

CASE_NUMBER = re.compile(r"Aktenzeichen lautet (\S+?)\.(?:\s|$)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Chat:
    stack: Stack
    sender: str

    def say_text(self, text: str) -> str:
        url = f"{self.stack.settings.rasa_url}/webhooks/rest/webhook"
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            return "\n".join(m.get("text", "") for m in json.loads(resp.read()))

    def bot_texts(self) -> list[str]:
        """Everything the bot said in this conversation, from Rasa's tracker (HTTP API)."""
        s = self.stack.settings
        query = urllib.parse.urlencode({"token": s.rasa_api_token})
        url = f"{s.rasa_url}/conversations/{urllib.parse.quote(self.sender)}/tracker?{query}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            tracker = json.loads(resp.read())
        return [e.get("text") or "" for e in tracker["events"] if e.get("event") == "bot"]


def service(stack: Stack, name: str):
    return next(s for s in stack.services if s.name == name)


def restart(svc, timeout: float = 180) -> None:
    svc.stop()
    svc.start()
    wait_healthy(svc, timeout)


def wait_healthy(svc, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not svc.healthy():
        assert svc.process.poll() is None, svc.log_tail()
        assert time.monotonic() < deadline, f"{svc.name} not healthy again:\n{svc.log_tail()}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, monkeypatch_module):
    model = ensure_model(quiet=True)
    var = tmp_path_factory.mktemp("submission-stack")
    # Short retry backoff for the worker in this test; production defaults are longer.
    monkeypatch_module.setenv("SUBMISSION_RETRY_MAX_S", "2")
    monkeypatch_module.setenv("BA_LOGIN_REQUIRED", "0")
    settings = Settings(
        rasa_port=free_port(),
        action_port=free_port(),
        portal_port=free_port(),
        demo_port=free_port(),
        tracker_store_url=f"sqlite:///{var / 'tracker.db'}",  # the SQL tracker store
        portal_database_url=f"sqlite:///{var / 'portal.db'}",
        lock_store_url=None,
        var_dir=var,
    )
    stack = Stack(settings, model)
    stack.start(timeout=240, progress=lambda _msg: None)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def fill_until_birth_date(chat: Chat) -> None:
    offer = chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "jetzt hier im Chat beantragen" in offer, offer
    started = chat.say_text("Ja")
    assert "Schritt 1 von 8" in started, started
    assert "Familienname" in chat.say_text("Erika")
    assert "geboren" in chat.say_text("Mustermann")


def test_rasa_restart_in_a_form_resumes_at_the_same_field(stack):
    chat = Chat(stack, sender=f"restart-{time.time_ns()}")
    fill_until_birth_date(chat)
    restart(service(stack, "rasa"))
    # The answer is taken for the field that was asked before the restart; nothing is lost.
    assert "Straße" in chat.say_text("12.08.1964")
    assert "Postleitzahl" in chat.say_text("Marienplatz 8")
    assert "Ort" in chat.say_text("80331")
    assert "einfache oder eine erweiterte" in chat.say_text("München")
    assert "E-Mail" in chat.say_text("einfach")
    summary = chat.say_text("erika.mustermann@example.org")
    for shown in ("Erika", "Mustermann", "12.08.1964", "Marienplatz 8"):
        assert shown in summary


def test_backend_down_saved_then_case_number_arrives_in_the_conversation(stack):
    chat = Chat(stack, sender=f"outbox-{time.time_ns()}")
    fill_until_birth_date(chat)
    for answer in ("12.08.1964", "Marienplatz 8", "80331", "München", "einfach"):
        chat.say_text(answer)
    assert "sende ich den Antrag ab" in chat.say_text("erika.mustermann@example.org")

    backend = service(stack, "portal-backend")
    backend.stop()
    try:
        reply = chat.say_text("Ja, absenden")
        assert "gespeichert" in reply and "nicht erreichbar" in reply
        assert not CASE_NUMBER.search(reply)
    finally:
        backend.start()
        wait_healthy(backend)

    deadline = time.monotonic() + 90
    announced = None
    while time.monotonic() < deadline and announced is None:
        announced = next((t for t in chat.bot_texts() if CASE_NUMBER.search(t)), None)
        time.sleep(1)
    assert announced, "the case number never reached the conversation"
    case_number = CASE_NUMBER.search(announced).group(1)
    url = f"{stack.settings.portal_url}/api/v1/applications/{case_number}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        stored = json.loads(resp.read())
    assert stored["data"]["nachname"] == "Mustermann"
    # The receipt link came with it, and the status question now knows this application.
    assert any("/api/v1/receipts/" in t for t in chat.bot_texts())
    assert case_number in chat.say_text("Wie ist der Stand meines Antrags?")
