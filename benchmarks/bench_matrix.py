"""50 conversations at once through Matrix, next to the REST channel, in the same run.

    python -m benchmarks.bench_matrix [--conversations 50] [--think 1.0] [--plain] [--no-echo]
        [--synapse-postgres [ADMIN_URL]] [--store-postgres [ADMIN_URL]]
    make bench-matrix [ARGS="--conversations 10"]

Starts a real Synapse (``tests/support/synapse.py``, from ``make synapse``), registers the
assistant's bot account and one user per conversation, and starts our stack (Rasa, action
server, portal backend, delivery worker, Matrix connector) with the REST channel on. Then the
same script of citizen messages runs twice against that stack, N conversations at once, each
sending its next message a random 0-2×``--think`` seconds after the previous answer:

1. over the REST channel (``POST /webhooks/rest/webhook``): latency = the HTTP round trip;
2. over Matrix, with encrypting citizen clients (``--plain``: unencrypted rooms): latency = from
   sending the event to the homeserver until the assistant's first answer event arrives at the
   citizen's client by sync (decrypted).

3. (unless ``--no-echo``) the same citizens' clients against an **echo bot** on the same
   Synapse: a plain mautrix client with the same end-to-end encryption in a process of its own
   that sends each message straight back. This is what Synapse and the Matrix clients cost for
   one round trip without the assistant: the baseline the connector's own cost is judged against.

Prints p50/p95 reply latency and messages per second of each; the connector's own stages per
message (``GET /internal/stats`` of the connector, ``matrix_connector/timings.py``: time in the
homeserver until the sync, decryption, Rasa, and ``adapter`` = the connector's own time up to its
first answer event accepted by Synapse, Rasa excluded); the CPU seconds of each process during
each phase; and the Matrix overhead at p50 split into Synapse round trip (echo) and adapter.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import statistics
import subprocess
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
from matrix_connector.connector import _db_args as connector_db_args  # noqa: E402
from matrix_connector.decryption import CachedSessionsCryptoStore  # noqa: E402

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


async def run_matrix(
    synapse, bot_id: str, conversations: int, think: float, encrypted: bool, store: Path, before=None, citizens=None
):
    """``citizens``: reuse the clients of an earlier phase (their devices and keys) with new rooms."""
    if citizens is None:
        citizens = await asyncio.gather(*(new_citizen(synapse, bot_id, store) for _ in range(conversations)))
    for c in citizens:
        c.bot_id = bot_id
    rooms = await asyncio.gather(*(c.open_direct_chat(encrypted) for c in citizens))
    # Wait for every greeting (the rooms are set up, keys shared) before measuring.
    await asyncio.gather(*(c.answer(r, 0, timeout=300, settle=0.2) for c, r in zip(citizens, rooms, strict=True)))
    if before is not None:
        before()
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
    return latencies, elapsed, citizens


# --- the echo bot: Synapse and E2EE without the assistant -------------------------------------


async def echo_bot(homeserver: str, user_id: str, token: str, device_id: str, store: Path) -> None:
    """Join every invite, greet, send every text message straight back (encrypted where the room is)."""
    from mautrix.types import EventType, Membership, MessageType, TextMessageEventContent
    from support.matrix_citizen import Citizen

    bot = await Citizen(homeserver, user_id, token, device_id, store, bot_id="").start()
    client = bot.client

    async def on_member(evt) -> None:
        if evt.state_key == user_id and evt.content.membership == Membership.INVITE:
            await client.join_room(evt.room_id)
            await client.send_message(evt.room_id, TextMessageEventContent(msgtype=MessageType.TEXT, body="Hallo"))

    async def on_message(evt) -> None:
        if evt.sender != user_id and evt.content.msgtype == MessageType.TEXT:
            await client.send_message(
                evt.room_id, TextMessageEventContent(msgtype=MessageType.TEXT, body=evt.content.body)
            )

    client.add_event_handler(EventType.ROOM_MEMBER, on_member)
    client.add_event_handler(EventType.ROOM_MESSAGE, on_message)
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await bot.stop()


def start_echo_bot(synapse, store: Path) -> tuple[subprocess.Popen, str]:
    user = synapse.register_user("echo")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_matrix",
            "--echo-bot",
            synapse.base_url,
            user.user_id,
            user.access_token,
            user.device_id,
            str(store),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process, user.user_id


# --- CPU seconds per process, per phase --------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    def __init__(self, processes: dict[str, int]):
        self.processes = processes
        self.marks: dict[str, float] = {}

    def start(self) -> None:
        self.marks = {name: cpu_seconds(pid) for name, pid in self.processes.items()}

    def stop(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self.marks.get(name, 0.0) for name, pid in self.processes.items()}


def connector_stats(stack, reset: bool = False) -> dict:
    url = stack.service("matrix-connector").health_url.rsplit("/health", 1)[0] + "/internal/stats"
    import urllib.request

    request = urllib.request.Request(
        url + ("?reset=1" if reset else ""),
        headers={"Authorization": f"Bearer {stack.settings.matrix_channel_token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["stages"]


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
    parser.add_argument("--no-echo", action="store_true", help="without the echo-bot baseline")
    parser.add_argument(
        "--synapse-db-on-disk",
        action="store_true",
        help="Synapse's SQLite file on disk (default: /dev/shm; its fsyncs are a test artefact)",
    )
    parser.add_argument(
        "--synapse-postgres",
        metavar="ADMIN_URL",
        nargs="?",
        const="postgresql://postgres@127.0.0.1:5432/test",
        help="Synapse on PostgreSQL as in production: a fresh database created (and dropped) through "
        "ADMIN_URL (default: SQLite in /dev/shm)",
    )
    parser.add_argument(
        "--store-postgres",
        metavar="ADMIN_URL",
        nargs="?",
        const="postgresql://postgres@127.0.0.1:5432/test",
        help="the connector's crypto and state store in a fresh PostgreSQL database created (and dropped) "
        "through ADMIN_URL (MATRIX_STORE_DATABASE_URL; default: SQLite)",
    )
    parser.add_argument(
        "--decrypt-only",
        action="store_true",
        help="no Synapse, no Rasa: only the connector's Megolm decryption (mautrix OlmMachine and its store), "
        "N rooms at once, on SQLite and on PostgreSQL (--store-postgres or the local default) in the same run",
    )
    parser.add_argument("--echo-bot", nargs=5, help=argparse.SUPPRESS)  # the echo bot's own process
    args = parser.parse_args(argv)
    if args.echo_bot:
        logging.getLogger("mau").setLevel(logging.ERROR)
        homeserver, user_id, token, device_id, store = args.echo_bot
        asyncio.run(echo_bot(homeserver, user_id, token, device_id, Path(store)))
        return
    # The citizens' mautrix clients warn about every device without cross-signing: not figures.
    logging.getLogger("mau").setLevel(logging.ERROR)
    if args.decrypt_only:
        admin_url = args.store_postgres or "postgresql://postgres@127.0.0.1:5432/test"
        decrypt_only(args.conversations, len(SCRIPT), admin_url)
        return

    servers = synapse_server(database_on_disk=args.synapse_db_on_disk, postgres_admin_url=args.synapse_postgres)
    synapse = next(servers)
    store_db = fresh_postgres_database(args.store_postgres) if args.store_postgres else None
    if store_db:
        # The connector reads it from its environment (the stack passes ours on).
        os.environ["MATRIX_STORE_DATABASE_URL"] = next(store_db)
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
        echo = None
        try:
            processes = {
                "synapse": synapse._process.pid,
                "rasa": stack.service("rasa").process.pid,
                "action-server": stack.service("action-server").process.pid,
                "matrix-connector": stack.service("matrix-connector").process.pid,
                "bench (citizens)": os.getpid(),
            }
            if not args.no_echo:
                echo, echo_id = start_echo_bot(synapse, work / "echo")
                processes["echo bot"] = echo.pid
            cpu = CpuMeter(processes)
            synapse_database = (
                "PostgreSQL"
                if args.synapse_postgres
                else f"SQLite {'on disk' if args.synapse_db_on_disk else 'in /dev/shm'}"
            )
            print(
                f"{args.conversations} conversations at once, {len(SCRIPT)} messages each, "
                f"pause 0-{2 * args.think:.1f} s; Matrix {'unencrypted' if args.plain else 'end-to-end encrypted'}; "
                f"Synapse database {synapse_database}; "
                f"connector store {'PostgreSQL' if store_db else 'SQLite'}"
            )
            cpu.start()
            rest = asyncio.run(run_rest(stack.settings, args.conversations, args.think))
            phases = {"REST": cpu.stop()}

            async def matrix_phases():
                encrypted, store = not args.plain, work / "citizens"
                out = {}
                citizens = None
                if echo is not None:
                    *out["echo"], citizens = await run_matrix(
                        synapse, echo_id, args.conversations, args.think, encrypted, store, before=cpu.start
                    )
                    phases["echo bot"] = cpu.stop()

                def reset():
                    connector_stats(stack, reset=True)
                    cpu.start()

                *out["matrix"], citizens = await run_matrix(
                    synapse, bot.user_id, args.conversations, args.think, encrypted, store, reset, citizens
                )
                phases["Matrix"] = cpu.stop()
                await asyncio.gather(*(c.stop() for c in citizens), return_exceptions=True)
                return out

            results = asyncio.run(matrix_phases())
            stages = connector_stats(stack)
            rest_p50 = report("REST channel", *rest)
            echo_p50 = (
                report("Echo bot via Synapse (E2EE)" if not args.plain else "Echo bot via Synapse", *results["echo"])
                if "echo" in results
                else None
            )
            matrix_p50 = report("Matrix (via Synapse)", *results["matrix"])
            print("\nConnector, per citizen message (GET /internal/stats):")
            for stage in (
                "homeserver_in",
                "decrypt",
                "key_wait",
                "queue",
                "rasa",
                "adapter",
                "homeserver_send",
                "send_all",
                "encrypt",
                "share_session",
                "share_ahead",
                "loop_lag",
            ):
                if stage in stages:
                    v = stages[stage]
                    print(
                        f"  {stage:<14} n={v['count']:<5} p50 {v['p50_ms']:7.1f} ms  p95 {v['p95_ms']:7.1f} ms  mean {v['mean_ms']:7.1f} ms"
                    )
            print("\nCPU seconds per process during each phase:")
            names = list(processes)
            print("  " + " " * 10 + "".join(f"{n:>18}" for n in names))
            for phase, used in phases.items():
                print(f"  {phase:<10}" + "".join(f"{used[n]:18.1f}" for n in names))
            print(f"\nMatrix adds {matrix_p50 - rest_p50:+.0f} ms at p50 over REST.")
            if echo_p50 is not None:
                print(
                    f"  of which the Synapse round trip (echo bot, p50): {echo_p50:.0f} ms; "
                    f"the rest: {matrix_p50 - rest_p50 - echo_p50:+.0f} ms (the connector, Rasa under this load, and "
                    "Synapse's work for the assistant's extra answer events: see the stages)"
                )
            if "adapter" in stages:
                print(
                    f"  the connector's own time per message (adapter, measured inside): p50 {stages['adapter']['p50_ms']:.0f} ms (goal: at most +50 ms)"
                )
        finally:
            if echo is not None:
                echo.send_signal(signal.SIGTERM)
                try:
                    echo.wait(20)
                except subprocess.TimeoutExpired:
                    echo.kill()
            stack.stop()
    finally:
        if store_db:
            next(store_db, None)
        next(servers, None)


def decrypt_only(rooms: int, per_room: int, admin_url: str) -> None:
    """The connector's decryption alone: ``rooms`` senders, each with its own Megolm session, send
    ``per_room`` messages one after the other, all rooms at once (a random 0-20 ms apart); each is
    decrypted by mautrix's ``OlmMachine.decrypt_megolm_event`` on the store the connector uses.
    Per store: p50/p95 per decryption, wall time, and the time spent inside the store's queries."""
    import json as _json

    import olm
    from mautrix.client import Client
    from mautrix.client.state_store.asyncpg import PgStateStore
    from mautrix.crypto import OlmMachine, PgCryptoStore
    from mautrix.crypto.sessions import InboundGroupSession
    from mautrix.crypto.store.asyncpg import PgCryptoStateStore
    from mautrix.types import DeviceIdentity, EncryptedEvent, TrustState
    from mautrix.util.async_db import Database

    async def one_store(url: str, cached: bool) -> tuple[list[float], float, int]:
        crypto_db = Database.create(url, upgrade_table=PgCryptoStore.upgrade_table, db_args=connector_db_args(url))
        state_db = Database.create(url, upgrade_table=PgStateStore.upgrade_table, db_args=connector_db_args(url))
        await crypto_db.start()
        state_db.override_pool(crypto_db)
        await state_db.start()
        try:
            bot_id = "@assistent:bench.invalid"
            store = (CachedSessionsCryptoStore if cached else PgCryptoStore)(
                account_id=bot_id, pickle_key="bench", db=crypto_db
            )
            state = PgCryptoStateStore(state_db)
            client = Client(mxid=bot_id, base_url="http://127.0.0.1:9", state_store=state, sync_store=store)
            client.device_id = "BENCHBOT"
            machine = OlmMachine(client, store, state)
            await machine.load()
            decrypt = machine.decrypt_megolm_event
            events: list[list[EncryptedEvent]] = []
            for r in range(rooms):
                sender, device, room = f"@buerger{r}:bench.invalid", f"DEV{r}", f"!room{r}:bench.invalid"
                account = olm.Account()
                keys = account.identity_keys
                outbound = olm.OutboundGroupSession()
                inbound = InboundGroupSession(outbound.session_key, keys["ed25519"], keys["curve25519"], room)
                await store.put_group_session(room, keys["curve25519"], outbound.id, inbound)
                await store.put_devices(
                    sender,
                    {
                        device: DeviceIdentity(
                            sender, device, keys["curve25519"], keys["ed25519"], TrustState.UNVERIFIED, False, ""
                        )
                    },
                )
                machine._cs_fetch_attempted.add(sender)  # no homeserver here: no cross-signing keys to fetch
                plain = _json.dumps(
                    {"room_id": room, "type": "m.room.message", "content": {"msgtype": "m.text", "body": "Guten Tag"}}
                )
                events.append(
                    [
                        EncryptedEvent.deserialize(
                            {
                                "type": "m.room.encrypted",
                                "room_id": room,
                                "event_id": f"$r{r}m{m}",
                                "sender": sender,
                                "origin_server_ts": int(time.time() * 1000),
                                "content": {
                                    "algorithm": "m.megolm.v1.aes-sha2",
                                    "ciphertext": outbound.encrypt(plain),
                                    "sender_key": keys["curve25519"],
                                    "device_id": device,
                                    "session_id": outbound.id,
                                },
                            }
                        )
                        for m in range(per_room)
                    ]
                )
            durations: list[float] = []

            async def room_task(evts: list[EncryptedEvent]) -> None:
                for evt in evts:
                    await asyncio.sleep(random.uniform(0, 0.02))
                    started = time.perf_counter()
                    decrypted = await decrypt(evt)
                    durations.append((time.perf_counter() - started) * 1000)
                    assert decrypted.content.body == "Guten Tag"

            started = time.perf_counter()
            await asyncio.gather(*(room_task(e) for e in events))
            await client.api.session.close()
            return durations, time.perf_counter() - started, len(durations)
        finally:
            await state_db.stop()
            await crypto_db.stop()

    print(f"Decryption only: {rooms} rooms at once, {per_room} messages each (mautrix OlmMachine, no network)")
    rows = {}
    for cached, lock_name in ((False, "mautrix's store"), (True, "sessions cached")):
        with tempfile.TemporaryDirectory(prefix="bench-decrypt-") as tmp:
            rows[f"SQLite, {lock_name}"] = asyncio.run(one_store(f"sqlite:///{Path(tmp) / 'crypto.db'}", cached))
        store_db = fresh_postgres_database(admin_url)
        try:
            rows[f"PostgreSQL, {lock_name}"] = asyncio.run(one_store(next(store_db), cached))
        finally:
            next(store_db, None)
    base = None
    for name, (durations, wall, count) in rows.items():
        ordered = sorted(durations)
        p50 = statistics.median(ordered)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        base = base or p50
        print(
            f"  {name:<32} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {count / wall:7.1f} decryptions/s"
            f"  (p50 {p50 / base:.2f}x the first row)"
        )


def fresh_postgres_database(admin_url: str):
    """Yields the URL of a new database (created through ``admin_url``), then drops it."""
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    name = f"bench_matrix_{os.getpid()}_{random.randrange(1 << 30)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
