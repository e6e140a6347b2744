"""The Telegram channel (rasa_runtime/channels/telegram) against a local Bot API double.

Telegram cannot be reached from here: ``tests/support/telegram_api.py`` is a double built to the
published Bot API (methods, parameters, HTML and keyboard rules, answers), which records every
call the channel makes through aiogram. Rasa is replaced by a recorder (``conftest.FakeRasa``);
the whole stack with this channel runs in ``tests/channels_suite``."""

from __future__ import annotations

import pytest
from support.telegram_api import BotApiDouble

from rasa_runtime.channels import messenger
from rasa_runtime.channels.telegram.channel import SECRET_HEADER, TelegramChannel
from rasa_runtime.channels.webchat.settings import WebChatSettings

from .conftest import FakeRasa, fake_request

TOKEN = "123456:ABC-test-token"
SECRET = "webhook-secret_1"


@pytest.fixture
async def api():
    double = BotApiDouble(TOKEN)
    await double.start_async()
    yield double
    await double.stop_async()


@pytest.fixture
async def channel(api):
    ch = TelegramChannel(
        token=TOKEN,
        webhook_secret=SECRET,
        api_url=api.url,
        limits=messenger.Limits(WebChatSettings(rate_limit=(5, 60), max_message_chars=200)),
    )
    yield ch
    await ch.bot.session.close()


async def post(channel, rasa, update, secret=SECRET):
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return await channel.receive(fake_request(update, headers), rasa)


async def test_no_network_call_at_start_up(api):
    ch = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_url=api.url)
    ch.blueprint(FakeRasa())
    ch.get_output_channel()
    assert api.calls == []
    await ch.bot.session.close()


def test_channel_needs_token_and_secret(monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    with pytest.raises(ValueError):
        TelegramChannel.from_credentials(None)
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        TelegramChannel(token="kein-token", webhook_secret=SECRET)


async def test_wrong_or_missing_secret_is_refused(channel, api):
    rasa = FakeRasa()
    for secret in (None, "", "webhook-secret_2", SECRET + "x"):
        resp = await post(channel, rasa, api.update(7, text="Hallo"), secret=secret)
        assert resp.status == 401
    assert rasa.messages == [] and api.calls == []


async def test_text_reaches_rasa_with_prefix_and_buttons_become_inline_keyboard(channel, api):
    rasa = FakeRasa()
    resp = await post(channel, rasa, api.update(42, text="Ausweis"))
    assert resp.status == 200
    assert [(m.sender_id, m.text, m.input_channel) for m in rasa.messages] == [("tg-42", "Ausweis", "telegram")]
    sent = api.sent(42)
    assert [c.params["text"] for c in sent] == ["Welche dieser Leistungen meinen Sie?", "Bitte wählen Sie:"]
    assert sent[1].params["parse_mode"] == "HTML"
    buttons = api.buttons(sent[1])
    assert [b["text"] for b in buttons] == ["Personalausweis beantragen", "Reisepass beantragen"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)

    # pressing the button: the callback query is answered, Rasa gets the button's payload
    resp = await post(channel, rasa, api.callback_update(42, buttons[0]["callback_data"]))
    assert resp.status == 200
    assert [c.method for c in api.calls].count("answerCallbackQuery") == 1
    assert rasa.messages[-1].text.startswith('/choose_procedure{"procedure":"personalausweis')
    assert rasa.messages[-1].metadata == {"display_text": "Personalausweis beantragen"}


async def test_typed_number_or_words_choose_the_option(channel, api):
    rasa = FakeRasa()
    await post(channel, rasa, api.update(43, text="Ausweis"))
    await post(channel, rasa, api.update(43, text="2"))
    assert rasa.messages[-1].text == '/choose_procedure{"procedure":"reisepass"}'
    await post(channel, rasa, api.update(43, text="die erste"))
    assert "personalausweis" in rasa.messages[-1].text
    await post(channel, rasa, api.update(43, text="Wie lange dauert das?"))
    assert rasa.messages[-1].text == "Wie lange dauert das?"


async def test_a_callback_of_another_chat_or_unknown_key_does_not_choose(channel, api):
    rasa = FakeRasa()
    await post(channel, rasa, api.update(44, text="Ausweis"))
    key = api.buttons(api.sent(44)[-1])[0]["callback_data"]
    await post(channel, rasa, api.callback_update(45, key))
    await post(channel, rasa, api.callback_update(44, "unknown"))
    assert len(rasa.messages) == 1
    assert [c.params["text"] for c in api.sent(45)] == [messenger.EXPIRED_CHOICE]
    assert api.sent(44)[-1].params["text"] == messenger.EXPIRED_CHOICE


async def test_replayed_update_is_handled_once(channel, api):
    rasa = FakeRasa()
    update = api.update(46, text="Hallo")
    assert (await post(channel, rasa, update)).status == 200
    assert (await post(channel, rasa, update)).status == 200
    assert len(rasa.messages) == 1


async def test_sticker_voice_photo_get_a_polite_answer(channel, api):
    rasa = FakeRasa()
    sticker = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False}
    voice = {"file_id": "v", "file_unique_id": "v", "duration": 3}
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    for kind in ({"sticker": sticker}, {"voice": voice}, {"photo": photo}):
        await post(channel, rasa, api.update(47, **kind))
    assert rasa.messages == []
    assert [c.params["text"] for c in api.sent(47)] == [messenger.NOT_TEXT] * 3


