"""Channel drivers of the conversation suite (``tests/channels_suite/``).

The suite's journeys (``test_journeys.py``) are written once against :class:`ChannelDriver`: a
citizen who types text, chooses an offered option and reads the answers as that channel shows
them. Each channel brings a :class:`DriverFactory` registered with :func:`register`:

* ``environment(var_dir)`` → settings every service of the stack needs for the channel (a
  messenger's token, the address of its double or of a test homeserver). It may start what the
  channel needs outside the stack (a Bot API double, a gateway double, Synapse).
* ``attach(stack)`` → called once the stack runs (e.g. to point a double's webhook at Rasa).
* ``open()`` → a new conversation (a new citizen) as a :class:`ChannelDriver`.
* ``close()`` → stops what ``environment`` started.

Adding a channel (e.g. Matrix): a module ``tests/channels_suite/driver_<name>.py`` with a factory
decorated ``@register("<name>")`` and its import in ``tests/channels_suite/conftest.py``
(``DRIVER_MODULES``). Every registered channel runs every journey.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The case number as every channel shows it (text of the assistant's answer to "Ja, absenden").
CASE_NUMBER = re.compile(r"\b([A-Z]{2}-\d{4}-[0-9A-Z]{8})\b")


@dataclass
class Reply:
    """One bot message as the citizen sees it in that channel."""

    text: str
    options: list[str] = field(default_factory=list)  # titles of buttons / numbered options
    links: list[str] = field(default_factory=list)  # addresses the citizen can open
    files: list[str] = field(default_factory=list)  # names of documents sent as files


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


class ChannelDriver(ABC):
    """One citizen's conversation in one channel."""

    channel: str = ""
    # Rasa's sender id of this conversation ("rest-…", "wc-…", "tg-…", "th-…", "mx-…").
    conversation_id: str = ""

    @abstractmethod
    def say(self, text: str) -> list[Reply]:
        """Type ``text``; the assistant's answers to it."""

    def choose(self, title: str) -> list[Reply]:
        """Choose the offered option ``title`` the way a citizen does in this channel (press the
        button; in messengers with numbered options: type its number). Default: type the title."""
        return self.say(title)

    @abstractmethod
    def received(self) -> list[Reply]:
        """Everything the assistant sent in this conversation so far (also outside a turn:
        status notifications, login results)."""

    def wait_for(self, needle: str, timeout: float = 90, after: int = 0) -> list[Reply]:
        """The messages from index ``after`` on, once one of them contains ``needle``."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.received()[after:]
            if any(needle in r.text for r in got):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.channel}: no {needle!r} in {[r.text for r in got]}")
            time.sleep(0.3)

    def say_text(self, text: str) -> str:
        return joined(self.say(text))

    def close(self) -> None:  # noqa: B027 - optional
        pass


class DriverFactory(ABC):
    name: str = ""

    def environment(self, var_dir: Path) -> dict[str, str]:
        return {}

    def attach(self, stack: Any) -> None:  # noqa: B027 - optional
        pass

    @abstractmethod
    def open(self) -> ChannelDriver: ...

    def close(self) -> None:  # noqa: B027 - optional
        pass


FACTORIES: dict[str, Callable[[], DriverFactory]] = {}


def register(name: str) -> Callable[[type[DriverFactory]], type[DriverFactory]]:
    def decorate(cls: type[DriverFactory]) -> type[DriverFactory]:
        cls.name = name
        FACTORIES[name] = cls
        return cls

    return decorate
