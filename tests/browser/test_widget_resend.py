"""A web chat message is not lost when its Rasa process goes away, and not processed twice when
it is sent again (issue 18; rasa_runtime/channels/webchat/channel.py, rasa_runtime/idempotency.py).

The widget gives every message an id and keeps it until the server acknowledges the turn; after
a reconnect it sends what is unacknowledged again, with the same id. The first tests speak the
protocol with a real socket.io client against the package's Rasa process; the last one stops
that Rasa process (SIGSTOP, then SIGKILL) while Chromium has just sent a form answer, starts it
again, and checks that the citizen sees the message and its answer once, the form continues at
the right field and the tracker holds the answer once."""

from __future__ import annotations

import asyncio
import os
import re
import signal

import pytest
from playwright.sync_api import expect
from support.databases import user_texts, user_texts_after

from rasa_runtime.channels.webchat.channel import ACK_DONE, ACK_INVALID_ID
from rasa_runtime.idempotency import INVALID_MESSAGE_ID

from .test_channel_security import Client

pytestmark = pytest.mark.e2e


async def _send(tab: Client, text: str, message_id: str | None) -> tuple[dict, list[dict]]:
    """Send with an ack, as the widget does; the ack and the bot messages until typing ends."""
    data = {"message": text, **({"message_id": message_id} if message_id is not None else {})}
    ack = asyncio.create_task(tab.sio.call("user_uttered", data, timeout=60))
    answers: list[dict] = []
    try:
        while True:
            event, payload = await asyncio.wait_for(tab.events.get(), 60)
            if event == "bot_uttered":
                answers.append(payload)
            elif event == "bot_typing" and not payload["typing"]:
                break
        return await ack, answers
    finally:
        if not ack.done():
            ack.cancel()


async def _until_acked(tab: Client, text: str, message_id: str) -> tuple[dict, list[dict]]:
    """A refused or repeated message may end without ``bot_typing``: collect until the ack."""
    ack = await tab.sio.call("user_uttered", {"message": text, "message_id": message_id}, timeout=60)
    await asyncio.sleep(0.5)  # events emitted before the ack may be handled just after it
    answers = []
    while not tab.events.empty():
        event, payload = tab.events.get_nowait()
        if event == "bot_uttered":
            answers.append(payload)
    return ack, answers


async def test_a_resent_message_with_its_id_is_answered_once_from_the_saved_turn(web_stack):
    url = web_stack.settings.tracker_store_url
    async with Client(web_stack.rasa_url) as tab:
        token, _ = await tab.session()
        conversation = web_stack.conversation_id(token)
        await _send(tab, "Ich brauche eine Meldebescheinigung", "m-1")
        ack, first = await _send(tab, "Ja", "m-2")
        assert ack == ACK_DONE
        assert any("Schritt 1 von 8" in a.get("text", "") for a in first), first
        assert {a.get("reply_to") for a in first} == {"m-2"} and not any(a.get("repeated") for a in first)
    # The answer is lost, the widget reconnects (maybe to another replica) and sends "Ja" again.
    async with Client(web_stack.rasa_url) as again:
        _, history = await again.session(token)
        assert {"sender": "user", "text": "Ja", "id": "m-2"} in history
        ack, repeated = await _until_acked(again, "Ja", "m-2")
        assert ack == ACK_DONE
        assert [a.get("text") for a in repeated] == [a.get("text") for a in first]
        assert all(a.get("repeated") is True and a.get("reply_to") == "m-2" for a in repeated), repeated
        # Processed once: the form goes on at the family name, not at the first name again.
        _, answers = await _send(again, "Erika", "m-3")
        assert any("Familienname" in a.get("text", "") for a in answers), answers
    # Stored once: "Ja" is in the conversation once.
    assert user_texts_after(url, conversation, 3) == ["Ich brauche eine Meldebescheinigung", "Ja", "Erika"]


