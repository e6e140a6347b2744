"""Suite drivers for Telegram (Bot API double) and Threema (gateway double).

Neither service can be reached from here; the doubles (``tests/support/telegram_api.py``,
``tests/support/threema_gateway.py``) follow the published APIs. The citizen's side is played
by the double: it posts updates / encrypted callbacks to Rasa's webhook and records what the
channel sends back (Threema: decrypted with the citizen's key)."""

from __future__ import annotations

import html
import itertools
import re
import secrets
import string
from pathlib import Path
from typing import Any

from support.telegram_api import BotApiDouble
from support.threema_gateway import GatewayDouble

from channels_suite.drivers import ChannelDriver, DriverFactory, Reply, register

_TAG = re.compile(r"<[^>]+>")
_HREF = re.compile(r'<a href="([^"]+)"')
_OPTION = re.compile(r"^(\d{1,2})\. (.+)$", re.M)


# --------------------------------------------------------------------------- Telegram


def telegram_reply(double: BotApiDouble, call) -> Reply:
    if call.method == "sendDocument":
        return Reply(text="", files=["document.pdf"])
    raw = str(call.params.get("text") or "")
    buttons = double.buttons(call)
    return Reply(
        text=html.unescape(_TAG.sub("", raw)),
        options=[b["text"] for b in buttons if "callback_data" in b],
        links=[html.unescape(u) for u in _HREF.findall(raw)] + [b["url"] for b in buttons if "url" in b],
    )


class TelegramDriver(ChannelDriver):
    channel = "telegram"

    def __init__(self, double: BotApiDouble, chat_id: int) -> None:
        self.double = double
        self.chat_id = chat_id
        self.conversation_id = f"tg-{chat_id}"
        self.last: list[Any] = []

    def _turn(self, post) -> list[Reply]:
        mark = len(self.double.sent(self.chat_id))
        status = post()
        assert status == 200, status
        self.last = self.double.sent(self.chat_id)[mark:]
        return [telegram_reply(self.double, c) for c in self.last]

    def say(self, text: str) -> list[Reply]:
        return self._turn(lambda: self.double.send_text(self.chat_id, text))

    def choose(self, title: str) -> list[Reply]:
        for call in reversed(self.last):
            for button in self.double.buttons(call):
                if button.get("text") == title and "callback_data" in button:
                    return self._turn(lambda b=button: self.double.press(self.chat_id, b["callback_data"]))
        raise AssertionError(f"no button {title!r}")

    def received(self) -> list[Reply]:
        return [telegram_reply(self.double, c) for c in self.double.sent(self.chat_id)]


@register("telegram")
class TelegramFactory(DriverFactory):
    TOKEN = "4242:suite-token"

    def environment(self, var_dir: Path) -> dict[str, str]:
        self.secret = secrets.token_urlsafe(24)
        self.double = BotApiDouble(self.TOKEN).start()
        self.chats = itertools.count(7_000_001)
        return {
            "TELEGRAM_BOT_TOKEN": self.TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": self.secret,
            "TELEGRAM_API_URL": self.double.url,
        }

    def attach(self, stack: Any) -> None:
        # What the operator does once (docs/messengers.md): setWebhook with the secret.
        self.double.webhook = f"{stack.settings.rasa_url}/webhooks/telegram/webhook"
        self.double.secret = self.secret

    def open(self) -> ChannelDriver:
        return TelegramDriver(self.double, next(self.chats))

    def close(self) -> None:
        self.double.stop()


# --------------------------------------------------------------------------- Threema


def threema_reply(text: str) -> Reply:
    if text.startswith("<Datei "):
        return Reply(text="", files=[text[len("<Datei ") : -1]])
    options = [title for _, title in _OPTION.findall(text)]
    links = re.findall(r"https?://\S+", text)
    return Reply(text=text.replace("*", ""), options=options, links=links)


class ThreemaDriver(ChannelDriver):
    channel = "threema"

    def __init__(self, double: GatewayDouble, threema_id: str) -> None:
        self.double = double
        self.threema_id = threema_id
        double.citizen(threema_id)
        self.conversation_id = f"th-{threema_id}"
        self.last: list[Reply] = []

    def say(self, text: str) -> list[Reply]:
        mark = len(self.double.texts(self.threema_id))
        status = self.double.send_text(self.threema_id, text)
        assert status == 200, status
        self.last = [threema_reply(t) for t in self.double.texts(self.threema_id)[mark:]]
        return self.last

    def choose(self, title: str) -> list[Reply]:
        # A Threema citizen types the number shown before the option.
        for reply in reversed(self.last):
            if title in reply.options:
                return self.say(str(reply.options.index(title) + 1))
        raise AssertionError(f"no option {title!r} in {self.last}")

    def received(self) -> list[Reply]:
        return [threema_reply(t) for t in self.double.texts(self.threema_id)]


@register("threema")
class ThreemaFactory(DriverFactory):
    def environment(self, var_dir: Path) -> dict[str, str]:
        self.double = GatewayDouble().start()
        gw = self.double.gateway
        return {
            "THREEMA_GATEWAY_ID": gw.gateway_id,
            "THREEMA_API_SECRET": gw.secret,
            "THREEMA_PRIVATE_KEY": gw.private_key,
            "THREEMA_API_URL": self.double.url,
        }

    def attach(self, stack: Any) -> None:
        self.double.callback_url = f"{stack.settings.rasa_url}/webhooks/threema/callback"

    def open(self) -> ChannelDriver:
        alphabet = string.ascii_uppercase + string.digits
        return ThreemaDriver(self.double, "".join(secrets.choice(alphabet) for _ in range(8)))

    def close(self) -> None:
        self.double.stop()
