"""Drivers of the suite for the REST channel and the web chat (socket.io, as the widget speaks)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from support.chat import RestChat, WebChat

from channels_suite.drivers import ChannelDriver, DriverFactory, Reply, register

_counter = itertools.count(1)


def _reply(message: dict) -> Reply:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    options = [str(b.get("title") or "") for b in buttons if not str(b.get("payload") or "").startswith("http")]
    links = [str(b.get("payload")) for b in buttons if str(b.get("payload") or "").startswith("http")]
    return Reply(text=message.get("text") or "", options=options, links=links)


class RestDriver(ChannelDriver):
    channel = "rest"

    def __init__(self, stack: Any) -> None:
        self.chat = RestChat(stack.settings, sender=f"suite-{next(_counter)}")
        self.conversation_id = self.chat.conversation_id
        self.messages: list[dict] = []
        self.last: list[dict] = []
        self.lock = threading.Lock()

    def say(self, text: str) -> list[Reply]:
        answer = self.chat.say(text)
        with self.lock:
            self.messages.extend(answer)
            self.last = answer
        return [_reply(m) for m in answer]

    def choose(self, title: str) -> list[Reply]:
        # The REST caller sends the button's payload, as a client with buttons does.
        for message in reversed(self.last):
            for b in message.get("buttons") or []:
                if b.get("title") == title:
                    return self.say(str(b["payload"]))
        raise AssertionError(f"no option {title!r} in {[_reply(m) for m in self.last]}")

    def received(self) -> list[Reply]:
        # Messages outside a request (trigger_intent) are in the tracker only.
        with self.lock:
            return [Reply(text=t) for t in self.chat.bot_texts()]


@register("rest")
class RestFactory(DriverFactory):
    def attach(self, stack: Any) -> None:
        self.stack = stack

    def open(self) -> ChannelDriver:
        return RestDriver(self.stack)


class WebChatDriver(ChannelDriver):
    channel = "webchat"

    def __init__(self, stack: Any) -> None:
        self.chat = WebChat(stack)
        self.conversation_id = self.chat.sender
        self.last: list[dict] = []

    def say(self, text: str) -> list[Reply]:
        self.last = self.chat.say(text)
        return [_reply(m) for m in self.last]

    def choose(self, title: str) -> list[Reply]:
        # The widget sends the button's payload with its title as display_text.
        for message in reversed(self.last):
            for b in message.get("quick_replies") or message.get("buttons") or []:
                if b.get("title") == title:
                    mark = self.chat.mark()
                    idle = self.chat.idle
                    self.chat.sio.emit(
                        "user_uttered", {"message": str(b["payload"]), "metadata": {"display_text": title}}
                    )
                    self.chat._wait(lambda idle=idle: self.chat.idle > idle, f"answer to {title!r}")
                    self.last = self.chat.messages[mark:]
                    return [_reply(m) for m in self.last]
        raise AssertionError(f"no option {title!r} in {[_reply(m) for m in self.last]}")

    def received(self) -> list[Reply]:
        with self.chat.cond:
            return [_reply(m) for m in self.chat.messages]

    def close(self) -> None:
        self.chat.close()


@register("webchat")
class WebChatFactory(DriverFactory):
    def attach(self, stack: Any) -> None:
        self.stack = stack

    def open(self) -> ChannelDriver:
        return WebChatDriver(self.stack)
