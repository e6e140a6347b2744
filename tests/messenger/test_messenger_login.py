"""Login from a messenger: the code shown after the browser login, typed into the messenger,
logs in exactly that messenger conversation and continues it (greeting and form via
``EXTERNAL_login_result``), through the same ``login_confirmation`` as the web chat and REST.

The IdP part (SAML/OIDC → result page with the code) is covered in ``tests/login``; here the
completed login is created with ``identity.complete_login`` as the login service does. Telegram
runs against the Bot API double, Threema against the gateway double; Rasa's agent is a recorder
of ``trigger_intent``."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from support.telegram_api import BotApiDouble
from support.threema_gateway import GatewayDouble

from buergerassistent import identity as ids
from rasa_runtime.channels.telegram.channel import SECRET_HEADER, TelegramChannel, TelegramOutput
from rasa_runtime.channels.threema.channel import ThreemaChannel, ThreemaOutput

from .conftest import FakeRasa, fake_request

TOKEN, SECRET = "123456:login-test", "login-secret"


class Agent:
    """What ``login_confirmation.continue_conversation`` uses of Rasa's agent."""

    def __init__(self) -> None:
        self.triggered: list[tuple[str, str, type]] = []
        self.lock_store = self
        self.processor = self

    @asynccontextmanager
    async def lock(self, conversation_id):
        yield

    async def fetch_tracker_and_update_session(self, conversation_id, output_channel):
        return conversation_id

    async def trigger_intent(self, intent, entities, output_channel, tracker):
        self.triggered.append((tracker, intent, type(output_channel)))


@pytest.fixture(autouse=True)
def identity_db(monkeypatch, tmp_path):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BA_IDENTITY_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")


def erika() -> ids.Identity:
    return ids.Identity(level="substantiell", source="oidc", subject="bpk2-erika", attributes={"given_name": "Erika"})


async def test_code_typed_in_telegram_logs_in_that_chat_only():
    api = BotApiDouble(TOKEN)
    await api.start_async()
    channel = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_url=api.url)
    agent, rasa = Agent(), FakeRasa(answer=[{"text": "ok"}])
    try:
        code = ids.complete_login("tg-61", erika())

        def request(update):
            req = fake_request(update, {SECRET_HEADER: SECRET})
            req.app.ctx.agent = agent
            return req

        # The same code typed in another chat: no login there, it is an ordinary message.
        await channel.receive(request(api.update(62, text=code)), rasa)
        assert ids.current_identity("tg-62") is None and agent.triggered == []
        # Typed in the chat the login was for: redeemed, not shown to Rasa as text, continued.
        await channel.receive(request(api.update(61, text=code)), rasa)
        assert [m.sender_id for m in rasa.messages] == ["tg-62"]
        assert ids.current_identity("tg-61").subject == "bpk2-erika"
        assert agent.triggered == [("tg-61", "EXTERNAL_login_result", TelegramOutput)]
    finally:
        await channel.bot.session.close()
        await api.stop_async()


async def test_wrong_code_in_threema_is_answered_in_german():
    gateway = GatewayDouble()
    gateway.citizen("LOGINTST")
    await gateway.start_async()
    channel = ThreemaChannel(
        gateway_id=gateway.gateway.gateway_id,
        api_secret=gateway.gateway.secret,
        private_key=gateway.gateway.private_key,
        api_url=gateway.url,
    )
    agent, rasa = Agent(), FakeRasa()
    try:
        code = ids.complete_login("th-LOGINTST", erika())
        wrong = f"{(int(code.replace('-', '')) + 1) % 10**8:08d}"

        async def say(text):
            import urllib.parse

            fields = await gateway.encrypted_callback("LOGINTST", text)
            req = fake_request(urllib.parse.urlencode(fields).encode(), {})
            req.app.ctx.agent = agent
            await channel.receive(req, rasa)

        await say(wrong)
        assert gateway.texts("LOGINTST")[-1].startswith("Dieser Code stimmt nicht.")
        await say(code)
        assert ids.current_identity("th-LOGINTST").subject == "bpk2-erika"
        assert agent.triggered == [("th-LOGINTST", "EXTERNAL_login_result", ThreemaOutput)]
        assert rasa.messages == []
    finally:
        await channel.close()
        await gateway.stop_async()
