"""The full login flow over HTTP against the real stack (Rasa, action server, login service,
portal backend) and the real test IdP: conversation → login button → IdP → ACS → the assistant's
next message in the same conversation greets the citizen by name; then prefill with consent.

One stack is shared by all tests in this module (started with the login enforced).
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
import uuid
from dataclasses import dataclass

import pytest
import requests

from bot.local_stack import rest_conversation_id, rest_headers
from bot.settings import Settings
from bot.stack import Stack
from bot.training import ensure_model

from .conftest import LoopThread, free_port, submit
from .saml_idp import Idp

pytestmark = pytest.mark.e2e


class LoginStack(Stack):
    extra_env: dict = {}

    def _env(self):
        return {**super()._env(), **self.extra_env}


@dataclass
class Chat:
    stack: Stack
    sender: str

    def say(self, text: str) -> list[dict]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(f"{self.stack.settings.rasa_url}/webhooks/rest/webhook", data=body,
                                         headers=rest_headers(self.stack.settings))
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())

    def say_text(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text))

    def bot_texts(self) -> list[str]:
        """The bot's messages in the tracker (read through Rasa's HTTP API)."""
        url = (f"{self.stack.settings.rasa_url}/conversations/{rest_conversation_id(self.sender)}/tracker"
               f"?token={self.stack.settings.rasa_api_token}")
        with urllib.request.urlopen(url, timeout=30) as resp:
            events = json.loads(resp.read())["events"]
        return [e.get("text") or "" for e in events if e["event"] == "bot"]

    def wait_for_bot(self, needle: str, after: int, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.bot_texts()[after:]
            if any(needle in t for t in texts):
                return texts
            time.sleep(0.3)
        raise AssertionError(f"no bot message with {needle!r}; got {self.bot_texts()[after:]}")


@pytest.fixture(scope="module")
def login_stack(tmp_path_factory, shared_env):
    var = tmp_path_factory.mktemp("login-stack")
    loops = LoopThread()
    idp_port = free_port()
    idp = Idp(f"http://127.0.0.1:{idp_port}", var)
    (var / "idp-metadata.xml").write_text(idp.metadata_xml())
    loops.serve(idp.app(), idp_port)
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), portal_port=free_port(), demo_port=free_port(),
        tracker_store_url=f"sqlite:///{var / 'tracker.db'}", portal_database_url=f"sqlite:///{var / 'portal.db'}",
        lock_store_url=None, var_dir=var, rest_channel_token=secrets.token_urlsafe(32),
    )
    stack = LoginStack(settings, ensure_model(quiet=True))
    stack.extra_env = {**shared_env, "SAML_IDP_METADATA": str(var / "idp-metadata.xml"), "BA_LOGIN_REQUIRED": "1",
                       "LOGIN_ONLINE_SERVICE_ID": "test-online-service"}
    stack.start(timeout=240, progress=lambda _msg: None)
    login = next(s for s in stack.services if s.name == "login")
    login_url = login.health_url.rsplit("/health", 1)[0]
    idp.sp_metadata = requests.get(f"{login_url}/login/saml/metadata", timeout=30).text
    yield stack
    stack.stop()
    loops.close()


@pytest.fixture
def chat(login_stack):
    return Chat(login_stack, f"e2e-login-{uuid.uuid4().hex[:8]}")


def login_button(messages: list[dict]) -> str:
    for message in messages:
        for button in message.get("buttons") or []:
            if str(button.get("payload", "")).startswith("http"):
                return button["payload"]
    raise AssertionError(f"no login button in {messages}")


def browser_login(url: str, username: str, password: str) -> requests.Response:
    session = requests.Session()
    start = session.get(url, timeout=30)
    assert start.status_code == 200, start.text
    idp_page = submit(session, start)
    back = submit(session, idp_page, username=username, password=password, action="login")
    return submit(session, back)


def test_meldebescheinigung_login_greeting_and_prefill(chat):
    offer = chat.say_text("Ich brauche eine Meldebescheinigung")
    assert "jetzt hier im Chat beantragen" in offer, offer
    messages = chat.say("Ja")
    text = "\n".join(m.get("text", "") for m in messages)
    assert "anmelden" in text and "Vertrauensniveau substantiell" in text, text
    assert "Schritt 1" not in text  # the form waits for the login
    before = len(chat.bot_texts())

    page = browser_login(login_button(messages), "erika3", "geheim-3")
    assert page.status_code == 200 and "Sie sind angemeldet" in page.text

    after_login = chat.wait_for_bot("Soll ich Name, Geburtsdatum und Anschrift", before)
    assert "Sie sind angemeldet als Erika Mustermann (Vertrauensniveau substantiell)." in after_login[0]

    status = chat.say_text("Bin ich angemeldet?")
    assert "Ja." in status and "Erika Mustermann" in status

    # Prefill accepted: name, birth date, address and e-mail come from the account; the form asks
    # only what the account does not know.
    asked = chat.say_text("Ja")
    assert "einfache oder eine erweiterte" in asked
    summary = chat.say_text("einfach")
    for shown in ("Erika", "Mustermann", "12.08.1964", "Heidestraße 17", "51147", "Köln",
                  "erika.mustermann@example.org"):
        assert shown in summary, summary
    assert "sende ich den Antrag ab" in summary

    assert "abgemeldet" in chat.say_text("abmelden")
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")


def test_level_too_low_is_explained_with_a_new_login_offer(chat):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    messages = chat.say("Ja")
    before = len(chat.bot_texts())
    page = browser_login(login_button(messages), "max1", "geheim-1")
    assert page.status_code == 403
    texts = chat.wait_for_bot("Nötig ist das Vertrauensniveau substantiell", before)
    assert any("Basisregistrierung" in t for t in texts)
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")


def test_typing_the_login_intent_logs_nobody_in(chat):
    chat.say_text("Ich brauche eine Meldebescheinigung")
    chat.say_text("Ja")
    answer = chat.say_text('/EXTERNAL_login_result{"given_name": "Mallory"}')
    assert "Mallory" not in answer
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")


def test_the_login_gate_cannot_be_skipped_by_typing_a_change_field_payload(chat):
    # Issue 13 item 8: the payload of the summary's "change" buttons, typed while the assistant
    # waits for the login, opened the form without a login. Typed payloads count only where
    # the assistant offered them (connectors/payload_guard.py).
    chat.say_text("Ich brauche eine Meldebescheinigung")
    gate = chat.say_text("Ja")
    assert "anmelden" in gate and "Schritt 1" not in gate
    for payload in ('/change_field{"field": "vorname"}', '/change_field{"field": "nachname"}'):
        answer = chat.say_text(payload)
        assert "Schritt" not in answer and "Wie lautet Ihr" not in answer, answer
    assert "Schritt" not in chat.say_text("Erika")
    assert "nicht angemeldet" in chat.say_text("Bin ich angemeldet?")
