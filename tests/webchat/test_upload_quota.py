"""Upload quotas are reserved atomically: per conversation and per client address.

Attack (issue 13): 16 parallel uploads in one conversation stored 11 of 10 allowed, because the
channel counted the stored files and only then stored the new one."""

from __future__ import annotations

import asyncio
import json

import pytest

from buergerassistent import uploads
from rasa_runtime.channels.webchat.settings import WebChatSettings
from support.keys import secret_key

PDF = b"%PDF-1.7 " + b"x" * 2048


class FakeStream:
    def __init__(self, body: bytes):
        self.chunks = [body[: len(body) // 2], body[len(body) // 2:]]

    async def read(self):
        await asyncio.sleep(0.01)  # a slow network: the others run in between
        return self.chunks.pop(0) if self.chunks else None


class FakeRequest:
    def __init__(self, token: str, body: bytes = PDF, ip: str = "198.51.100.7"):
        self.headers = {"authorization": f"Bearer {token}", "content-length": str(len(body)), "x-file-name": "a.pdf"}
        self.stream = FakeStream(body)
        self.ip = ip
        self.remote_addr = ""


@pytest.fixture
def channel(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("WEBCHAT_REDIS_URL", raising=False)
    from rasa_runtime.channels.webchat.channel import WebChatInput

    with secret_key(monkeypatch, "unit-test-key-" + "x" * 32):
        settings = WebChatSettings(upload_dir=tmp_path / "uploads", rate_limit=(1000, 60),
                                   max_uploads_per_conversation=10, client_upload_limit=(25, 3600))
        yield WebChatInput(settings=settings)


async def test_sixteen_parallel_uploads_store_exactly_ten(channel):
    session = channel.sessions.new()
    results = await asyncio.gather(*[channel._upload(FakeRequest(session.token)) for _ in range(16)])
    statuses = sorted(r.status for r in results)
    assert statuses == [201] * 10 + [409] * 6
    assert uploads.count_uploads(channel.settings.upload_dir, session.conversation_id) == 10
    refused = next(r for r in results if r.status == 409)
    assert "10 Dokumente" in json.loads(refused.body)["message"]


async def test_a_refused_file_does_not_use_up_a_slot(channel):
    session = channel.sessions.new()
    for _ in range(12):
        assert (await channel._upload(FakeRequest(session.token, b"MZ not a pdf"))).status == 415
    results = await asyncio.gather(*[channel._upload(FakeRequest(session.token)) for _ in range(10)])
    assert [r.status for r in results] == [201] * 10


async def test_one_address_cannot_upload_without_limit_through_many_conversations(channel):
    sessions = [channel.sessions.new() for _ in range(4)]
    results = await asyncio.gather(*[channel._upload(FakeRequest(s.token)) for s in sessions for _ in range(8)])
    assert sorted(r.status for r in results).count(201) == 25
    assert {r.status for r in results} == {201, 429}
    # Another address is not affected.
    other = channel.sessions.new()
    assert (await channel._upload(FakeRequest(other.token, ip="203.0.113.9"))).status == 201
    # The address is not stored, only a keyed hash.
    names = " ".join(p.name for p in (channel.settings.upload_dir / ".clients").iterdir())
    assert "198.51.100.7" not in names and uploads.client_key("198.51.100.7") in names


def test_the_client_window_passes(tmp_path, monkeypatch):
    with secret_key(monkeypatch, "unit-test-key-" + "x" * 32):
        assert all(uploads.reserve_client_slot(tmp_path, "1.2.3.4", 2, 60, now=120.0 + i) for i in range(2))
        assert uploads.reserve_client_slot(tmp_path, "1.2.3.4", 2, 60, now=150.0) is None
        assert uploads.reserve_client_slot(tmp_path, "1.2.3.4", 2, 60, now=181.0) is not None
        assert len(list((tmp_path / ".clients").iterdir())) == 1  # the old window is gone
