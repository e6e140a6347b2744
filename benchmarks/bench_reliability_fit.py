"""Reliability of submission over FIT-Connect: nothing lost, nothing doubled, while the route fails.

``make bench-reliability`` runs it after the reference run
(``python -m benchmarks.bench_reliability_fit [--n 200]``).

What runs: the FIT-Connect TEST DOUBLE (``tests/support/fit_connect_double.py``; FIT-Connect
itself is not reachable from here) as its own process, answering 10 % of requests with 503
(half of them after the request took effect) and letting 5 % run into the client timeout
(half of them after taking effect); the real FIT-Connect backend, outbox and delivery worker
(in this process); N confirmed applications of the test procedure
``tests/data/fit_connect/procedures/fit_testantrag.yaml`` (mapped onto the shipped FIM schema),
each tried once right away like the chat does (``delivery.attempt(announce=True)``), every 10th
confirmed twice. The worker then delivers the rest.

Prints: submitted (applications confirmed), landed (distinct applications the destination
decrypted and accepted), duplicates (submissions beyond one per application), lost (confirmed
but never landed), announced (submissions announced at the route, including ones a lost answer
left unsent — FIT-Connect drops those; they never reach the authority) and the time from
confirmation to receipt (p50/p95/max).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

# The same process helpers and percentile as the reference run, so both print comparable figures.
from benchmarks.bench_reliability import free_port, percentile, wait_healthy

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "data" / "fit_connect"


async def run(n: int, workdir: Path, fail_rate: float, slow_rate: float) -> dict:
    os.environ.setdefault("SUBMISSION_RETRY_BASE_S", "0.2")
    os.environ.setdefault("SUBMISSION_RETRY_MAX_S", "2")
    os.environ.setdefault("BA_VAR_DIR", str(workdir))
    from buergerassistent.settings import reload_settings

    reload_settings()
    from buergerassistent import fim_mapping
    from buergerassistent.catalogue import load_catalogue
    from buergerassistent.storage import make_engine
    from buergerassistent.submission import delivery
    from buergerassistent.submission.fit_connect import FitConnectBackend, SubmissionStore
    from buergerassistent.submission.outbox import PENDING, Outbox
    from delivery_worker.worker import DeliveryWorker, RasaNotifier

    catalogue = load_catalogue(FIXTURES / "procedures")
    proc = catalogue["fit_testantrag"]
    schema_uri = fim_mapping.mapping_for(proc).schema.uri
    port, secret = free_port(), secrets.token_urlsafe(16)
    base = f"http://127.0.0.1:{port}"
    double = subprocess.Popen(
        [
            sys.executable,
            str(REPO_ROOT / "tests" / "support" / "fit_connect_double.py"),
            f"--port={port}",
            f"--leika={proc.leika}",
            "--ars=091620000000",
            f"--schema-uri={schema_uri}",
            f"--fail-rate={fail_rate}",
            f"--slow-rate={slow_rate}",
            "--slow-s=3",
            f"--client-secret={secret}",
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdout=(workdir / "double.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_healthy(base + "/_double/stats")
        url = f"sqlite:///{workdir / 'outbox.db'}"
        outbox = Outbox.from_url(url)
        backend = FitConnectBackend(
            store=SubmissionStore(make_engine(url)),
            catalogue=catalogue,
            submission_url=base,
            routing_url=base,
            token_url=base + "/token",
            signature_jwks_url=base + "/ssp/.well-known/jwks.json",
            client_id="sender-client-id",
            client_secret=secret,
            timeout_s=1.5,
        )
        ids = []
        inline = []

        async def confirm(i: int) -> None:
            application_id = str(uuid.uuid4())
            ids.append(application_id)
            data = {
                "vorname": "Erika",
                "nachname": f"Bench-{i:04d}",
                "strasse": "Marienplatz 8",
                "plz": "80331",
                "ort": "München",
            }
            for _ in range(2 if i % 10 == 0 else 1):  # every 10th: a double click
                entry = await asyncio.to_thread(outbox.enqueue, application_id, proc.id, data, f"bench-{i}")
                if entry.state == PENDING:
                    tried = await delivery.attempt(outbox, backend, application_id, announce=True, budget_s=6)
                    if tried is not None and tried.state != PENDING:
                        inline.append(application_id)  # the case number in the same reply

        sem = asyncio.Semaphore(8)

        async def limited(i: int) -> None:
            async with sem:
                await confirm(i)

        # The worker runs from the start, as in production (its own process there).
        worker = DeliveryWorker(outbox, backend, RasaNotifier(url=""), concurrency=8, poll_s=0.1)
        task = asyncio.create_task(worker.run_forever())
        t0 = time.monotonic()
        await asyncio.gather(*(limited(i) for i in range(n)))
        deadline = time.monotonic() + 600
        while outbox.counts().get(PENDING, 0) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        worker.stop()
        await task
        elapsed = time.monotonic() - t0
        await backend.close()
        with urllib.request.urlopen(base + "/_double/stats", timeout=5) as resp:
            stats = json.load(resp)
        entries = outbox.all()
        latencies = [(e.delivered_at - e.confirmed_at).total_seconds() for e in entries if e.delivered_at]
        refs = [r for r in stats["references"] if r in set(ids)]
        return {
            "submitted": len(ids),
            "landed": len(set(refs)),
            "duplicates": stats["submitted"] - stats["distinct_references"],
            "lost": len(set(ids) - set(refs)),
            "announced": stats["announced"],
            "inline": len(inline),
            "rejected": sum(1 for e in entries if e.state == "rejected"),
            "problems": len(stats["problems"]),
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies or [float("nan")]),
            "elapsed": elapsed,
        }
    finally:
        os.killpg(double.pid, signal.SIGTERM)
        double.wait(timeout=15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_reliability_fit", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--fail-rate", type=float, default=0.10)
    parser.add_argument("--slow-rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as tmp:
        r = asyncio.run(run(args.n, Path(tmp), args.fail_rate, args.slow_rate))
    print(
        f"FIT-Connect (double, {args.fail_rate:.0%} 503, {args.slow_rate:.0%} timeouts): "
        f"submitted={r['submitted']} landed={r['landed']} duplicates={r['duplicates']} lost={r['lost']}"
    )
    print(
        f"announced={r['announced']} (unsent announcements are dropped by the route) inline={r['inline']} "
        f"rejected={r['rejected']} destination_problems={r['problems']}"
    )
    print(
        f"confirmation → receipt: p50={r['p50']:.2f}s p95={r['p95']:.2f}s max={r['max']:.2f}s; "
        f"whole run {r['elapsed']:.1f}s"
    )
    ok = r["landed"] == r["submitted"] and r["duplicates"] == 0 and r["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
