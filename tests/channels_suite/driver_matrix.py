"""Matrix in the conversation suite: a real Synapse (``support.synapse``), the stack's Matrix
connector, and per conversation a citizen with an encrypting client who opens an encrypted
direct chat (as Element does) and chooses options by reacting to the question with the option's
keycap (1️⃣ …; typing the number is tried in ``tests/matrix/test_matrix_conversation.py``)."""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from pathlib import Path

from support.matrix_citizen import CitizenThread, Received
from support.synapse import Synapse, memory_dir

from buergerassistent.messenger_format import OPTIONS_HINT
from channels_suite.drivers import ChannelDriver, DriverFactory, Reply, register
from matrix_connector.reactions import keycap

HINT = OPTIONS_HINT  # Matrix says more after it: which reactions answer
_OPTION = re.compile(r"^(\d+)\. (.+)$")
_HREF = re.compile(r'href="([^"]+)"')


def to_reply(message: Received) -> Reply:
    lines = message.body.splitlines()
    options: list[str] = []
    hint = next((n for n, line in enumerate(lines) if line.startswith(HINT)), None)
    if hint is not None:
        index = hint - 1
        while index >= 0 and _OPTION.match(lines[index]):
            options.insert(0, _OPTION.match(lines[index]).group(2))
            index -= 1
    files = [message.body] if message.msgtype == "m.file" else []
    return Reply(text=message.body, options=options, links=_HREF.findall(message.html or ""), files=files)


class MatrixDriver(ChannelDriver):
    channel = "matrix"

    def __init__(self, synapse: Synapse, bot_id: str):
        self.citizen = CitizenThread(synapse, bot_id)
        self.citizen.open(encrypted=True)
        self._last: list[Received] = []

    def say(self, text: str) -> list[Reply]:
        return self._keep(self.citizen.say(text))

    def _keep(self, messages: list[Received]) -> list[Reply]:
        self._last = messages
        return [to_reply(m) for m in messages]

    def choose(self, title: str) -> list[Reply]:
        for message in reversed(self._last):
            options = to_reply(message).options
            if title in options:
                number = options.index(title) + 1
                if number > 10:  # no keycap beyond 🔟
                    return self.say(str(number))
                return self._keep(self.citizen.react(message, keycap(number)))
        return self.say(title)

    def received(self) -> list[Reply]:
        log = self.citizen.citizen.rooms.get(self.citizen.room_id)
        return [to_reply(m) for m in (log.messages if log else [])]

    def close(self) -> None:
        self.citizen.close()


@register("matrix")
class MatrixFactory(DriverFactory):
    def environment(self, var_dir: Path) -> dict[str, str]:
        self.workdir = Path(tempfile.mkdtemp(prefix="suite-synapse-"))
        self.database_dir = memory_dir("suite-synapse-db-")  # see support.synapse.Synapse
        self.synapse = Synapse(self.workdir, database_dir=self.database_dir).start()
        self.bot = self.synapse.register_user(f"assistent-{secrets.token_hex(3)}")
        return {
            "MATRIX_HOMESERVER_URL": self.synapse.base_url,
            "MATRIX_USER_ID": self.bot.user_id,
            "MATRIX_PASSWORD": self.bot.password,
        }

    def open(self) -> ChannelDriver:
        return MatrixDriver(self.synapse, self.bot.user_id)

    def close(self) -> None:
        self.synapse.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.database_dir, ignore_errors=True)
