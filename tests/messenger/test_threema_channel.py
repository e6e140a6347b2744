"""The Threema channel (rasa_runtime/channels/threema) against a local gateway double.

Threema's servers cannot be reached from here: ``tests/support/threema_gateway.py`` follows the
documented Gateway API (pubkeys, send_e2e, the callback with its MAC) and encrypts and decrypts
with the real ``threema.gateway`` library, so a reply that is not encrypted to the citizen's
key, or a callback with a wrong MAC, fails as it would at Threema. Rasa is replaced by a
recorder (``conftest.FakeRasa``); the whole stack with this channel runs in ``tests/channels_suite``."""

from __future__ import annotations

import urllib.parse

import pytest
from support.threema_gateway import GatewayDouble

from rasa_runtime.channels import messenger
from rasa_runtime.channels.threema.channel import ThreemaChannel
from rasa_runtime.channels.webchat.settings import WebChatSettings

from .conftest import FakeRasa, fake_request

CITIZEN = "ECHOECHO"


@pytest.fixture
async def gateway():
    double = GatewayDouble()
    double.citizen(CITIZEN)
    await double.start_async()
    yield double
    await double.stop_async()


@pytest.fixture
async def channel(gateway):
    ch = ThreemaChannel(
        gateway_id=gateway.gateway.gateway_id,
        api_secret=gateway.gateway.secret,
        private_key=gateway.gateway.private_key,
        api_url=gateway.url,
        limits=messenger.Limits(WebChatSettings(rate_limit=(5, 60), max_message_chars=200)),
    )
    yield ch
    await ch.close()


async def post(channel, rasa, fields):
    body = urllib.parse.urlencode(fields).encode()
    return await channel.receive(fake_request(body, {"content-type": "application/x-www-form-urlencoded"}), rasa)


async def test_no_network_call_at_start_up(gateway):
    ch = ThreemaChannel(
        gateway_id=gateway.gateway.gateway_id,
        api_secret=gateway.gateway.secret,
        private_key=gateway.gateway.private_key,
        api_url=gateway.url,
    )
    ch.blueprint(FakeRasa())
    assert gateway.requests == [] and ch._connection is None


def test_channel_needs_its_settings_and_a_valid_key(monkeypatch):
    monkeypatch.delenv("THREEMA_GATEWAY_ID", raising=False)
    with pytest.raises(ValueError):
        ThreemaChannel.from_credentials(None)
    with pytest.raises(ValueError, match="THREEMA_PRIVATE_KEY"):
        ThreemaChannel(gateway_id="*BUERGER", api_secret="s", private_key="public:00")


async def test_text_is_decrypted_and_replies_are_encrypted_to_the_sender(channel, gateway):
    rasa = FakeRasa()
    resp = await post(channel, rasa, await gateway.encrypted_callback(CITIZEN, "Ausweis"))
    assert resp.status == 200
    assert [(m.sender_id, m.text, m.input_channel) for m in rasa.messages] == [(f"th-{CITIZEN}", "Ausweis", "threema")]
    # The double could decrypt both replies with the citizen's private key.
    first, second = gateway.texts(CITIZEN)
    assert first == "Welche dieser Leistungen meinen Sie?"
    assert "1. Personalausweis beantragen\n2. Reisepass beantragen" in second
    # The sender's public key was looked up at the gateway (once; the library caches it).
    assert [r[0] for r in gateway.requests].count("pubkeys") == 1


async def test_numbered_options_are_answered_with_number_or_words(channel, gateway):
    rasa = FakeRasa()
    await post(channel, rasa, await gateway.encrypted_callback(CITIZEN, "Ausweis"))
    await post(channel, rasa, await gateway.encrypted_callback(CITIZEN, "2"))
    assert rasa.messages[-1].text == '/choose_procedure{"procedure":"reisepass"}'
    assert rasa.messages[-1].metadata == {"display_text": "Reisepass beantragen"}
    await post(channel, rasa, await gateway.encrypted_callback(CITIZEN, "Personalausweis"))
    assert "personalausweis" in rasa.messages[-1].text


