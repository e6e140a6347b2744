"""Speed and memory of the assistant over the REST channel, against plain Rasa in the same run.

    python -m benchmarks.bench_rest [--conversations 50] [--skip-reference]

Starts our stack (SQL tracker store, real action server and portal backend) on free ports and,
as the reference point, a default bot made by ``rasa init --no-prompt`` in a temporary folder.
Drives scripted conversations with 1 and with N concurrent conversations and prints p50/p95
round-trip latency, messages per second and peak RSS of each Rasa process, plus the ratios.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.local_stack import free_port, local_settings
from bot.stack import Service, Stack
from bot.training import ensure_model

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
# The moodbot of `rasa init`: greet, mood, answers.
REFERENCE_SCRIPT = ["hi", "I am sad", "yes", "great", "bye", "hello", "very good", "goodbye"] * 2


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MB."""
    total = 0
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
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


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


async def run_conversations(url: str, script: list[str], concurrent: int, rounds: int) -> Result:
    latencies: list[float] = []
    errors = 0

    async def conversation(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        sender = f"bench-{uuid.uuid4()}"
        for text in script:
            started = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as resp:
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


def measure(name: str, url: str, script: list[str], conversations: int, rasa_pid: int) -> dict:
    # Warm-up: the first messages load lazily initialised parts of Rasa.
    asyncio.run(run_conversations(url, script, 1, 1))
    single = asyncio.run(run_conversations(url, script, 1, 3))
    many = asyncio.run(run_conversations(url, script, conversations, 1))
    return {
        "name": name,
        "p50_1": single.pct(0.5),
        "p95_1": single.pct(0.95),
        "p50_n": many.pct(0.5),
        "p95_n": many.pct(0.95),
        "msgs_per_s": many.throughput,
        "errors": single.errors + many.errors,
        "rss_mb": peak_rss_mb(rasa_pid),
    }


def start_reference(workdir: Path) -> Service:
    """A plain Rasa default bot (`rasa init --no-prompt`), trained in a temporary folder."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    print("Referenz: rasa init --no-prompt (trainiert das Standardmodell) …", flush=True)
    subprocess.run(
        [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(workdir)],
        cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    port = free_port()
    service = Service(
        "reference-rasa",
        [sys.executable, "-m", "rasa", "run", "--port", str(port), "--interface", "127.0.0.1",
         "--model", str(workdir / "models")],
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
    header = (
        f"{'bot':<22}{'p50 1 conv':>12}{'p95 1 conv':>12}{f'p50 {conversations} conv':>14}"
        f"{f'p95 {conversations} conv':>14}{'msgs/s':>10}{'peak RSS':>12}{'errors':>8}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['name']:<22}{r['p50_1']:>10.1f}ms{r['p95_1']:>10.1f}ms{r['p50_n']:>12.1f}ms"
            f"{r['p95_n']:>12.1f}ms{r['msgs_per_s']:>10.1f}{r['rss_mb']:>9.0f} MB{r['errors']:>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()

    rows = []
    model = ensure_model(quiet=True)
    with tempfile.TemporaryDirectory(prefix="ba-bench-") as tmp:
        tmp_path = Path(tmp)
        settings = local_settings(tmp_path)
        if os.environ.get("TRACKER_STORE_URL"):
            settings.tracker_store_url = os.environ["TRACKER_STORE_URL"]
        stack = Stack(settings, model)
        print(f"Bürgerassistent: Tracker-Store {settings.tracker_store_url.split(':')[0]} …", flush=True)
        stack.start(timeout=240, progress=lambda _m: None)
        try:
            rasa_pid = stack.services[-1].process.pid
            rows.append(measure("buergerassistent", f"{settings.rasa_url}/webhooks/rest/webhook",
                                OUR_SCRIPT, args.conversations, rasa_pid))
        finally:
            stack.stop()
        print_table(rows, args.conversations)

        if not args.skip_reference:
            ref_dir = tmp_path / "reference"
            ref_dir.mkdir()
            ref = start_reference(ref_dir)
            try:
                url = ref.health_url.rstrip("/") + "/webhooks/rest/webhook"
                rows.append(measure("rasa-init-reference", url, REFERENCE_SCRIPT, args.conversations,
                                    ref.process.pid))
            except Exception as exc:  # keep our own figures even if the reference fails
                print(f"reference failed: {exc}")
            finally:
                ref.stop()
            shutil.rmtree(ref_dir, ignore_errors=True)

    print()
    print_table(rows, args.conversations)
    if len(rows) == 2:
        ours, ref = rows
        print(
            f"\nRatios (ours / reference): throughput {ours['msgs_per_s'] / ref['msgs_per_s']:.2f}x, "
            f"p50 1 conv {ours['p50_1'] / ref['p50_1']:.2f}x, "
            f"p95 {args.conversations} conv {ours['p95_n'] / ref['p95_n']:.2f}x, "
            f"peak RSS {ours['rss_mb'] / ref['rss_mb']:.2f}x"
        )
    print("Targets: p50 <= 40 ms (1 conv), p95 <= 300 ms (50 conv), >= 3x reference throughput, "
          "<= 1.5 GB RSS per Rasa process.")


if __name__ == "__main__":
    main()
