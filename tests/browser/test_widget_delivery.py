"""Messages that do not answer a request, tabs, reconnects, deletion, uploads and hostile text,
in Chromium against the real stack."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import stat
import urllib.error
import urllib.request

import pytest
import socketio
from playwright.sync_api import expect

from buergerassistent import uploads

pytestmark = pytest.mark.e2e

XSS = '<img src=x onerror="window.__xss=true"><script>window.__xss=true</script>'
FILE_XSS = '<img src=x onerror="window.__xss=true">'  # a file name cannot hold "/"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def trigger_intent(web_stack, conversation_id: str, intent: str) -> None:
    """What our own processes do (login callback, receipt delivery): Rasa's HTTP API with its token."""
    url = (
        f"{web_stack.rasa_url}/conversations/{conversation_id}/trigger_intent"
        f"?output_channel=latest&token={web_stack.settings.rasa_api_token}"
    )
    request = urllib.request.Request(
        url, data=json.dumps({"name": intent}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 200


def publish_from_other_replica(web_stack, conversation_id: str, message: dict) -> None:
    """Emit as another Rasa replica would: through the shared Redis, not through this process."""

    async def publish():
        manager = socketio.AsyncRedisManager(web_stack.redis_url, channel="buergerassistent-webchat", write_only=True)
        await manager.emit("bot_uttered", message, room=conversation_id, namespace="/")
        await asyncio.sleep(0.2)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish()).result(timeout=20)


def test_message_produced_outside_a_request_reaches_the_open_widget(widget, web_stack):
    widget.open()
    widget.say("Hilfe", "in eigenen Worten")
    expect(widget.bot.filter(has_text="Guten Tag")).to_have_count(0)
    trigger_intent(web_stack, web_stack.conversation_id(widget.token()), "greet")
    widget.wait_for_bot("Guten Tag")


def test_reconnect_after_network_loss_loses_nothing(widget, web_stack, context):
    page = widget.page
    widget.open()
    widget.say("Hallo", "Bürgerassistent")
    greetings = widget.bot.filter(has_text="Guten Tag")
    expect(greetings).to_have_count(1)
    conversation_id = web_stack.conversation_id(widget.token())
    context.set_offline(True)
    page.evaluate("window.Buergerassistent.socket.io.engine.close()")
    expect(page.get_by_role("status").filter(has_text="Verbindung ist unterbrochen")).to_be_visible()
    # Written while offline: kept and sent after the reconnect.
    widget.say("Ich brauche eine Meldebescheinigung")
    # Produced while the user is offline: delivered from the server's record after the reconnect.
    trigger_intent(web_stack, conversation_id, "greet")
    page.wait_for_timeout(500)
    expect(greetings).to_have_count(1)  # really offline: nothing arrived
    context.set_offline(False)
    widget.wait_for_bot("jetzt hier im Chat beantragen")
    expect(page.get_by_role("status").filter(has_text="Verbindung ist unterbrochen")).to_have_count(0)
    expect(greetings).to_have_count(2)
    expect(widget.user.filter(has_text="Ich brauche eine Meldebescheinigung")).to_have_count(1)


def test_message_from_another_replica_with_login_button(widget, web_stack):
    if web_stack.redis_url is None:
        pytest.skip("redis-server fehlt (siehe .ci/apt-packages.txt)")
    page = widget.page
    widget.open()
    widget.say("Hallo", "Bürgerassistent")
    publish_from_other_replica(
        web_stack,
        web_stack.conversation_id(widget.token()),
        {
            # Straight into the room, past the server's link filter: the widget checks again.
            "text": "Bitte melden Sie sich an. [Hier klicken](https://evil.example/a) oder https://evil.example/b",
            "quick_replies": [
                {
                    "content_type": "text",
                    "title": "Mit Nutzerkonto anmelden",
                    "payload": "https://id.example.org/login?ticket=abc",
                },
                {"content_type": "text", "title": "Böser Knopf", "payload": "javascript:window.__xss=3"},
                {"content_type": "text", "title": "Fremde Seite", "payload": "https://evil.example/c"},
            ],
        },
    )
    message = widget.wait_for_bot("Bitte melden Sie sich an.")
    login = message.get_by_role("link", name="Mit Nutzerkonto anmelden")
    expect(login).to_have_attribute("href", "https://id.example.org/login?ticket=abc")
    expect(login).to_have_attribute("target", "_blank")
    expect(login).to_have_attribute("rel", "noopener noreferrer")
    # A non-web address is never a link: it stays an ordinary answer button.
    expect(message.get_by_role("link", name="Böser Knopf")).to_have_count(0)
    expect(message.get_by_role("button", name="Böser Knopf")).to_be_visible()
    assert page.evaluate("window.__xss") is None
    # Links to hosts outside the allow-list are plain text (the words, not the address).
    expect(message.locator("a[href*='evil.example']")).to_have_count(0)
    expect(message.get_by_text("Fremde Seite")).to_have_count(0)
    assert "Hier klicken" in message.inner_text()


def test_user_text_and_its_echo_are_shown_as_text(widget, web_stack):
    page = widget.page
    widget.open()
    widget.say("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen")
    widget.choose("Ja", "Schritt 1 von 8")
    # Refused as a name: the bot explains and asks again.
    widget.say(XSS)
    expect(widget.bot.filter(has_text="Schritt 1 von 8")).to_have_count(2)
    # The file name of an upload is echoed in full in the receipt.
    page.locator("input[type=file]").set_input_files(
        files=[{"name": f"{FILE_XSS}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    receipt = widget.wait_for_bot("ist angekommen")
    assert f"„{FILE_XSS}.pdf“" in receipt.inner_text()
    expect(widget.user.filter(has_text=XSS)).to_have_count(1)
    page.reload()
    expect(widget.dialog).to_be_visible()
    expect(widget.bot.filter(has_text="ist angekommen")).to_have_count(1)
    for locator in (widget.user.filter(has_text=XSS), widget.bot.filter(has_text=FILE_XSS)):
        expect(locator.first).to_be_visible()
    assert page.locator(".ba-log img, .ba-log script").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None


def test_upload_is_checked_and_stored_outside_the_web_root(widget, web_stack):
    page = widget.page
    widget.open()
    widget.say("Hallo", "Bürgerassistent")
    file_input = page.locator("input[type=file]")
    file_input.set_input_files(files=[{"name": "Ausweis.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    widget.wait_for_bot("Ihr Dokument „Ausweis.pdf“")
    # HTML dressed up as a PDF is refused: the server looks at the content, not the name.
    file_input.set_input_files(
        files=[{"name": "rechnung.pdf", "mimeType": "application/pdf", "buffer": b"<html><script>alert(1)</script>"}]
    )
    expect(page.locator(".ba-msg.error", has_text="Dateiart")).to_be_visible()

    folder = uploads.conversation_dir(web_stack.settings.var_dir / "uploads", web_stack.conversation_id(widget.token()))
    stored = list(folder.glob("*.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == PDF
    assert stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    assert "Ausweis" not in str(stored[0])  # random name on disk

    token = widget.token()
    for headers, expected in (
        ({}, 401),
        ({"Authorization": "Bearer forged"}, 401),
        ({"Authorization": f"Bearer {token}"}, 413),
    ):
        request = urllib.request.Request(
            f"{web_stack.rasa_url}/webhooks/webchat/upload", data=b"%PDF-" + b"0" * (10 * 1024 * 1024), headers=headers
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=30)
        assert err.value.code == expected


def test_tabs_share_the_conversation_and_delete_removes_it_everywhere(widget, web_stack, context, widget_on):
    page = widget.page
    widget.open()
    widget.say("Ich brauche eine Meldebescheinigung", "jetzt hier im Chat beantragen")
    token = widget.token()
    conversation_id = web_stack.conversation_id(token)
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "a.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    widget.wait_for_bot("ist angekommen")
    upload_dir = uploads.conversation_dir(web_stack.settings.var_dir / "uploads", conversation_id)
    assert any(upload_dir.iterdir())

    second = widget_on(context.new_page())
    second.page.goto(web_stack.demo_url + "/")
    second.open()
    second.wait_for_bot("jetzt hier im Chat beantragen")
    # Written in the second tab, shown in the first.
    second.say("Ja", "Schritt 1 von 8")
    expect(widget.user.filter(has_text="Ja")).to_have_count(1)
    widget.wait_for_bot("Schritt 1 von 8")

    page.get_by_role("button", name="Gespräch löschen").click()
    page.get_by_role("button", name="Ja, löschen").click()
    for tab in (widget, second):
        expect(tab.page.locator(".ba-msg", has_text="Das Gespräch wurde gelöscht.")).to_be_visible()
        expect(tab.bot).to_have_count(0)
        expect(tab.user).to_have_count(0)
    assert web_stack.tracker_rows(conversation_id) == 0
    assert not upload_dir.exists()
    # The widget asks for a new session after the deletion; under load it arrives a moment later.
    page.wait_for_function(
        "old => { const t = localStorage.getItem('buergerassistent.session'); return !!t && t !== old; }", arg=token
    )
    new_token = widget.token()
    assert new_token and web_stack.conversation_id(new_token) != conversation_id
    page.reload()
    expect(widget.dialog).to_be_visible()
    expect(widget.bot.filter(has_text="jetzt hier im Chat beantragen")).to_have_count(0)
