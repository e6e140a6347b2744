"""Whether waiting for a channel's Redis is worth it (issue 18).

Each Redis command of a channel gives up after ``REDIS_TIMEOUT_S`` (webchat/settings.py). A
Redis that hangs would still cost that wait at every step of a message (revocation, rate limit,
each socket.io emit of the turn). After a timeout the channel's parts skip Redis for
``RETRY_AFTER_S`` and use their fallback straight away (the revocation table, the rate limit in
the process, no fan-out); then one call tries again. A refused connection fails at once and
needs no pause, so only timeouts start one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Optional

RETRY_AFTER_S = 5.0


class RedisGuard:
    def __init__(self, retry_after: float = RETRY_AFTER_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_after = retry_after
        self.clock = clock
        self._timed_out_at: Optional[float] = None

    def skip(self) -> bool:
        """True while the last call timed out less than ``retry_after`` seconds ago."""
        return self._timed_out_at is not None and self.clock() - self._timed_out_at < self.retry_after

    def failed(self, error: BaseException) -> None:
        from redis.exceptions import TimeoutError as RedisTimeout

        if isinstance(error, RedisTimeout):
            self._timed_out_at = self.clock()

    def answered(self) -> None:
        self._timed_out_at = None