async def test_group_chats_are_not_served(channel, api):
    rasa = FakeRasa()
    await post(channel, rasa, api.update(-100, text="Hallo", chat_type="group"))
    assert rasa.messages == []
    assert [c.params["text"] for c in api.sent(-100)] == [messenger.GROUP]


async def test_limits(channel, api):
    rasa = FakeRasa(answer=[{"text": "ok"}])
    await post(channel, rasa, api.update(48, text="x" * 201))
    assert rasa.messages == [] and api.sent(48)[-1].params["text"].startswith("Ihre Nachricht ist zu lang")
    for _ in range(6):
        await post(channel, rasa, api.update(48, text="Hallo"))
    assert len(rasa.messages) == 5
    assert api.sent(48)[-1].params["text"] == messenger.TOO_FAST
    big = b'{"update_id": 1, "x": "' + b"a" * 70_000 + b'"}'
    assert (await channel.receive(fake_request(big, {SECRET_HEADER: SECRET}), rasa)).status == 413
    assert (await channel.receive(fake_request(b"not json", {SECRET_HEADER: SECRET}), rasa)).status == 400


async def test_links_are_checked_and_html_is_valid(channel, api, monkeypatch):
    rasa = FakeRasa(
        answer=[
            {"text": "Mehr bei [Evil](https://evil.example.com/) und <b>Fett</b> & **wichtig**"},
            {
                "text": "Bitte melden Sie sich an.",
                "buttons": [
                    {"title": "Mit Nutzerkonto anmelden", "payload": "http://127.0.0.1:8090/login/start/tg-49"}
                ],
            },
        ]
    )
    await post(channel, rasa, api.update(49, text="Hallo"))
    first, second = api.sent(49)
    assert "evil" not in first.params["text"] and "<b>wichtig</b>" in first.params["text"]
    assert "&lt;b&gt;Fett" in first.params["text"]
    assert api.buttons(second) == [
        {"text": "Mit Nutzerkonto anmelden", "url": "http://127.0.0.1:8090/login/start/tg-49"}
    ]


async def test_start_command_greets(channel, api):
    rasa = FakeRasa(answer=[{"text": "Guten Tag"}])
    await post(channel, rasa, api.update(50, text="/start"))
    assert rasa.messages[0].text == "Hallo"


async def test_receipt_pdf_is_fetched_and_sent_as_document(api, monkeypatch):
    from aiohttp import web

    pdf = b"%PDF-1.4 Eingangsbestaetigung"

    async def receipt(_request):
        return web.Response(body=pdf, content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/receipts/{token}", receipt)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    portal = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    monkeypatch.setenv("PORTAL_PUBLIC_URL", portal)  # the receipt host is on the allow-list
    ch = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_url=api.url)
    try:
        rasa = FakeRasa(
            answer=[
                {
                    "text": f"Ihre Eingangsbestätigung als PDF: [Eingangsbestätigung herunterladen]({portal}/receipts/abc)"
                }
            ]
        )
        await post(ch, rasa, api.update(51, text="Hallo"))
        text, document = api.sent(51)
        assert f'href="{portal}/receipts/abc"' in text.params["text"]
        assert document.method == "sendDocument" and document.files["document"] == pdf
    finally:
        await ch.bot.session.close()
        await runner.cleanup()


async def test_flood_of_unknown_senders_is_capped(channel, api, monkeypatch):
    monkeypatch.setattr(messenger, "NEW_CONVERSATIONS_PER_MINUTE", 2)
    channel.limits = messenger.Limits(WebChatSettings(rate_limit=(5, 60), max_message_chars=200))
    rasa = FakeRasa(answer=[{"text": "ok"}])
    for chat in (71, 72, 73):
        await post(channel, rasa, api.update(chat, text="Hallo"))
    assert [m.sender_id for m in rasa.messages] == ["tg-71", "tg-72"]
    assert api.sent(73)[-1].params["text"] == messenger.BUSY
    # a known conversation is not affected by the cap
    await post(channel, rasa, api.update(71, text="Noch eine Frage"))
    assert rasa.messages[-1].sender_id == "tg-71"
