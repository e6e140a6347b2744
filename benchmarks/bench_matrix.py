"""50 conversations at once through Matrix, next to the REST channel, in the same run.

    python -m benchmarks.bench_matrix [--conversations 50] [--think 1.0] [--plain]
    make bench-matrix

Starts a real Synapse (``tests/support/synapse.py``, from ``make synapse``), registers the
assistant's bot account and one user per conversation, and starts our stack (Rasa, action
server, portal backend, delivery worker, Matrix connector) with the REST channel on. Then the
same script of citizen messages runs twice against that stack, N conversations at once, each
sending its next message a random 0-2×``--think`` seconds after the previous answer:

1. over the REST channel (``POST /webhooks/rest/webhook``): latency = the HTTP round trip;
2. over Matrix, with encrypting citizen clients (``--plain``: unencrypted rooms): latency = from
   sending the event to the homeserver until the assistant's first answer event arrives at the
   citizen's client by sync (decrypted).

Prints p50/p95 reply latency and messages per second of each, and the Matrix overhead at p50.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.matrix_citizen import new_citizen  # noqa: E402
from support.synapse import synapse_server  # noqa: E402

from bot.local_stack import start_local_stack  # noqa: E402
from bot.training import ensure_model  # noqa: E402

SCRIPT = [
    "Was kostet ein Personalausweis?",
    "Ich brauche eine Meldebescheinigung",
    "Ja",
    "Erika",
    "Mustermann",
    "abbrechen",
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def run_rest(settings, conversations: int, think: float) -> tuple[list[float], float]:
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    headers = {"Authorization": f"Bearer {settings.rest_channel_token}"}
    latencies: list[float] = []

    async def one(n: int, session: aiohttp.ClientSession) -> None:
        sender = f"bench-{n}-{random.getrandbits(32):x}"
        for text in SCRIPT:
            await asyncio.sleep(random.uniform(0, 2 * think))
            start = time.perf_counter()
            async with session.post(url, json={"sender": sender, "message": text}, headers=headers) as answer:
                await answer.read()
                assert answer.status == 200, answer.status
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        await asyncio.gather(*(one(n, session) for n in range(conversations)))
    return latencies, time.perf_counter() - started


async def run_matrix(synapse, bot_id: str, conversations: int, think: float, encrypted: bool, store: Path):
    citizens = await asyncio.gather(*(new_citizen(synapse, bot_id, store) for _ in range(conversations)))
    rooms = await asyncio.gather(*(c.open_direct_chat(encrypted) for c in citizens))
    # Wait for every greeting (the rooms are set up, keys shared) before measuring.
    await asyncio.gather(*(c.answer(r, 0, timeout=300, settle=0.2) for c, r in zip(citizens, rooms, strict=True)))
    latencies: list[float] = []

    async def one(citizen, room_id: str) -> None:
        for text in SCRIPT:
            await asyncio.sleep(random.uniform(0, 2 * think))
            start = time.monotonic()
            mark = await citizen.send(room_id, text)
            answer = await citizen.answer(room_id, mark, timeout=300, settle=0.2)
            latencies.append(answer[0].at - start)

    started = time.perf_counter()
    await asyncio.gather(*(one(c, r) for c, r in zip(citizens, rooms, strict=True)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.stop() for c in citizens), return_exceptions=True)
    return latencies, elapsed


def report(name: str, latencies: list[float], elapsed: float) -> float:
    p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
    print(
        f"{name:<28} {len(latencies):>5} msgs  p50 {p50:7.0f} ms  p95 {p95:7.0f} ms  "
        f"mean {statistics.mean(latencies) * 1000:7.0f} ms  {len(latencies) / elapsed:6.1f} msgs/s"
    )
    return p50


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_matrix")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause before a message, seconds")
    parser.add_argument("--plain", action="store_true", help="unencrypted rooms")
    args = parser.parse_args(argv)
    # The citizens' mautrix clients warn about every device without cross-signing: not figures.
    logging.getLogger("mau").setLevel(logging.ERROR)

    servers = synapse_server()
    synapse = next(servers)
    try:
        bot = synapse.register_user("assistent")
        work = Path(tempfile.mkdtemp(prefix="bench-matrix-"))
        stack = start_local_stack(
            ensure_model(quiet=True),
            work / "var",
            matrix_homeserver_url=synapse.base_url,
            matrix_user_id=bot.user_id,
            matrix_password=bot.password,
        )
        try:
            print(
                f"{args.conversations} conversations at once, {len(SCRIPT)} messages each, "
                f"pause 0-{2 * args.think:.1f} s; Matrix {'unencrypted' if args.plain else 'end-to-end encrypted'}"
            )
            rest = asyncio.run(run_rest(stack.settings, args.conversations, args.think))
            matrix = asyncio.run(
                run_matrix(synapse, bot.user_id, args.conversations, args.think, not args.plain, work / "citizens")
            )
            rest_p50 = report("REST channel", *rest)
            matrix_p50 = report("Matrix (via Synapse)", *matrix)
            print(f"Matrix adds {matrix_p50 - rest_p50:+.0f} ms at p50 over REST (goal: at most +50 ms)")
        finally:
            stack.stop()
    finally:
        next(servers, None)


if __name__ == "__main__":
    main()
