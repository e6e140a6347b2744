"""Speed and memory of the assistant over the REST channel, against plain Rasa in the same run.

    python -m benchmarks.bench_rest [--conversations 50] [--skip-reference] [--ablate GROUP,...]

Starts our stack (SQL tracker store, real action server and portal backend) on free ports, as
``make run`` does (one Rasa process) and, when Redis is reachable (``LOCK_STORE_URL``, default
redis://127.0.0.1:6379/0), as docker-compose does (two Rasa workers sharing a Redis lock store);
as the reference point, a default bot made by ``rasa init --no-prompt`` in a temporary folder.
Our single-process stack runs twice: with our Rasa speed fixes and without them
(``BA_RASA_PATCHES=0``, plain Rasa 3.6 with our components deferring to Rasa's own code), so
the fixes' gain is in the same run. ``--ablate state_replay,tracker_copy`` adds one run per
named group with only that group switched off (``BA_RASA_PATCHES=-<group>``).
For each it prints, with the ratios:

- p50/p95 round trip of one conversation at a time;
- N conversations at once, each sending its next message as soon as the answer is there
  (closed loop): messages per second, i.e. the capacity, and p50/p95. Here every message waits
  for the ~N others in the queue, so p95 is about N / capacity (Little's law): at N = 50 it
  can only be below 300 ms for a server of more than ~170 messages/s;
- N conversations at once at a citizen's pace (a reply 1-5 s after the answer, 3 s on average,
  i.e. ~N/3 messages per second offered): p50/p95. This is what 50 citizens chatting at the
  same time see;
- peak RSS of the largest Rasa process (with two workers: of one worker; the sum is printed too).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.local_stack import free_port, local_settings, rest_headers, set_login_required
from bot.stack import Service, Stack
from bot.training import ensure_model
from buergerassistent.settings import get_settings

OUR_SCRIPT = [
    "Hallo",
    "Ich brauche eine Meldebescheinigung",
    "Ja",
    "Erika",
    "Mustermann",
    "12.08.1964",
    "Marienplatz 8",
    "80331",
    "München",
    "einfach",
    "erika.mustermann@example.org",
    "Ja, absenden",
    "Danke",
]
THINK_SECONDS = (1.0, 5.0)
# The moodbot of `rasa init`: greet, mood, answers.
REFERENCE_SCRIPT = ["hi", "I am sad", "yes", "great", "bye", "hello", "very good", "goodbye"] * 2


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """Peak resident memory (VmHWM) of a process and its child processes (Rasa's workers), in
    MB: the largest single process (the target is per process) and the sum."""
    sizes = []
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in children.split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return (max(sizes, default=0.0), sum(sizes))


def redis_reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Result:
    latencies_ms: list[float]
    messages: int
    seconds: float
    errors: int

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))]

    @property
    def throughput(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


async def run_conversations(
    url: str,
    script: list[str],
    concurrent: int,
    rounds: int,
    think: tuple[float, float] | None = None,
    headers: dict | None = None,
) -> Result:
    """``think``: seconds a citizen waits after an answer before the next message (uniform);
    ``headers``: with each request (our REST channel's token)."""
    latencies: list[float] = []
    errors = 0
    rng = random.Random(42)

    async def conversation(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        sender = f"bench-{uuid.uuid4()}"
        if think:
            await asyncio.sleep(rng.uniform(0, think[1]))  # citizens do not all start at once
        for i, text in enumerate(script):
            if think and i:
                await asyncio.sleep(rng.uniform(*think))
            started = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrent + 5)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(conversation(session) for _ in range(concurrent)))
        elapsed = time.perf_counter() - started
    return Result(latencies, len(latencies), elapsed, errors)


def measure(
    name: str, url: str, script: list[str], conversations: int, rasa_pid: int, headers: dict | None = None
) -> dict:
    # Warm-up: the first messages load lazily initialised parts of Rasa.
    asyncio.run(run_conversations(url, script, 4, 1, headers=headers))  # several at once: every worker warms up
    single = asyncio.run(run_conversations(url, script, 1, 3, headers=headers))
    many = asyncio.run(run_conversations(url, script, conversations, 2, headers=headers))
    paced = asyncio.run(run_conversations(url, script, conversations, 1, think=THINK_SECONDS, headers=headers))
    largest_rss, total_rss = peak_rss_mb(rasa_pid)
    return {
        "name": name,
        "p50_1": single.pct(0.5),
        "p95_1": single.pct(0.95),
        "p50_n": many.pct(0.5),
        "p95_n": many.pct(0.95),
        "msgs_per_s": many.throughput,
        "p50_paced": paced.pct(0.5),
        "p95_paced": paced.pct(0.95),
        "errors": single.errors + many.errors + paced.errors,
        "rss_mb": largest_rss,
        "rss_total_mb": total_rss,
    }


def start_reference(workdir: Path) -> Service:
    """A plain Rasa default bot (`rasa init --no-prompt`), trained in a temporary folder."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    print("Referenz: rasa init --no-prompt (trainiert das Standardmodell) …", flush=True)
    subprocess.run(
        [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(workdir)],
        cwd=workdir,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    port = free_port()
    service = Service(
        "reference-rasa",
        [
            sys.executable,
            "-m",
            "rasa",
            "run",
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--model",
            str(workdir / "models"),
        ],
        f"http://127.0.0.1:{port}/",
        env,
        workdir / "rasa.log",
    )
    service.start()
    try:
        service.wait_healthy(timeout=600)
    except Exception:
        service.stop()  # never leave a reference Rasa running behind us
        raise
    return service


def print_table(rows: list[dict], conversations: int) -> None:
    n = conversations
    header = (
        f"{'bot':<22}{'p50 1 conv':>12}{'p95 1 conv':>12}{f'p50 {n} loop':>13}{f'p95 {n} loop':>13}"
        f"{'msgs/s':>9}{f'p50 {n} paced':>14}{f'p95 {n} paced':>14}{'peak RSS':>11}{'errors':>8}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['name']:<22}{r['p50_1']:>10.1f}ms{r['p95_1']:>10.1f}ms{r['p50_n']:>11.0f}ms{r['p95_n']:>11.0f}ms"
            f"{r['msgs_per_s']:>9.1f}{r['p50_paced']:>12.1f}ms{r['p95_paced']:>12.1f}ms{r['rss_mb']:>8.0f} MB"
            f"{r['errors']:>8}"
        )


def measure_ours(
    name: str,
    var_dir: Path,
    model: Path,
    conversations: int,
    lock_store_url: str | None = None,
    workers: int = 1,
    patches: str = "1",
) -> dict:
    settings = local_settings(var_dir, **({"lock_store_url": lock_store_url} if lock_store_url else {}))
    if get_settings().tracker_store_url:
        settings.tracker_store_url = get_settings().tracker_store_url
    stack = Stack(settings, model)
    # Rasa reads SANIC_WORKERS and BA_RASA_PATCHES from its environment, which the stack takes
    # from ours.
    overrides = {"SANIC_WORKERS": str(workers), "BA_RASA_PATCHES": patches}
    previous = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        set_login_required(stack, False)  # as `make run`'s local demo: no IdP
    finally:
        for var, value in previous.items():
            if value is None:
                os.environ.pop(var)
            else:
                os.environ[var] = value
    print(
        f"{name}: Tracker-Store {settings.tracker_store_url.split(':')[0]}, "
        f"Lock-Store {'redis' if lock_store_url else 'in-memory'}, {workers} Rasa-Prozess(e), "
        f"BA_RASA_PATCHES={patches} …",
        flush=True,
    )
    stack.start(timeout=240, progress=lambda _m: None)
    try:
        return measure(
            name,
            f"{settings.rasa_url}/webhooks/rest/webhook",
            OUR_SCRIPT,
            conversations,
            stack.service("rasa").process.pid,
            headers=rest_headers(settings),
        )
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--ablate", default="", help="fix groups to switch off one at a time, comma-separated")
    args = parser.parse_args()
    from rasa_runtime.patches import parse_switch

    ablate = [group.strip() for group in args.ablate.split(",") if group.strip()]
    parse_switch(",".join(ablate))  # unknown names stop here, not after an hour

    rows = []
    model = ensure_model(quiet=True)
    lock_url = get_settings().lock_store_url or "redis://127.0.0.1:6379/0"
    with tempfile.TemporaryDirectory(prefix="ba-bench-") as tmp:
        tmp_path = Path(tmp)
        # As `make run` starts it: one Rasa process, in-memory lock store.
        rows.append(measure_ours("buergerassistent", tmp_path / "one", model, args.conversations))
        # The same without our Rasa speed fixes: what they gain.
        rows.append(measure_ours("buergerassistent plain", tmp_path / "plain", model, args.conversations, patches="0"))
        for group in ablate:
            rows.append(
                measure_ours(
                    f"ba -{group}"[:21], tmp_path / f"ablate-{group}", model, args.conversations, patches=f"-{group}"
                )
            )
        # As docker-compose runs it: two Rasa workers, which need a shared (Redis) lock store.
        if redis_reachable(lock_url):
            rows.append(
                measure_ours(
                    "buergerassistent 2 wrk",
                    tmp_path / "two",
                    model,
                    args.conversations,
                    lock_store_url=lock_url,
                    workers=2,
                )
            )
        else:
            print(f"Redis ({lock_url}) not reachable: two-worker run skipped.")
        print_table(rows, args.conversations)

        if not args.skip_reference:
            ref_dir = tmp_path / "reference"
            ref_dir.mkdir()
            ref = start_reference(ref_dir)
            try:
                url = ref.health_url.rstrip("/") + "/webhooks/rest/webhook"
                rows.append(measure("rasa-init-reference", url, REFERENCE_SCRIPT, args.conversations, ref.process.pid))
            except Exception as exc:  # keep our own figures even if the reference fails
                print(f"reference failed: {exc}")
            finally:
                ref.stop()
            shutil.rmtree(ref_dir, ignore_errors=True)

    print()
    print_table(rows, args.conversations)
    reference = next((r for r in rows if r["name"] == "rasa-init-reference"), None)
    plain = next((r for r in rows if r["name"] == "buergerassistent plain"), None)
    patched = rows[0] if rows and rows[0]["name"] == "buergerassistent" else None
    if plain and patched:
        print(
            f"\nGain of the speed fixes (buergerassistent / plain, same run): throughput "
            f"{patched['msgs_per_s'] / plain['msgs_per_s']:.2f}x, p50 1 conv {patched['p50_1'] / plain['p50_1']:.2f}x"
        )
        for row in rows:
            if row["name"].startswith("ba -"):
                print(
                    f"  {row['name']}: throughput {row['msgs_per_s'] / patched['msgs_per_s']:.2f}x of all fixes, "
                    f"{row['msgs_per_s'] / plain['msgs_per_s']:.2f}x of plain"
                )
    for ours in (r for r in rows if r is not reference and reference is not None):
        print(
            f"\nRatios ({ours['name']} / reference): throughput {ours['msgs_per_s'] / reference['msgs_per_s']:.2f}x, "
            f"p50 1 conv {ours['p50_1'] / reference['p50_1']:.2f}x, "
            f"p95 {args.conversations} loop {ours['p95_n'] / reference['p95_n']:.2f}x, "
            f"p95 {args.conversations} paced {ours['p95_paced'] / reference['p95_paced']:.2f}x, "
            f"peak RSS {ours['rss_mb'] / reference['rss_mb']:.2f}x (all processes: {ours['rss_total_mb']:.0f} MB)"
        )
    print(
        "Targets: p50 <= 40 ms (1 conv), p95 <= 300 ms (50 conv), >= 3x reference throughput, "
        "<= 1.5 GB RSS per Rasa process."
    )
    print(
        f"loop: each conversation sends at once when answered; paced: a reply {THINK_SECONDS[0]:.0f}-"
        f"{THINK_SECONDS[1]:.0f} s after each answer (see the docstring)."
    )


if __name__ == "__main__":
    main()
