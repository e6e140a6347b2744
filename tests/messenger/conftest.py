"""Fake requests and a stand-in for Rasa's ``on_new_message`` for the messenger channel units."""

from __future__ import annotations

import json
from types import SimpleNamespace

from rasa.core.channels.channel import UserMessage


class FakeStream:
    def __init__(self, body: bytes, chunk: int = 1000) -> None:
        self.chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]

    async def read(self):
        return self.chunks.pop(0) if self.chunks else None


def fake_request(body, headers: dict[str, str]):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return SimpleNamespace(
        headers={"content-type": "application/json", **{k.lower(): v for k, v in headers.items()}},
        stream=FakeStream(raw),
        app=SimpleNamespace(ctx=SimpleNamespace(agent=None)),
    )


class FakeRasa:
    """Records what reaches Rasa and answers with a choice (two buttons), as the assistant does."""

    def __init__(self, answer: list[dict] | None = None) -> None:
        self.messages: list[UserMessage] = []
        self.answer = answer or [
            {"text": "Welche dieser Leistungen meinen Sie?"},
            {
                "text": "Bitte wählen Sie:",
                "buttons": [
                    {
                        "title": "Personalausweis beantragen",
                        "payload": '/choose_procedure{"procedure":"personalausweis_beantragen_lang_genug_fuer_64_bytes"}',
                    },
                    {"title": "Reisepass beantragen", "payload": '/choose_procedure{"procedure":"reisepass"}'},
                ],
            },
        ]

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        for m in self.answer:
            await message.output_channel.send_response(message.sender_id, m)
