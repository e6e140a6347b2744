"""Web chat settings from the environment, with safe local defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

_VAR_DIR = Path(os.environ.get("BA_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))

# Without WEBCHAT_ALLOWED_ORIGINS only pages served from this machine may open a chat socket.
_LOOPBACK_ORIGIN = re.compile(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _rate(value: str) -> tuple[int, int]:
    count, _, seconds = value.partition("/")
    return int(count), int(seconds or 60)


@dataclass
class WebChatSettings:
    # redis://host:port/db: socket.io rooms shared by all Rasa processes (replicas), rate limits too.
    redis_url: Optional[str] = field(default_factory=lambda: os.environ.get("WEBCHAT_REDIS_URL") or None)
    redis_channel: str = field(default_factory=lambda: os.environ.get("WEBCHAT_REDIS_CHANNEL", "buergerassistent-webchat"))
    allowed_origins: list[str] = field(
        default_factory=lambda: [o.strip() for o in os.environ.get("WEBCHAT_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    )
    # How long a browser may come back to its conversation (reload, other tab, reconnect).
    session_ttl: int = field(default_factory=lambda: _int("WEBCHAT_SESSION_TTL", 24 * 3600))
    max_message_chars: int = field(default_factory=lambda: _int("WEBCHAT_MAX_MESSAGE_CHARS", 2000))
    # "<messages>/<seconds>" per conversation.
    rate_limit: tuple[int, int] = field(default_factory=lambda: _rate(os.environ.get("WEBCHAT_RATE_LIMIT", "30/60")))
    upload_dir: Path = field(default_factory=lambda: Path(os.environ.get("WEBCHAT_UPLOAD_DIR", _VAR_DIR / "uploads")))
    max_upload_bytes: int = field(default_factory=lambda: _int("WEBCHAT_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
    max_uploads_per_conversation: int = field(default_factory=lambda: _int("WEBCHAT_MAX_UPLOADS", 10))
    # "<uploads>/<seconds>" per client address (request.remote_addr when Sanic is told to trust a
    # proxy, e.g. SANIC_PROXIES_COUNT=1 / SANIC_REAL_IP_HEADER; else the peer address).
    client_upload_limit: tuple[int, int] = field(
        default_factory=lambda: _rate(os.environ.get("WEBCHAT_CLIENT_UPLOAD_LIMIT", "30/3600"))
    )

    def origin_allowed(self, origin: Optional[str]) -> bool:
        if not origin:
            return False
        if self.allowed_origins:
            return "*" in self.allowed_origins or origin in self.allowed_origins
        return bool(_LOOPBACK_ORIGIN.match(origin))
