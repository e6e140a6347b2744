"""A Sanic server shaped like Rasa's web chat, for tests/ops/test_graceful_shutdown.py.

    python tests/ops/graceful_app.py PORT REDIS_URL SAVED_FILE TURN_SECONDS [--plain] [--grace S]

``POST /say/<conversation>`` answers at once and runs the turn as a task of its own, as a
socket.io packet does (its HTTP request is over before the turn ends). The turn takes the
conversation's ticket in the real Redis lock store (rasa_runtime/lock_store.py), works for
TURN_SECONDS, appends "<conversation> saved" to SAVED_FILE (Rasa saves a turn at its end) and
gives the ticket back. ``GET /`` is the health check. ``--plain``: without
rasa_runtime/shutdown.py, as Rasa ran before.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sanic import Sanic, response  # noqa: E402

from rasa_runtime import shutdown  # noqa: E402
from rasa_runtime.lock_store import RedisLockStore  # noqa: E402


class Agent:
    def __init__(self, store: RedisLockStore, saved: Path, seconds: float) -> None:
        self.store, self.saved, self.seconds = store, saved, seconds

    async def handle_message(self, conversation_id: str) -> None:
        async with self.store.lock(conversation_id, lock_lifetime=60):
            await asyncio.sleep(self.seconds)
            with self.saved.open("a") as out:
                out.write(f"{conversation_id} saved\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("redis_url")
    parser.add_argument("saved", type=Path)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--grace", type=float, default=None)
    args = parser.parse_args()
    if args.grace is not None:
        shutdown.TURN_GRACE_S = args.grace
    redis = urlparse(args.redis_url)
    store = RedisLockStore(host=redis.hostname, port=redis.port, password=redis.password, key_prefix="graceful")
    if not args.plain:
        Agent.handle_message = shutdown._wrap_handle_message(Agent.handle_message)
    agent = Agent(store, args.saved, args.seconds)
    app = Sanic("graceful_test")
    tasks = set()

    @app.get("/")
    async def health(_request):
        return response.text("Hello from Rasa")

    @app.post("/say/<conversation>")
    async def say(_request, conversation: str):
        task = asyncio.ensure_future(agent.handle_message(conversation))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return response.text("ok")

    if not args.plain:
        shutdown.prepare_app(app)
    app.run(host="127.0.0.1", port=args.port, access_log=False)


if __name__ == "__main__":
    main()
