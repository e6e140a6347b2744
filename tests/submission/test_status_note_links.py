"""Attack: the authority's status note carries a markdown link to a foreign host. The citizen
asks for the status in the chat: the note's words arrive, the link does not."""

from __future__ import annotations

import re

import aiohttp
import pytest
from rasa_sdk.executor import CollectingDispatcher
from support import portal_auth

from actions.dialogue import ActionSubmitApplication
from actions.submission_actions import ActionApplicationStatus

from .conftest import FILLED, make_tracker, texts

CASE = re.compile(r"Aktenzeichen lautet (\S+?)\.")
NOTE = "Bitte bestätigen Sie Ihre Daten: [Hier klicken](https://evil.example/bundid-login)"

pytestmark = pytest.mark.usefixtures("chat_env")


class FakeSio:
    def __init__(self):
        self.sent = []

    async def emit(self, event, data, room=None, **_kw):
        self.sent.append(data)


async def test_a_link_in_a_status_note_reaches_the_chat_as_plain_text(backend, monkeypatch):
    from rasa_runtime.channels.webchat.channel import WebChatOutput

    tracker = make_tracker(
        slots={**FILLED, "procedure": "meldebescheinigung", "application_id": "app-link", "awaiting": "confirm_summary"}
    )
    dispatcher = CollectingDispatcher()
    await ActionSubmitApplication().run(dispatcher, tracker, {})
    case_number = CASE.search(texts(dispatcher)).group(1)
    sio = FakeSio()
    output = WebChatOutput(sio)
    # Our own receipt link (the portal's host) stays a link.
    for message in dispatcher.messages:
        await output.send_response("wc-1", message)
    assert any("](http" in (m.get("text") or "") and "/receipts/" in m["text"] for m in sio.sent)

    async with aiohttp.ClientSession() as session:
        async with session.post(
            str(backend.make_url(f"/api/v1/applications/{case_number}/status")),
            json={"status": "in_bearbeitung", "note": NOTE},
            headers=portal_auth.AUTHORITY,
        ) as resp:
            assert resp.status == 200, await resp.text()

    dispatcher = CollectingDispatcher()
    await ActionApplicationStatus().run(dispatcher, make_tracker(text=f"Stand {case_number}?", intent="ask_status"), {})
    assert "evil.example" in texts(dispatcher)  # the attack reaches the channel ...
    sio.sent.clear()
    for message in dispatcher.messages:
        await output.send_response("wc-1", message)
    shown = "\n".join(m.get("text") or "" for m in sio.sent)
    assert "Hier klicken" in shown  # ... the words are shown, the link is not
    assert "evil.example" not in shown and "](" not in shown and "http" not in shown
