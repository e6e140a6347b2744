"""Telegram and Threema next to REST: what the messenger adapter adds to a reply.

    python -m benchmarks.bench_messengers [--conversations 20] [--rounds 2]

Starts one local stack (cached model) with the Telegram and Threema channels pointed at the
local doubles of ``tests/support`` (Bot API double; gateway double that encrypts and decrypts
with the real ``threema.gateway`` library), then drives the same conversations concurrently on
each channel in the same run: "Hallo", an info question, "Ausweis" (a choice), "2" (the choice
by number), "danke". A message's latency is the time from the citizen's message (REST request,
Telegram update, encrypted Threema callback) until the channel has sent every answer (the
webhook handles a message completely before it answers). Prints p50/p95 per channel, the
difference to REST, and messages per second. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import statistics
import string
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from support.chat import RestChat  # noqa: E402
from support.stacks import start_stack  # noqa: E402
from support.telegram_api import BotApiDouble  # noqa: E402
from support.threema_gateway import GatewayDouble  # noqa: E402

MESSAGES = ["Hallo", "Was kostet eine Meldebescheinigung?", "Ausweis", "2", "danke"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(name: str, conversations: int, say_factory) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        say = say_factory(i)
        for text in MESSAGES:
            t0 = time.perf_counter()
            say(text)
            with lock:
                latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=conversations) as pool:
        list(pool.map(one, range(conversations)))
    return latencies, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_messengers", description=__doc__)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    telegram = BotApiDouble("4242:bench-token").start()
    threema = GatewayDouble().start()
    secret = secrets.token_urlsafe(24)
    env = {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "TELEGRAM_API_URL": telegram.url,
        "THREEMA_GATEWAY_ID": threema.gateway.gateway_id,
        "THREEMA_API_SECRET": threema.gateway.secret,
        "THREEMA_PRIVATE_KEY": threema.gateway.private_key,
        "THREEMA_API_URL": threema.url,
        # Many messages from few senders: the per-conversation limit is not what is measured.
        "WEBCHAT_RATE_LIMIT": "1000/60",
    }
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), env=env)
        try:
            telegram.webhook, telegram.secret = f"{stack.settings.rasa_url}/webhooks/telegram/webhook", secret
            threema.callback_url = f"{stack.settings.rasa_url}/webhooks/threema/callback"
            chats = itertools.count(9_000_001)
            alphabet = string.ascii_uppercase + string.digits
            results: dict[str, list[float]] = {"rest": [], "telegram": [], "threema": []}
            walls: dict[str, float] = {k: 0.0 for k in results}

            def rest(i):
                chat = RestChat(stack.settings, sender=f"bench-{secrets.token_hex(4)}")
                return chat.say

            def tg(i):
                chat_id = next(chats)
                return lambda text: telegram.send_text(chat_id, text)

            def th(i):
                citizen = "".join(secrets.choice(alphabet) for _ in range(8))
                threema.citizen(citizen)
                return lambda text: threema.send_text(citizen, text)

            run("warm-up", 2, rest)
            for _ in range(args.rounds):
                # Interleaved rounds: the channels see the same machine load.
                for name, factory in (("rest", rest), ("telegram", tg), ("threema", th)):
                    lat, wall = run(name, args.conversations, factory)
                    results[name] += lat
                    walls[name] += wall
        finally:
            stack.stop()
            telegram.stop()
            threema.stop()

    print(
        f"{args.conversations} concurrent conversations x {len(MESSAGES)} messages x {args.rounds} rounds per channel"
    )
    print(f"{'channel':10} {'p50 ms':>8} {'p95 ms':>8} {'Δp50 vs REST':>13} {'msgs/s':>8}")
    base = statistics.median(results["rest"])
    for name, lat in results.items():
        p50, p95 = statistics.median(lat), percentile(lat, 0.95)
        print(
            f"{name:10} {p50 * 1000:8.0f} {p95 * 1000:8.0f} {(p50 - base) * 1000:+13.0f} {len(lat) / walls[name]:8.1f}"
        )


if __name__ == "__main__":
    main()