async def test_wrong_mac_or_wrong_recipient_is_refused(channel, gateway):
    rasa = FakeRasa()
    fields = await gateway.encrypted_callback(CITIZEN, "Hallo")
    forged = {**fields, "mac": "0" * 64}
    assert (await post(channel, rasa, forged)).status == 401
    missing = {k: v for k, v in fields.items() if k != "mac"}
    assert (await post(channel, rasa, missing)).status == 401
    tampered = {**fields, "box": fields["box"][:-2] + ("00" if fields["box"][-2:] != "00" else "11")}
    assert (await post(channel, rasa, tampered)).status == 401  # the MAC covers the box
    assert rasa.messages == [] and gateway.texts(CITIZEN) == []


async def test_replayed_callback_is_handled_once(channel, gateway):
    rasa = FakeRasa(answer=[{"text": "Guten Tag"}])
    fields = await gateway.encrypted_callback(CITIZEN, "Hallo")
    assert (await post(channel, rasa, fields)).status == 200
    assert (await post(channel, rasa, fields)).status == 200
    assert len(rasa.messages) == 1 and gateway.texts(CITIZEN) == ["Guten Tag"]


async def test_non_text_gets_a_polite_answer(channel, gateway):
    rasa = FakeRasa()
    assert (await post(channel, rasa, await gateway.image_callback(CITIZEN))).status == 200
    assert rasa.messages == []
    assert gateway.texts(CITIZEN) == [messenger.NOT_TEXT]


async def test_limits(channel, gateway):
    rasa = FakeRasa(answer=[{"text": "ok"}])
    await post(channel, rasa, await gateway.encrypted_callback(CITIZEN, "x" * 201))
    assert rasa.messages == [] and gateway.texts(CITIZEN)[-1].startswith("Ihre Nachricht ist zu lang")
    for _ in range(6):
        await post(channel, rasa, await gateway.encrypted_callback(CITIZEN, "Hallo"))
    assert len(rasa.messages) == 5 and gateway.texts(CITIZEN)[-1] == messenger.TOO_FAST


async def test_links_bold_and_case_number(channel, gateway):
    rasa = FakeRasa(
        answer=[
            {
                "text": "Ihr Aktenzeichen lautet MB-2026-ABCD1234. [Evil](https://evil.example.com/x)",
                "custom": {"type": "case_number", "case_number": "MB-2026-ABCD1234"},
            }
        ]
    )
    await post(channel, rasa, await gateway.encrypted_callback(CITIZEN, "Hallo"))
    (text,) = gateway.texts(CITIZEN)
    assert "*MB-2026-ABCD1234*" in text and "evil" not in text and text.endswith("Evil")


async def test_receipt_pdf_is_sent_as_encrypted_file(gateway, monkeypatch):
    from aiohttp import web

    pdf = b"%PDF-1.4 Eingangsbestaetigung " + bytes(range(256))

    async def receipt(_request):
        return web.Response(body=pdf, content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/receipts/{token}", receipt)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    portal = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    monkeypatch.setenv("PORTAL_PUBLIC_URL", portal)
    ch = ThreemaChannel(
        gateway_id=gateway.gateway.gateway_id,
        api_secret=gateway.gateway.secret,
        private_key=gateway.gateway.private_key,
        api_url=gateway.url,
    )
    try:
        link = f"{portal}/receipts/abc"
        rasa = FakeRasa(
            answer=[{"text": f"Ihre Eingangsbestätigung als PDF: [Eingangsbestätigung herunterladen]({link})"}]
        )
        await post(ch, rasa, await gateway.encrypted_callback(CITIZEN, "Hallo"))
        text, file = gateway.texts(CITIZEN)
        assert link in text and file == "<Datei Eingangsbestaetigung.pdf>"
        # The double downloaded the (encrypted) blob and decrypted it with the key in the message.
        assert gateway.files[CITIZEN] == [("Eingangsbestaetigung.pdf", "application/pdf", pdf)]
        assert pdf not in gateway.blobs.values()  # only ciphertext was uploaded
    finally:
        await ch.close()
        await runner.cleanup()
