"""Web chat settings, from ``buergerassistent.settings`` (WEBCHAT_*), with safe local defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from buergerassistent.settings import get_settings

# Seconds a channel's Redis may take to connect or to answer one command. Without a bound a Redis
# that hangs (not down, just silent) holds the citizen's message for ever; with it the rate limit
# counts in the process and the lock store answers the outage notice (issue 18).
REDIS_TIMEOUT_S = 3

# Without WEBCHAT_ALLOWED_ORIGINS only pages served from this machine may open a chat socket.
_LOOPBACK_ORIGIN = re.compile(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$")


def _rate(value: str) -> tuple[int, int]:
    count, _, seconds = value.partition("/")
    return int(count), int(seconds or 60)


@dataclass
class WebChatSettings:
    # redis://host:port/db: socket.io rooms shared by all Rasa processes (replicas), rate limits too.
    redis_url: Optional[str] = field(default_factory=lambda: get_settings().webchat_redis_url or None)
    redis_channel: str = field(default_factory=lambda: get_settings().webchat_redis_channel)
    allowed_origins: list[str] = field(
        default_factory=lambda: [o.strip() for o in get_settings().webchat_allowed_origins.split(",") if o.strip()]
    )
    # How long a browser may come back to its conversation (reload, other tab, reconnect).
    session_ttl: int = field(default_factory=lambda: get_settings().webchat_session_ttl)
    max_message_chars: int = field(default_factory=lambda: get_settings().webchat_max_message_chars)
    # "<messages>/<seconds>" per conversation.
    rate_limit: tuple[int, int] = field(default_factory=lambda: _rate(get_settings().webchat_rate_limit))
    upload_dir: Path = field(default_factory=lambda: get_settings().upload_dir)
    max_upload_bytes: int = field(default_factory=lambda: get_settings().webchat_max_upload_bytes)
    max_uploads_per_conversation: int = field(default_factory=lambda: get_settings().webchat_max_uploads)
    # "<uploads>/<seconds>" per client address (request.remote_addr when Sanic is told to trust a
    # proxy, e.g. SANIC_PROXIES_COUNT=1 / SANIC_REAL_IP_HEADER; else the peer address).
    client_upload_limit: tuple[int, int] = field(
        default_factory=lambda: _rate(get_settings().webchat_client_upload_limit)
    )

    def redis_client(self):
        """The channels' Redis client (web chat, REST, messengers), or None without ``redis_url``."""
        if not self.redis_url:
            return None
        import redis.asyncio as aioredis

        return aioredis.from_url(
            self.redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )

    def origin_allowed(self, origin: Optional[str]) -> bool:
        if not origin:
            return False
        if self.allowed_origins:
            return "*" in self.allowed_origins or origin in self.allowed_origins
        return bool(_LOOPBACK_ORIGIN.match(origin))
