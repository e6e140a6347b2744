"""Per-conversation rate limit over a sliding window, in Redis when several processes share the
load (a sorted set of timestamps per conversation), otherwise in this process.

While Redis cannot be reached the limit is counted in this process (issue 18): a citizen's
message is neither refused nor lost because the rate limit's store is down; each replica then
allows at most the limit by itself."""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from typing import Optional

from rasa_runtime.channels.redis_guard import RedisGuard

logger = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, limit: int, window_seconds: int, redis=None, guard: Optional[RedisGuard] = None) -> None:
        self.limit = limit
        self.window = window_seconds
        self._redis = redis
        # Shared with the channel's other Redis users: after a timeout none of them waits again.
        self._guard = guard or RedisGuard()
        self._seen: dict[str, deque] = {}
        self._redis_down = False  # logged once per outage, not per message

    async def allow(self, key: str) -> bool:
        now = time.time()
        start = now - self.window
        if self._redis is not None and not self._guard.skip():
            from redis.exceptions import RedisError

            name = f"webchat:rate:{key}"
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.zremrangebyscore(name, 0, start)
                    pipe.zadd(name, {uuid.uuid4().hex: now})
                    pipe.zcard(name)
                    pipe.expire(name, self.window + 1)
                    _, _, count, _ = await pipe.execute()
            except RedisError as error:
                self._guard.failed(error)
                if not self._redis_down:
                    logger.warning(
                        "Ratenlimit: Redis nicht erreichbar (%s), zähle in diesem Prozess", type(error).__name__
                    )
                self._redis_down = True
            else:
                self._guard.answered()
                if self._redis_down:
                    logger.warning("Ratenlimit: Redis wieder erreichbar")
                self._redis_down = False
                return count <= self.limit
        # Drop conversations that have been quiet for a whole window, so the table stays small.
        for quiet in [k for k, times in self._seen.items() if times[-1] < start]:
            del self._seen[quiet]
        times = self._seen.setdefault(key, deque())
        while times and times[0] < start:
            times.popleft()
        times.append(now)
        return len(times) <= self.limit
