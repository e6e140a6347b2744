"""Links in bot messages only to allowed hosts (rasa_runtime/channels/outbound.py), in the web chat's output
and in the history a reload shows."""

from __future__ import annotations

import re

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_runtime.channels import outbound
from rasa_runtime.channels.outbound import neutralise_links

ALLOWED = {"stadt.muenchen.de", "portal.example.de", "*.bayern.de"}
# What a widget (ours, or a markdown renderer) would turn into a link.
ANY_LINK = re.compile(r"\]\(|https?:|//|www\.|<a\b", re.I)


@pytest.mark.parametrize("text", [
    "Hinweis: [Hier klicken](https://evil.example/login)",
    "[Hier klicken](https://evil.example/login \"Stadt München\")",
    "[Hier klicken]( <https://evil.example/login> )",
    "Bitte hier: https://evil.example/x?y=1",
    "Bitte hier: <https://evil.example/x>",
    "Bitte hier: //evil.example/x",
    "Bitte hier: www.evil.example/x",
    "[Hier][1]\n\n[1]: https://evil.example/x",
    '<a href="https://evil.example">Hier</a>',
    "[https://evil.example](https://evil.example)",
    "[Stadt](https://stadt.muenchen.de@evil.example/)",
    "[Stadt](https://evil.example\\@stadt.muenchen.de/)",
    "[Stadt](javascript:alert(1))",
    "![Bild](https://evil.example/pixel.png)",
    "[Stadt](HTTPS://EVIL.EXAMPLE/)",
    "[Stadt](https://stadt.muenchen.de.evil.example/)",
    "[Stadt](https://notbayern.de/)",
])
def test_links_to_other_hosts_become_plain_text(text):
    out = neutralise_links(text, ALLOWED)
    assert "evil.example" not in out.lower() and "javascript" not in out.lower()
    assert not ANY_LINK.search(out), out
    assert out.strip()


@pytest.mark.parametrize("text", [
    "Mehr: [Stadt München](https://stadt.muenchen.de/service/)",
    "Mehr: https://stadt.muenchen.de/service/info",
    "[Eingangsbestätigung](http://portal.example.de:8080/api/v1/receipts/abc)",
    "[Landesamt](https://www.lfu.bayern.de/x)",
    "Ohne Link, mit **fett** und 1/2.",
])
def test_links_to_allowed_hosts_stay(text):
    assert neutralise_links(text, ALLOWED) == text


def test_a_status_note_link_keeps_its_words_but_not_its_address():
    out = neutralise_links("Hinweis der Behörde: [Hier klicken](https://evil.example/phish).", ALLOWED)
    assert out == "Hinweis der Behörde: Hier klicken."


def test_buttons_that_open_other_hosts_are_dropped():
    message = {"text": "x", "quick_replies": [
        {"title": "Anmelden", "payload": "https://login.example.de/start"},
        {"title": "Böse", "payload": "https://evil.example/start"},
        {"title": "Ja", "payload": "/affirm"},
        {"title": "Text: mit Doppelpunkt", "payload": "Text: mit Doppelpunkt"},
    ]}
    out = outbound.neutralise_message(message, {"login.example.de"})
    assert [b["title"] for b in out["quick_replies"]] == ["Anmelden", "Ja", "Text: mit Doppelpunkt"]


def test_default_allow_list_is_the_portal_the_login_and_the_catalogue(monkeypatch):
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.de")
    monkeypatch.setenv("LOGIN_PUBLIC_URL", "https://login.example.de:8443")
    monkeypatch.setenv("BA_LINK_ALLOWED_HOSTS", "www.bayern.de, *.bund.de")
    hosts = outbound.allowed_hosts()
    assert {"portal.example.de", "login.example.de", "stadt.muenchen.de", "www.bayern.de", "*.bund.de"} <= hosts
    assert outbound.url_allowed("https://www.bmi.bund.de/x", hosts)
    assert not outbound.url_allowed("https://evil.example/", hosts)


class FakeSio:
    def __init__(self):
        self.sent = []

    async def emit(self, event, data, room=None, **_kw):
        self.sent.append((event, data, room))


async def test_web_chat_output_sends_no_foreign_link(monkeypatch):
    from rasa_runtime.channels.webchat.channel import WebChatOutput

    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.de")
    sio = FakeSio()
    output = WebChatOutput(sio)
    await output.send_response("wc-1", {"text": "Hinweis: [Hier klicken](https://evil.example/x)"})
    await output.send_response("wc-1", {"text": "Beleg: [PDF](https://portal.example.de/api/v1/receipts/t)",
                                        "buttons": [{"title": "Los", "payload": "https://evil.example/"}]})
    texts = [data.get("text") for _e, data, _r in sio.sent]
    assert texts == ["Hinweis: Hier klicken", "Beleg: [PDF](https://portal.example.de/api/v1/receipts/t)"]
    assert "quick_replies" not in sio.sent[1][1] or not sio.sent[1][1]["quick_replies"]


def test_history_after_a_reload_shows_no_foreign_link():
    from rasa_runtime.channels.webchat import conversations

    domain = Domain.from_dict({"intents": ["greet"]})
    tracker = DialogueStateTracker("wc-1", domain.slots)
    tracker.update(UserUttered("Stand?", {"name": "greet", "confidence": 1.0}))
    tracker.update(BotUttered("Hinweis: [Hier klicken](https://evil.example/x)"))
    items = conversations.history(tracker, frozenset({"portal.example.de"}))
    assert items[-1]["text"] == "Hinweis: Hier klicken"
