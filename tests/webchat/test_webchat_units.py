"""Parts of the web chat channel without Rasa: sessions, rate limit, uploads, history."""

from __future__ import annotations

import time

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from support.keys import secret_key

from buergerassistent import uploads
from rasa_runtime.channels.webchat import conversations
from rasa_runtime.channels.webchat.limits import RateLimiter
from rasa_runtime.channels.webchat.sessions import SessionIssuer
from rasa_runtime.channels.webchat.settings import WebChatSettings


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    with secret_key(monkeypatch, "unit-test-key-" + "x" * 32):
        yield


async def test_sessions_resume_only_what_we_issued():
    issuer = SessionIssuer(ttl_seconds=3600)
    session = issuer.new()
    assert session.conversation_id.startswith("wc-") and len(session.conversation_id) == 35
    assert (await issuer.resume(session.token)).conversation_id == session.conversation_id
    assert await issuer.resume(session.conversation_id) is None
    assert await issuer.resume(session.token[:-2] + "xx") is None
    assert await issuer.resume({"session_id": session.token}) is None
    assert await issuer.resume("x" * 5000) is None
    await issuer.revoke(session.conversation_id)
    assert await issuer.resume(session.token) is None


async def test_old_tokens_are_renewed_expired_ones_refused():
    # The issuer's clock, not real time: a 4-second lifetime, whole seconds.
    clock = [1_000_000.0]
    issuer = SessionIssuer(ttl_seconds=4, clock=lambda: clock[0])
    session = issuer.new()
    assert (await issuer.resume(session.token)).token == session.token  # fresh: kept as is
    clock[0] += 2.2  # 1.8 s left: less than half, so renewed
    renewed = await issuer.resume(session.token)
    assert renewed.token != session.token and renewed.conversation_id == session.conversation_id
    clock[0] += 2.5
    assert await issuer.resume(session.token) is None
    assert (await issuer.resume(renewed.token)).conversation_id == session.conversation_id  # still valid


async def test_rate_limit_counts_per_conversation_over_a_sliding_window(monkeypatch):
    limiter = RateLimiter(3, 60)
    clock = [1_000_050.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    assert [await limiter.allow("a") for _ in range(3)] == [True, True, True]
    clock[0] += 15  # a fixed window would start afresh here (at 1_000_060)
    assert not await limiter.allow("a")
    assert await limiter.allow("b")
    clock[0] += 46  # the first three have left the window
    assert await limiter.allow("a")


def test_origins_default_to_this_machine(monkeypatch):
    monkeypatch.delenv("WEBCHAT_ALLOWED_ORIGINS", raising=False)
    local = WebChatSettings()
    assert local.origin_allowed("http://127.0.0.1:8000") and local.origin_allowed("http://localhost:3000")
    assert not local.origin_allowed("https://evil.example") and not local.origin_allowed(None)
    assert not local.origin_allowed("http://127.0.0.1.evil.example")
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://www.portal.example")
    portal = WebChatSettings()
    assert portal.origin_allowed("https://www.portal.example") and not portal.origin_allowed("http://127.0.0.1:8000")


def test_upload_checks_content_and_stores_privately(tmp_path):
    stored = uploads.store(tmp_path, "wc-1", b"%PDF-1.7 hello", "../../etc/Pass\u202ewort.pdf", 1024)
    assert stored.media_type == "application/pdf" and stored.name == "Passwort.pdf"
    assert stored.path.parent.parent == tmp_path and stored.path.stat().st_mode & 0o777 == 0o600
    assert uploads.count_uploads(tmp_path, "wc-1") == 1
    with pytest.raises(uploads.UploadRefused, match="Dateiart"):
        uploads.store(tmp_path, "wc-1", b"MZ\x90\x00 windows program", "scan.pdf", 1024)
    with pytest.raises(uploads.UploadRefused, match="zu groß"):
        uploads.store(tmp_path, "wc-1", b"%PDF-" + b"0" * 2048, "big.pdf", 1024)
    with pytest.raises(uploads.UploadRefused, match="leer"):
        uploads.store(tmp_path, "wc-1", b"", "leer.pdf", 1024)
    uploads.delete_all(tmp_path, "wc-1")
    assert uploads.count_uploads(tmp_path, "wc-1") == 0


def test_history_shows_the_current_session_with_button_titles():
    tracker = DialogueStateTracker.from_events(
        "wc-1",
        [
            UserUttered("alt"),
            BotUttered("alte Antwort"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered("Ich brauche eine Meldebescheinigung"),
            BotUttered("Jetzt beantragen?", {"buttons": [{"title": "Ja", "payload": "/affirm"}]}),
            UserUttered("/affirm", metadata={"display_text": "Ja"}),
        ],
        slots=Domain.empty().slots,
    )
    assert conversations.history(tracker) == [
        {"sender": "user", "text": "Ich brauche eine Meldebescheinigung"},
        {"sender": "bot", "text": "Jetzt beantragen?",
         "quick_replies": [{"content_type": "text", "title": "Ja", "payload": "/affirm"}]},
        {"sender": "user", "text": "Ja"},
    ]