async def test_a_bad_id_is_refused_and_nothing_is_processed(web_stack):
    url = web_stack.settings.tracker_store_url
    async with Client(web_stack.rasa_url) as tab:
        token, _ = await tab.session()
        for bad in ("Erika Mustermann", "x" * 65, 7):
            ack, answers = await _until_acked(tab, "Hallo", bad)
            assert ack == ACK_INVALID_ID
            assert [a.get("text") for a in answers] == [INVALID_MESSAGE_ID]
        assert user_texts(url, web_stack.conversation_id(token)) == []
        # A client without ids (Rasa's protocol) is served as before, and may ask for an ack.
        ack, answers = await _send(tab, "Hallo", None)
        assert ack == ACK_DONE and any("Bürgerassistent" in a.get("text", "") for a in answers)
        assert all("reply_to" not in a for a in answers)


def test_a_form_answer_typed_while_rasa_goes_away_is_sent_again_and_answered_once(web_stack, widget, page):
    url = web_stack.settings.tracker_store_url
    widget.open()
    widget.say("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen")
    widget.choose("Ja", "Schritt 1 von 8")
    widget.say("Erika", "Familienname")
    conversation = web_stack.conversation_id(widget.token())
    stored = user_texts_after(url, conversation, 3)
    rasa = web_stack.stack.service("rasa")
    before = page.locator(".ba-msg.bot").count()  # wait_for_bot counts the greeting too
    # The replica stops answering (its socket still open), the citizen types the next answer,
    # then the replica dies: the message reached a process that never processed it.
    os.killpg(rasa.process.pid, signal.SIGSTOP)
    try:
        widget.say("Mustermann")
        page.wait_for_timeout(1000)
        os.killpg(rasa.process.pid, signal.SIGKILL)
        rasa.process.wait(timeout=30)
        assert user_texts(url, conversation) == stored
    finally:
        if rasa.process.poll() is None:  # the test failed before the kill
            os.killpg(rasa.process.pid, signal.SIGCONT)
        else:
            rasa.start()
        rasa.wait_healthy(240)
    # The widget reconnected, sent "Mustermann" again and the form asks for the next field.
    widget.wait_for_bot("geboren", after=before)
    expect(page.locator(".ba-msg.user", has_text="Mustermann")).to_have_count(1)
    page.wait_for_timeout(1000)  # nothing else arrives: the answer once
    expect(page.locator(".ba-msg.bot", has_text="geboren")).to_have_count(1)
    assert user_texts_after(url, conversation, len(stored) + 1) == [*stored, "Mustermann"]
    widget.say("12.08.1964", "Straße")
    assert user_texts_after(url, conversation, len(stored) + 2) == [*stored, "Mustermann", "12.08.1964"]


def test_an_answer_lost_with_its_socket_is_shown_from_the_history_and_not_processed_again(web_stack, widget, page):
    """The other case: the turn was saved, but its answer and ack never reached the browser (the
    socket dropped). The reconnect's history holds the message with its id, so the widget shows
    it and its answer once and does not process it again."""
    url = web_stack.settings.tracker_store_url
    drop = {"on": False}
    sockets = []

    def route(ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: server.send(message))
        server.on_message(lambda message: None if drop["on"] else ws.send(message))
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), route)
    page.reload()  # Playwright routes the WebSockets of pages loaded after this
    widget.open()
    widget.say("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen")
    widget.choose("Ja", "Schritt 1 von 8")
    widget.say("Erika", "Familienname")
    assert sockets, "the widget's socket did not go through the route"
    conversation = web_stack.conversation_id(widget.token())
    stored = user_texts_after(url, conversation, 3)
    before = page.locator(".ba-msg.bot").count()  # wait_for_bot counts the greeting too
    drop["on"] = True  # from now on nothing of the server reaches the browser
    widget.say("Mustermann")
    assert user_texts_after(url, conversation, len(stored) + 1) == [*stored, "Mustermann"]
    page.wait_for_timeout(1000)  # the turn has ended on the server
    assert page.locator(".ba-msg.bot").count() == before  # the answer did not arrive
    drop["on"] = False
    sockets[-1].close()  # the network drops the socket; socket.io reconnects
    widget.wait_for_bot("geboren", after=before)
    page.wait_for_timeout(1500)
    expect(page.locator(".ba-msg.user", has_text="Mustermann")).to_have_count(1)
    expect(page.locator(".ba-msg.bot", has_text="geboren")).to_have_count(1)
    assert user_texts(url, conversation) == [*stored, "Mustermann"]
    widget.say("12.08.1964", "Straße")
    assert user_texts_after(url, conversation, len(stored) + 2) == [*stored, "Mustermann", "12.08.1964"]
