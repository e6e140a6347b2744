"""Life situations: how often the recogniser takes a message, and how fast.

    python -m benchmarks.bench_life_situations

On the discovery test set (``tests/data/discovery/testset.yml``, both splits and the
out-of-catalogue questions; never used to write the triggers) it prints how many messages the
chat would answer with a life-situation checklist instead of the procedure ranking, and for
those whether the labelled procedure is one of the checklist's steps (the citizen then reaches
it in one more turn) or not (a miss). Out-of-catalogue questions taken by a life situation are
listed too. Then the recognition latency (p50/p95 over all messages, 5 rounds).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path

import yaml

from buergerassistent.life_situations import default_life_situations

TESTSET = Path(__file__).resolve().parent.parent / "tests" / "data" / "discovery" / "testset.yml"


def main() -> None:
    data = yaml.safe_load(TESTSET.read_text(encoding="utf-8"))
    labelled = [(t, pid) for pid, splits in data["procedures"].items() for ts in splits.values() for t in ts]
    ooc = data.get("out_of_catalogue") or {}
    unlabelled = [t for ts in (ooc.values() if isinstance(ooc, dict) else [ooc]) for t in ts]

    t0 = time.perf_counter()
    situations = default_life_situations()
    build = time.perf_counter() - t0

    taken = Counter()
    covered = missed = 0
    misses = []
    for text, pid in labelled:
        found = situations.recognise(text)
        if found is None:
            continue
        taken[found.id] += 1
        if pid in {s.procedure for s in found.steps}:
            covered += 1
        else:
            missed += 1
            misses.append((text, pid, found.id))
    ooc_taken = [(t, s.id) for t in unlabelled if (s := situations.recognise(t)) is not None]

    print(f"life situations: {len(situations)}; loading with the catalogue and discovery: {build:.2f} s")
    print(f"labelled procedure questions: {len(labelled)}; answered with a checklist: {sum(taken.values())}")
    print(f"  labelled procedure is a step of the checklist: {covered}; not a step (miss): {missed}")
    for sid, n in sorted(taken.items()):
        print(f"    {sid:16} {n}")
    for text, pid, sid in misses:
        print(f"  miss: {text!r} → {sid} (expected {pid})")
    print(f"out-of-catalogue questions: {len(unlabelled)}; answered with a checklist: {len(ooc_taken)}")
    for text, sid in ooc_taken:
        print(f"  {text!r} → {sid}")

    texts = [t for t, _ in labelled] + unlabelled
    timings = []
    for _ in range(5):
        for text in texts:
            start = time.perf_counter()
            situations.recognise(text)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"recognition per message: p50 {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms ({len(timings)} calls)")


if __name__ == "__main__":
    main()
