"""The web chat's socket.io fan-out between Rasa replicas over Redis, bounded (issue 18).

python-socketio's ``AsyncRedisManager`` emits to this replica's sockets first and then publishes
the message for the other replicas. Its publishing client has no read timeout: a Redis that hangs
(paused, a silent network) held every ``emit`` and with it the citizen's whole turn. Here the
publishing client gives up after ``REDIS_TIMEOUT_S``, and after a timeout the fan-out is skipped
for a few seconds (``RedisGuard``, shared with the channel's revocations and rate limit) instead
of waiting again on each emit of the turn (echo, typing, every answer). What is skipped reaches
only the same chat's sockets on other replicas (a second tab); it is in the tracker and shown
with the history.

The subscribing side stays python-socketio's own, without a read timeout: a quiet channel is not
an outage, and it resubscribes by itself when Redis is back.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import socketio

from rasa_runtime.channels.redis_guard import RedisGuard
from rasa_runtime.channels.webchat.settings import REDIS_TIMEOUT_S

logger = logging.getLogger(__name__)


class BoundedRedisManager(socketio.AsyncRedisManager):
    def __init__(self, url: str, channel: str, guard: Optional[RedisGuard] = None) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": REDIS_TIMEOUT_S})
        import redis.asyncio as aioredis

        self._publisher = aioredis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
        self.guard = guard or RedisGuard()
        self._failing = False  # logged once per outage, not per emit

    async def _publish(self, data: Any) -> None:
        from redis.exceptions import RedisError

        if self.guard.skip():
            return
        try:
            await self._publisher.publish(self.channel, self.json.dumps(data))
        except RedisError as error:
            self.guard.failed(error)
            if not self._failing:
                logger.warning("Web-Chat an andere Replikate: Redis nicht erreichbar (%s)", type(error).__name__)
            self._failing = True
            return
        self.guard.answered()
        if self._failing:
            logger.warning("Web-Chat an andere Replikate: Redis wieder erreichbar")
        self._failing = False
