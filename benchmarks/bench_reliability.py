"""Reliability of submission: nothing lost, nothing doubled, while the backend fails.

``make bench-reliability`` (``python -m benchmarks.bench_reliability [--n 200]``).

What runs: the real reference portal backend as its own process, answering 10 % of API
requests with 503 (``PORTAL_FAULT_503_RATE``; half of those after storing the application) and
killed (SIGKILL) and restarted twice during the run; the real delivery worker as its own
process (``python -m delivery_worker``, as ``bot/stack.py`` starts it); and N scripted
conversations that reach the summary and confirm it.

Which path: the chat actions themselves (``action_show_summary`` → ``action_submit_application``,
the code Rasa calls on "Ja, absenden"), run in this process. Not the REST channel: 200
conversations of ~10 turns each would spend minutes in NLU and dialogue prediction on a shared
2-core machine and measure Rasa instead of submission; the path from REST to these actions is
covered by the end-to-end tests (tests/e2e, tests/submission/test_e2e_submission.py). Every
10th conversation confirms twice (a double click), which must not create a second application.

Prints: submitted, landed, duplicates, lost, how many got the case number in the same reply,
and the time from confirmation to receipt (p50/p95/max), taken from the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not healthy: {url}")


class Proc:
    def __init__(self, name: str, command: list[str], env: dict, health: str, log: Path):
        self.name, self.command, self.env, self.health, self.log = name, command, env, health, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_healthy(self.health)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def conversation(i: int, results: dict) -> None:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.dialogue import ActionShowSummary, ActionSubmitApplication

    slots = {
        "procedure": "meldebescheinigung",
        "vorname": "Erika",
        "nachname": f"Bench-{i:04d}",  # marks the conversation in the backend's database
        "geburtsdatum": "1964-08-12",
        "strasse": "Marienplatz 8",
        "plz": "80331",
        "ort": "München",
        "art_meldebescheinigung": "einfach",
        "email": "erika@example.org",
        "awaiting": None,
        "application_id": None,
        "case_number": None,
    }

    def tracker() -> Tracker:
        return Tracker(
            f"bench-{i}",
            dict(slots),
            {"text": "Ja, absenden", "intent": {"name": "affirm"}},
            [],
            False,
            None,
            {},
            "action_listen",
        )

    for event in await ActionShowSummary().run(CollectingDispatcher(), tracker(), {}):
        if event.get("event") == "slot":
            slots[event["name"]] = event["value"]
    application_id = slots["application_id"]
    confirmations = 2 if i % 10 == 0 else 1
    for _ in range(confirmations):
        dispatcher = CollectingDispatcher()
        await ActionSubmitApplication().run(dispatcher, tracker(), {})
        text = " ".join(m.get("text") or "" for m in dispatcher.messages)
    results[application_id] = {
        "marker": slots["nachname"],
        "inline": "Aktenzeichen lautet" in text,
        "saved": "gespeichert" in text,
    }


async def drive(n: int, rate_per_s: float, backend: Proc, kill_at: list[float], down_s: float) -> dict:
    results: dict = {}
    start = time.monotonic()
    tasks = []
    chaos_log = []

    async def chaos() -> None:
        up_since, min_up_s = start, 3.0
        for at in kill_at:
            # Each kill hits a backend that is up again (a restart takes a few seconds).
            await asyncio.sleep(max(0, start + at - time.monotonic(), up_since + min_up_s - time.monotonic()))
            backend.kill()
            chaos_log.append(f"killed at {time.monotonic() - start:.1f} s")
            await asyncio.sleep(down_s)
            await asyncio.to_thread(backend.start)
            chaos_log.append(f"up again at {time.monotonic() - start:.1f} s")
            up_since = time.monotonic()

    chaos_task = asyncio.create_task(chaos())
    for i in range(n):
        await asyncio.sleep(max(0, start + i / rate_per_s - time.monotonic()))
        tasks.append(asyncio.create_task(conversation(i, results)))
    await asyncio.gather(*tasks)
    await chaos_task
    results["_chaos"] = chaos_log
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rate", type=float, default=12.0, help="new conversations per second")
    parser.add_argument("--fault-rate", type=float, default=0.10)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    portal_port, worker_port = free_port(), free_port()
    portal_db = f"sqlite:///{work / 'portal.db'}"
    env = dict(os.environ)
    env.update(
        {
            "BA_VAR_DIR": str(work),
            "BA_SECRET_KEY": uuid.uuid4().hex * 2,
            "OUTBOX_DATABASE_URL": f"sqlite:///{work / 'outbox.db'}",
            "PORTAL_BACKEND_URL": f"http://127.0.0.1:{portal_port}",
            "PORTAL_DATABASE_URL": portal_db,
            "PORTAL_FAULT_503_RATE": str(args.fault_rate),
            # The backend's credentials (it refuses to start without them): random per run.
            "PORTAL_API_TOKEN": secrets.token_urlsafe(32),
            "PORTAL_AUTHORITY_TOKEN": secrets.token_urlsafe(32),
            "PORTAL_CITIZEN_KEY": secrets.token_urlsafe(32),
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
    )
    env.pop("RASA_URL", None)  # no Rasa here: results stay in the outbox and postbox
    os.environ.update(
        {
            k: env[k]
            for k in (
                "BA_VAR_DIR",
                "BA_SECRET_KEY",
                "OUTBOX_DATABASE_URL",
                "PORTAL_BACKEND_URL",
                "PORTAL_API_TOKEN",
                "PORTAL_CITIZEN_KEY",
            )
        }
    )
    os.environ.pop("RASA_URL", None)
    from buergerassistent.settings import reload_settings

    reload_settings()  # this process delivers too: it reads what it just set
    python = sys.executable
    backend = Proc(
        "portal-backend",
        [python, "-m", "portal_backend", "--port", str(portal_port)],
        env,
        f"http://127.0.0.1:{portal_port}/health",
        work / "portal-backend.log",
    )
    worker = Proc(
        "submission-worker",
        [python, "-m", "delivery_worker", "--port", str(worker_port)],
        env,
        f"http://127.0.0.1:{worker_port}/health",
        work / "worker.log",
    )
    duration = args.n / args.rate
    kill_at = [duration * 0.15, duration * 0.55]
    print(
        f"Reliability benchmark: {args.n} conversations at {args.rate}/s, backend answers "
        f"{args.fault_rate:.0%} with 503 and is killed twice (logs in {work})",
        flush=True,
    )
    # Warm up: import the action code before the clock starts (Rasa's action server has it
    # loaded too), so that the first conversations do not block the event loop.
    import actions.dialogue  # noqa: F401
    from buergerassistent.catalogue import default_catalogue

    default_catalogue()
    try:
        backend.start()
        worker.start()
        results = asyncio.run(drive(args.n, args.rate, backend, kill_at, down_s=2.0))
        chaos = results.pop("_chaos")

        from buergerassistent.submission.outbox import PENDING, Outbox

        outbox = Outbox.from_url(env["OUTBOX_DATABASE_URL"])
        deadline = time.monotonic() + 180
        while outbox.counts().get(PENDING) and time.monotonic() < deadline:
            time.sleep(0.5)
        entries = {e.id: e for e in outbox.all()}
        pending_left = outbox.counts().get(PENDING, 0)

        from sqlalchemy import create_engine, text

        engine = create_engine(portal_db, future=True)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT data FROM applications")).scalars().all()
        import json

        per_marker: dict[str, int] = {}
        for data in rows:
            marker = (json.loads(data) if isinstance(data, str) else data).get("nachname", "")
            if marker.startswith("Bench-"):
                per_marker[marker] = per_marker.get(marker, 0) + 1
        markers = {r["marker"] for r in results.values()}
        submitted = len(results)
        landed = sum(1 for m in markers if per_marker.get(m))
        duplicates = sum(c - 1 for c in per_marker.values() if c > 1)
        lost = submitted - landed
        latencies = [
            (e.delivered_at - e.confirmed_at).total_seconds() for e in entries.values() if e.delivered_at is not None
        ]
        inline = sum(1 for r in results.values() if r["inline"])
        saved = sum(1 for r in results.values() if r["saved"])
        attempts = sum(e.attempts for e in entries.values())
        print(f"backend: {'; '.join(chaos)}")
        print(f"submitted={submitted}")
        print(f"landed={landed}")
        print(f"duplicates={duplicates}")
        print(f"lost={lost}")
        print(f"still_pending={pending_left}")
        print(f"case number in the same reply: {inline}; told 'saved, will follow': {saved}")
        print(f"delivery attempts: {attempts} for {len(entries)} applications")
        print(
            "confirmation → receipt: "
            f"p50={percentile(latencies, 50):.2f} s  p95={percentile(latencies, 95):.2f} s  "
            f"max={max(latencies):.2f} s"
        )
        ok = submitted == args.n and landed == submitted and duplicates == 0 and lost == 0
        return 0 if ok else 1
    finally:
        worker.stop()
        backend.stop()


if __name__ == "__main__":
    sys.exit(main())
