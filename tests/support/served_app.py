"""An aiohttp test double on a free loopback port, run in the test's own event loop
(``start_async``/``stop_async``) or in a thread of its own for tests that drive a whole stack
(``start``/``stop``). The Telegram Bot API and Threema Gateway doubles build on it."""

from __future__ import annotations

import asyncio
import threading
from typing import Optional

from aiohttp import web


class ServedApp:
    """Subclasses set ``host`` and implement ``app()``; ``port`` is known once started."""

    host = "127.0.0.1"
    port = 0
    _runner: Optional[web.AppRunner] = None
    _loop: Optional[asyncio.AbstractEventLoop] = None
    _thread: Optional[threading.Thread] = None

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start_async(self) -> None:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop_async(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def start(self):
        """In a thread of its own; returns the double once it listens."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start_async())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop:
            asyncio.run_coroutine_threadsafe(self.stop_async(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
